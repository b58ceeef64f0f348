package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addStockAndClaims, dropStockAndClaims)
}

// addStockAndClaims adds what keeps money and stock right under races:
// the stock each order item holds, the claim of an order being cancelled
// or refunded, an invoice's discount, and the outcome of each Stripe event.
//
// Items of orders that the shop's checkout made and that were paid before
// this step took their stock at payment: they are marked as holding it, so
// a cancel gives it back. Pending orders of before reserved nothing and
// take their stock when paid.
func addStockAndClaims(app core.App) error {
	items, err := app.FindCollectionByNameOrId(c.OrderItems)
	if err != nil {
		return err
	}
	items.Fields.Add(&core.NumberField{Name: c.ItemStockTaken, OnlyInt: true, Min: minimum(0), Hidden: true})
	if err := app.Save(items); err != nil {
		return err
	}

	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	orders.Fields.Add(
		&core.NumberField{Name: c.OrderDiscount, OnlyInt: true, Min: minimum(0)},
		&core.TextField{Name: c.OrderClaim, Max: 64, Hidden: true},
		&core.DateField{Name: c.OrderClaimedAt, Hidden: true},
	)
	if err := app.Save(orders); err != nil {
		return err
	}

	events, err := app.FindCollectionByNameOrId(c.StripeEvents)
	if err != nil {
		return err
	}
	events.Fields.Add(
		&core.SelectField{Name: c.StripeEventStatus, MaxSelect: 1, Values: []string{"applied", "mismatched", "failed"}},
		&core.TextField{Name: c.StripeEventReason, Max: 500},
	)
	events.AddIndex("idx_stripe_events_status", false, c.StripeEventStatus, c.StripeEventStatus+" != 'applied'")
	if err := app.Save(events); err != nil {
		return err
	}

	if _, err := app.DB().NewQuery("UPDATE {{stripe_events}} SET [[status]] = 'applied' WHERE [[status]] = ''").Execute(); err != nil {
		return err
	}
	_, err = app.DB().NewQuery(`UPDATE {{order_items}} SET [[stock_taken]] = [[quantity]]
		WHERE [[order]] IN (SELECT [[id]] FROM {{orders}} WHERE [[status]] IN ('paid', 'shipped', 'delivered') AND [[stripe_session]] != '')
		AND [[product]] IN (SELECT [[id]] FROM {{products}} WHERE [[digital]] = FALSE)`).Execute()
	return err
}

func dropStockAndClaims(app core.App) error {
	for collection, fields := range map[string][]string{
		c.OrderItems:   {c.ItemStockTaken},
		c.Orders:       {c.OrderDiscount, c.OrderClaim, c.OrderClaimedAt},
		c.StripeEvents: {c.StripeEventStatus, c.StripeEventReason},
	} {
		col, err := app.FindCollectionByNameOrId(collection)
		if err != nil {
			return err
		}
		for _, f := range fields {
			col.Fields.RemoveByName(f)
		}
		col.RemoveIndex("idx_stripe_events_status")
		if err := app.Save(col); err != nil {
			return err
		}
	}
	return nil
}
