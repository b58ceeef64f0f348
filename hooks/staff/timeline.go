// Package staff serves what support needs beyond the records API: an
// order's timeline, gathered from the order, the audit log, the notes and
// the outbox, so the staff page (pb_public/staff/) asks once instead of
// reading four collections, two of which support may not list; and the
// customer lookup by email, which PocketBase's records API keeps to
// superusers.
package staff

import (
	"net/http"
	"sort"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/access"
)

// Register binds support's routes: GET /api/v1/orders/{id}/timeline and
// GET /api/v1/customers.
func Register(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		v1 := access.V1(se)
		v1.GET("/orders/{id}/timeline", timeline).Bind(access.SignedIn(), access.RequirePermission(c.PermUpdateOrders))
		v1.GET("/customers", searchCustomers).Bind(access.SignedIn(), access.RequirePermission(c.PermUpdateOrders))
		return se.Next()
	})
}

// Entry is one event in an order's life. Kind is created, paid, shipped,
// delivered, cancelled, refunded (the statuses, from the order's dates),
// refund (each refund, whole or part), change (another staff change),
// note or email. Actor is who did it: a person's name and email, "Stripe",
// or "" for the shop itself. Text says it in English; Data holds the
// details a page shows in its own language (reason, amount, carrier,
// tracking number, template, email status, note body).
type Entry struct {
	At    types.DateTime `json:"at"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Text  string         `json:"text"`
	Data  map[string]any `json:"data"`
}

// timelineDepth is how many of the newest audit entries, notes and emails
// an order's timeline reads of each.
const timelineDepth = 500

// statusDates are the order's date of each status, in the order of an
// order's life.
var statusDates = []struct {
	kind, field, text string
}{
	{"paid", c.OrderPaidAt, "Paid"},
	{"shipped", c.OrderShippedAt, "Shipped"},
	{"delivered", c.OrderDeliveredAt, "Delivered"},
	{"cancelled", c.OrderCancelledAt, "Cancelled"},
	{"refunded", c.OrderRefundedAt, "Refunded in full"},
}

// timeline answers the order's entries, oldest first.
func timeline(e *core.RequestEvent) error {
	order, err := e.App.FindRecordById(c.Orders, e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	entries, err := orderTimeline(e.App, order)
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"items": entries})
}

func orderTimeline(app core.App, order *core.Record) ([]Entry, error) {
	names := actorNames{app: app, known: map[string]string{}}
	entries := []Entry{{At: order.GetDateTime(c.OrderCreated), Kind: "created", Actor: names.of(c.AuditRef(c.Users, order.GetString(c.OrderUser))),
		Text: "Order placed", Data: map[string]any{"total": order.GetInt(c.OrderTotal), "currency": order.GetString(c.OrderCurrency)}}}

	// Who moved the order to each status, from the audit log; a status
	// with no entry was Stripe's (paid, refunded) or the shop's own.
	audits, err := app.FindRecordsByFilter(c.AuditLog, "target = {:target}", "-created", timelineDepth, 0,
		dbx.Params{"target": c.AuditRef(c.Orders, order.Id)})
	if err != nil {
		return nil, err
	}
	movedBy := map[string]string{}
	for _, a := range audits {
		data := auditData(a)
		switch a.GetString(c.AuditAction) {
		case "order.refund":
			to, _ := data["to"].(string)
			if to == string(c.StatusRefunded) {
				movedBy["refunded"] = a.GetString(c.AuditActor)
			}
			entries = append(entries, Entry{At: a.GetDateTime(c.AuditCreated), Kind: "refund", Actor: names.of(a.GetString(c.AuditActor)),
				Text: "Refund", Data: pick(data, "amount", "currency", "reason", "refunded_amount")})
		case "order.cancel":
			movedBy["cancelled"] = a.GetString(c.AuditActor)
		case "order.update":
			if status, ok := data[c.OrderStatusField].(map[string]any); ok {
				if to, ok := status["to"].(string); ok {
					movedBy[to] = a.GetString(c.AuditActor)
				}
			}
			if changed := changedBesidesStatus(data); len(changed) > 0 {
				entries = append(entries, Entry{At: a.GetDateTime(c.AuditCreated), Kind: "change", Actor: names.of(a.GetString(c.AuditActor)),
					Text: "Changed " + strings.Join(changed, ", "), Data: map[string]any{"fields": changed}})
			}
		}
	}
	for _, s := range statusDates {
		at := order.GetDateTime(s.field)
		if at.IsZero() {
			continue
		}
		mover := movedBy[s.kind]
		if s.kind == "refunded" && mover == "" && c.NewOrder(order).Status() == c.StatusCancelled {
			mover = movedBy["cancelled"] // a paid order's cancel refunds it
		}
		actor := names.of(mover)
		if mover == "" && (s.kind == "paid" || s.kind == "refunded") {
			actor = "Stripe"
		}
		data := map[string]any{}
		switch s.kind {
		case "shipped":
			data = pick(order.PublicExport(), c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL)
		case "cancelled":
			data = map[string]any{"reason": order.GetString(c.OrderCancelReason)}
		}
		entries = append(entries, Entry{At: at, Kind: s.kind, Actor: actor, Text: s.text, Data: data})
	}

	notes, err := app.FindRecordsByFilter(c.OrderNotes, "order = {:order}", "-created", timelineDepth, 0, dbx.Params{"order": order.Id})
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		entries = append(entries, Entry{At: n.GetDateTime(c.NoteCreated), Kind: "note",
			Actor: names.of(c.AuditRef(c.Users, n.GetString(c.NoteAuthor))), Text: "Note", Data: map[string]any{"body": n.GetString(c.NoteBody)}})
	}

	emails, err := app.FindRecordsByFilter(c.EmailJobs, "order = {:order}", "-created", timelineDepth, 0, dbx.Params{"order": order.Id})
	if err != nil {
		return nil, err
	}
	for _, m := range emails {
		at := m.GetDateTime(c.EmailJobSentAt)
		if at.IsZero() {
			at = m.GetDateTime(c.EmailJobCreated)
		}
		entries = append(entries, Entry{At: at, Kind: "email", Text: "Email " + m.GetString(c.EmailJobTemplate) + " " + m.GetString(c.EmailJobStatus),
			Data: map[string]any{"template": m.GetString(c.EmailJobTemplate), "status": m.GetString(c.EmailJobStatus),
				"attempts": m.GetInt(c.EmailJobAttempts)}})
	}

	// The order was placed first, whatever the clocks say: paid_at is
	// Stripe's event time, in whole seconds, and may read a little earlier
	// than the order's creation in milliseconds.
	placed := entries[0].At
	for i := range entries {
		if entries[i].At.Time().Before(placed.Time()) {
			entries[i].At = placed
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.Time().Before(entries[j].At.Time()) })
	return entries, nil
}

// auditData is an audit entry's data as a map.
func auditData(entry *core.Record) map[string]any {
	data := map[string]any{}
	_ = entry.UnmarshalJSONField(c.AuditData, &data)
	return data
}

// changedBesidesStatus lists what a staff change changed other than the
// status, which has its own entry.
func changedBesidesStatus(data map[string]any) []string {
	var fields []string
	if names, ok := data["fields"].([]any); ok {
		for _, n := range names {
			if name, _ := n.(string); name != "" && name != c.OrderStatusField && !isShippingField(name) {
				fields = append(fields, name)
			}
		}
	}
	sort.Strings(fields)
	return fields
}

// isShippingField: the shipping details go with the shipped entry.
func isShippingField(name string) bool {
	return name == c.OrderCarrier || name == c.OrderTrackingNumber || name == c.OrderTrackingURL ||
		name == c.OrderShippedAt || name == c.OrderDeliveredAt
}

func pick(from map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := from[k]; ok {
			out[k] = v
		}
	}
	return out
}

// actorNames turns audit actors ("users/ID", "_superusers/ID", "cli") into
// what support reads: a person's name and email, "a superuser", or the
// actor as it is.
type actorNames struct {
	app   core.App
	known map[string]string
}

func (n actorNames) of(actor string) string {
	if name, ok := n.known[actor]; ok {
		return name
	}
	collection, id, found := strings.Cut(actor, "/")
	name := actor
	switch {
	case !found:
	case collection == core.CollectionNameSuperusers:
		name = "a superuser"
	case collection == c.Users && id == "":
		name = "a deleted account"
	case collection == c.Users:
		name = "a deleted account"
		if user, err := n.app.FindRecordById(c.Users, id); err == nil {
			name = strings.TrimSpace(user.GetString(c.UserName) + " <" + user.Email() + ">")
		}
	}
	n.known[actor] = name
	return name
}
