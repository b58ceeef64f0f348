package records

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// registerOrderNotes keeps support's notes append-only and clean: the body
// is normalised text (line breaks kept), a note is audited with its order,
// and no path but a superuser's edits or deletes one (the collection has
// no update or delete rule).
func registerOrderNotes(app core.App) {
	app.OnRecordValidate(c.OrderNotes).BindFunc(normaliseNote)
	app.OnRecordCreateRequest(c.OrderNotes).BindFunc(auditNote)
}

func normaliseNote(e *core.RecordEvent) error {
	errs := validation.Errors{}
	normaliseTextField(e.Record, c.NoteBody, c.NormaliseMultiline, errs)
	if len(errs) > 0 {
		return errs
	}
	return e.Next()
}

// auditNote records who wrote a note on which order (not its text, which
// the note keeps).
func auditNote(e *core.RecordRequestEvent) error {
	return audit.Request(e, func() (string, map[string]any) {
		return "order.note", map[string]any{"order": e.Record.GetString(c.NoteOrder)}
	})
}
