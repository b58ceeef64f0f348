package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addParkedRefunds, dropParkedRefunds)
}

// The ledger's parked refunds: a charge.refunded that arrives before the
// payment it refunds has reached its order (Stripe does not order its
// deliveries) is recorded with status parked, the payment intent it
// waits for and what it refunded, and applied when an order gains that
// payment intent (hooks/payments/refund_parked.go names these fields).
const (
	parkedStatus        = "parked"
	parkedPaymentIntent = "payment_intent"
	parkedRefund        = "refund"
	parkedIndex         = "idx_stripe_events_parked"
)

// addParkedRefunds adds the status parked, the two fields of a parked
// refund, and the index that finds the refunds parked for a payment
// intent in the order they came (only parked rows are in it).
func addParkedRefunds(app core.App) error {
	events, err := app.FindCollectionByNameOrId(c.StripeEvents)
	if err != nil {
		return err
	}
	status := events.Fields.GetByName(c.StripeEventStatus).(*core.SelectField)
	if !slices.Contains(status.Values, parkedStatus) {
		status.Values = append(status.Values, parkedStatus)
	}
	events.Fields.Add(
		&core.TextField{Name: parkedPaymentIntent, Max: 255},
		&core.JSONField{Name: parkedRefund, MaxSize: 2000},
	)
	events.AddIndex(parkedIndex, false, parkedPaymentIntent+", "+c.StripeEventCreated, c.StripeEventStatus+" = '"+parkedStatus+"'")
	return app.Save(events)
}

// dropParkedRefunds turns the refunds still parked into failed rows that
// say what they waited for, for the operator to apply by hand, and
// removes what addParkedRefunds added.
func dropParkedRefunds(app core.App) error {
	_, err := app.DB().NewQuery(`UPDATE {{stripe_events}}
		SET [[status]] = 'failed', [[reason]] = 'a refund parked for payment intent ' || [[payment_intent]] || ', left unapplied when the migrations were reverted'
		WHERE [[status]] = 'parked'`).Execute()
	if err != nil {
		return err
	}
	events, err := app.FindCollectionByNameOrId(c.StripeEvents)
	if err != nil {
		return err
	}
	status := events.Fields.GetByName(c.StripeEventStatus).(*core.SelectField)
	status.Values = slices.DeleteFunc(status.Values, func(v string) bool { return v == parkedStatus })
	events.RemoveIndex(parkedIndex)
	events.Fields.RemoveByName(parkedPaymentIntent)
	events.Fields.RemoveByName(parkedRefund)
	return app.Save(events)
}
