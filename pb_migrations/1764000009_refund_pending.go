package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addRefundPending, dropRefundPending)
}

// addRefundPending adds the hidden refund_pending of orders: the
// idempotency key of a refund asked of Stripe and not recorded yet, so that
// one lost with its process (dead between Stripe's answer and the write) is
// found again instead of paid twice.
func addRefundPending(app core.App) error {
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	orders.Fields.Add(&core.TextField{Name: c.OrderRefundPending, Max: 100, Hidden: true})
	return app.Save(orders)
}

func dropRefundPending(app core.App) error {
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	orders.Fields.RemoveByName(c.OrderRefundPending)
	return app.Save(orders)
}
