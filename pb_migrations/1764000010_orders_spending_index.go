package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(widenOrdersUserIndex, narrowOrdersUserIndex)
}

// widenOrdersUserIndex makes idx_orders_user_created cover the dashboard's
// spending stats (a customer's orders of the last 12 months by status,
// summed by currency): with status, currency and total in the index the
// query reads no order row, about half its time on a customer with 100
// orders (docs/performance.md). Its leading columns stay those every
// other query of a customer's orders uses.
func widenOrdersUserIndex(app core.App) error {
	return setOrdersUserIndex(app, "user, created, id, status, currency, total")
}

func narrowOrdersUserIndex(app core.App) error {
	return setOrdersUserIndex(app, "user, created, id")
}

func setOrdersUserIndex(app core.App, columns string) error {
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	orders.RemoveIndex("idx_orders_user_created")
	orders.AddIndex("idx_orders_user_created", false, columns, "")
	return app.Save(orders)
}
