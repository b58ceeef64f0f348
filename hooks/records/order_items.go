package records

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

func registerOrderItems(app core.App) {
	app.OnRecordCreate(c.OrderItems).BindFunc(copyOrderUserToItem)
	// Only superusers write order items through the API.
	app.OnRecordCreateRequest(c.OrderItems).BindFunc(audit.Writes("order_item"))
	app.OnRecordUpdateRequest(c.OrderItems).BindFunc(audit.Writes("order_item"))
	app.OnRecordDeleteRequest(c.OrderItems).BindFunc(audit.Writes("order_item"))
}

// copyOrderUserToItem keeps order_items.user equal to its order's user: the
// purchases query and the record rules read it instead of joining orders.
func copyOrderUserToItem(e *core.RecordEvent) error {
	order, err := e.App.FindRecordById(c.Orders, e.Record.GetString(c.ItemOrder))
	if err != nil {
		return fmt.Errorf("order of item: %w", err)
	}
	e.Record.Set(c.ItemUser, order.GetString(c.OrderUser))
	return e.Next()
}
