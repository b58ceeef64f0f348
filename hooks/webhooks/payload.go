package webhooks

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// orderItem is an item in an order event's data.
type orderItem struct {
	ID               string `db:"id" json:"id"`
	Product          string `db:"product" json:"product"`
	ProductName      string `db:"product_name" json:"product_name"`
	UnitPrice        int    `db:"unit_price" json:"unit_price"`
	Quantity         int    `db:"quantity" json:"quantity"`
	EstimatedArrival string `db:"estimated_arrival" json:"estimated_arrival"`
}

// orderData is the data of an order event: the order as support's page
// shows it (its items, the customer as ordered, shipping and tracking, the
// status dates), read in app's transaction, with its updated time so that
// a receiver can drop a delivery older than one it has (deliveries are not
// ordered).
func orderData(app core.App, order *core.Record) (map[string]any, error) {
	items := []orderItem{}
	err := app.DB().Select(append([]string{"id"}, c.WebhookItemFields...)...).
		From(c.OrderItems).Where(dbx.HashExp{c.ItemOrder: order.Id}).OrderBy(c.ItemCreated, "id").All(&items)
	if err != nil {
		return nil, fmt.Errorf("items of order %s: %w", order.Id, err)
	}
	data := map[string]any{
		"id": order.Id,
		"customer": map[string]any{
			"id":    order.GetString(c.OrderUser),
			"email": order.GetString(c.OrderCustomerEmail),
			"name":  order.GetString(c.OrderCustomerName),
		},
		"items": items,
	}
	for _, f := range c.WebhookOrderFields {
		data[f] = order.Get(f)
	}
	return data, nil
}

// productData is the data of a product event: the product as store
// people see it (the file fields are file names).
func productData(product *core.Record) map[string]any {
	data := map[string]any{"id": product.Id}
	for _, f := range c.WebhookProductFields {
		data[f] = product.Get(f)
	}
	return data
}
