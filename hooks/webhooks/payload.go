package webhooks

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/internal/prepared"
)

// selectOrderItems reads an order's items for its events: the fields of
// orderItem, in its order.
var selectOrderItems = "SELECT " + strings.Join(quoteNames(append([]string{"id"}, c.WebhookItemFields...)...), ", ") +
	" FROM " + prepared.QuoteName(c.OrderItems) + " WHERE " + prepared.QuoteName(c.ItemOrder) + " = ? ORDER BY " +
	prepared.QuoteName(c.ItemCreated) + ", " + prepared.QuoteName("id")

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
func (w *Webhooks) orderData(app core.App, order *core.Record) (map[string]any, error) {
	items := []orderItem{}
	err := w.stmts.Query(app, selectOrderItems, []any{order.Id}, func(rows *sql.Rows) error {
		var it orderItem
		if err := rows.Scan(&it.ID, &it.Product, &it.ProductName, &it.UnitPrice, &it.Quantity, &it.EstimatedArrival); err != nil {
			return err
		}
		items = append(items, it)
		return nil
	})
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
