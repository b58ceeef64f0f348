package collections

import "github.com/pocketbase/pocketbase/core"

// OrderItems holds the lines of each order.
const OrderItems = "order_items"

// Fields of order_items. product_name and unit_price are copied from the
// product at purchase; user repeats the order's user so that a customer's
// purchases are one indexed range scan (idx_order_items_user_created).
// stock_taken (hidden) is how many units the item holds of its product's
// stock: reserved at checkout, kept when paid, given back (and zeroed) once
// when the order is cancelled, expires or is refunded before shipping.
const (
	ItemOrder            = "order"
	ItemUser             = "user"
	ItemProduct          = "product"
	ItemProductName      = "product_name"
	ItemUnitPrice        = "unit_price"
	ItemQuantity         = "quantity"
	ItemEstimatedArrival = "estimated_arrival"
	ItemStockTaken       = "stock_taken"
	ItemCreated          = "created"
)

// Access rules of order_items: the same people who see the order see its
// items. Items are written with their order, never through the API.
const (
	OrderItemsListRule = `(user = @request.auth.id && @request.auth.role = "customer") || @request.auth.role = "support"`
	OrderItemsViewRule = OrderItemsListRule
)

// OrderItem is a typed view of an order_items record.
type OrderItem struct {
	core.BaseRecordProxy
}

// NewOrderItem wraps an order_items record.
func NewOrderItem(record *core.Record) *OrderItem {
	i := &OrderItem{}
	i.SetProxyRecord(record)
	return i
}

// OrderID is the id of the item's order.
func (i *OrderItem) OrderID() string { return i.GetString(ItemOrder) }

// ProductID is the id of the product bought.
func (i *OrderItem) ProductID() string { return i.GetString(ItemProduct) }

// ProductName is the product's name at purchase.
func (i *OrderItem) ProductName() string { return i.GetString(ItemProductName) }

// UnitPrice is the price of one unit at purchase, in the order's currency.
func (i *OrderItem) UnitPrice() int { return i.GetInt(ItemUnitPrice) }

// Quantity is the number of units bought.
func (i *OrderItem) Quantity() int { return i.GetInt(ItemQuantity) }

// StockTaken is how many units the item holds of its product's stock.
func (i *OrderItem) StockTaken() int { return i.GetInt(ItemStockTaken) }

// Total is UnitPrice × Quantity.
func (i *OrderItem) Total() int { return i.UnitPrice() * i.Quantity() }
