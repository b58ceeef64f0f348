package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

func init() {
	m.Register(addStaffConsole, dropStaffConsole)
}

// addStaffConsole adds what support works with (CONTRACT §5): shipping
// details, the dates of each status, refunded amounts, the receipt link,
// and the order_notes collection.
//
// Orders refunded before this step were refunded in whole (the shop had no
// partial refunds): their refunded_amount is their total, and their
// refunded_at the time of their last update, the best record there is.
func addStaffConsole(app core.App) error {
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	orders.Fields.Add(
		&core.TextField{Name: c.OrderCarrier, Max: 100},
		&core.TextField{Name: c.OrderTrackingNumber, Max: 100},
		&core.URLField{Name: c.OrderTrackingURL},
		&core.DateField{Name: c.OrderShippedAt},
		&core.DateField{Name: c.OrderDeliveredAt},
		&core.DateField{Name: c.OrderRefundedAt},
		&core.NumberField{Name: c.OrderRefundedAmount, OnlyInt: true, Min: minimum(0)},
		&core.URLField{Name: c.OrderReceiptURL},
	)
	if err := app.Save(orders); err != nil {
		return err
	}
	_, err = app.DB().NewQuery(`UPDATE {{orders}} SET [[refunded_amount]] = [[total]], [[refunded_at]] = [[updated]]
		WHERE [[status]] = 'refunded' OR ([[status]] = 'cancelled' AND [[stripe_refund]] != '')`).Execute()
	if err != nil {
		return err
	}

	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	notes := core.NewBaseCollection(c.OrderNotes)
	notes.ListRule = types.Pointer(c.OrderNotesListRule)
	notes.ViewRule = types.Pointer(c.OrderNotesViewRule)
	notes.CreateRule = types.Pointer(c.OrderNotesCreateRule)
	notes.Fields.Add(
		&core.RelationField{Name: c.NoteOrder, CollectionId: orders.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		&core.RelationField{Name: c.NoteAuthor, CollectionId: users.Id, MaxSelect: 1},
		&core.TextField{Name: c.NoteBody, Min: 1, Max: c.NoteMaxLength, Required: true},
		&core.AutodateField{Name: c.NoteCreated, OnCreate: true},
	)
	notes.AddIndex("idx_order_notes_order", false, c.NoteOrder+", "+c.NoteCreated, "")
	if err := app.Save(notes); err != nil {
		return err
	}
	return addStaffRateLimits(app)
}

// staffRateLimits are per client IP, and a shop's support team often works
// from one office IP: reading order timelines is generous, the actions
// that call Stripe (cancel, refund, push again) less so.
var staffRateLimits = []core.RateLimitRule{
	{Label: "GET /api/v1/orders/", Duration: 60, MaxRequests: 600, Audience: core.RateLimitRuleAudienceAuth},
	{Label: "POST /api/v1/orders/", Duration: 60, MaxRequests: 120, Audience: core.RateLimitRuleAudienceAuth},
	{Label: "POST /api/v1/products/", Duration: 60, MaxRequests: 120, Audience: core.RateLimitRuleAudienceAuth},
}

func addStaffRateLimits(app core.App) error {
	s, err := app.Settings().Clone()
	if err != nil {
		return err
	}
	// Before the general rules: the first prefix rule that matches wins.
	s.RateLimits.Rules = append(slices.Clone(staffRateLimits), withoutStaffRules(s.RateLimits.Rules)...)
	return app.Save(s)
}

func withoutStaffRules(rules []core.RateLimitRule) []core.RateLimitRule {
	return slices.DeleteFunc(slices.Clone(rules), func(r core.RateLimitRule) bool {
		return slices.ContainsFunc(staffRateLimits, func(staff core.RateLimitRule) bool { return staff.Label == r.Label })
	})
}

func dropStaffRateLimits(app core.App) error {
	s, err := app.Settings().Clone()
	if err != nil {
		return err
	}
	s.RateLimits.Rules = withoutStaffRules(s.RateLimits.Rules)
	return app.Save(s)
}

func dropStaffConsole(app core.App) error {
	if err := dropStaffRateLimits(app); err != nil {
		return err
	}
	notes, err := app.FindCollectionByNameOrId(c.OrderNotes)
	if err == nil {
		if err := app.Delete(notes); err != nil {
			return err
		}
	}
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	for _, f := range []string{c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL, c.OrderShippedAt,
		c.OrderDeliveredAt, c.OrderRefundedAt, c.OrderRefundedAmount, c.OrderReceiptURL} {
		orders.Fields.RemoveByName(f)
	}
	return app.Save(orders)
}
