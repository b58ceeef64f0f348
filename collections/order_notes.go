package collections

// OrderNotes holds support's internal notes on orders: append-only, never
// shown to customers or store.
const OrderNotes = "order_notes"

// Fields of order_notes.
const (
	NoteOrder   = "order"
	NoteAuthor  = "author"
	NoteBody    = "body"
	NoteCreated = "created"
)

// NoteMaxLength is the longest note, in characters.
const NoteMaxLength = 2000

// Access rules of order_notes. Support lists, views and creates notes in
// their own name; nobody but a superuser edits or deletes one; customers
// and store see none (realtime included: subscriptions apply the list and
// view rules).
const (
	OrderNotesListRule   = `@request.auth.role = "support"`
	OrderNotesViewRule   = OrderNotesListRule
	OrderNotesCreateRule = `@request.auth.role = "support" && @request.body.author = @request.auth.id`
)
