package pb_migrations

import (
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
	return app.Save(notes)
}

func dropStaffConsole(app core.App) error {
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
