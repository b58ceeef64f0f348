package seed

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

// ordersPerTransaction bounds each write transaction, so a large seed does
// not hold SQLite's write lock for its whole run.
const ordersPerTransaction = 2000

type seededItem struct {
	id, productID, productName string
	unitPrice, quantity        int
	arrival                    time.Time
}

type seededOrder struct {
	id, number, userID string
	customer           seededCustomer
	status             c.OrderStatus
	created            time.Time
	items              []seededItem
}

// createOrders writes every customer's orders with raw prepared inserts in
// batched transactions: the records API path costs ~400 µs an order, which
// would make a 100,000-order load seed take most of a minute. The values
// obey the same rules the hooks enforce (items carry their order's user,
// totals add up, statuses fit their age).
func (g *generator) createOrders(app core.App) (orders, items int, err error) {
	g.numbers = map[string]bool{}
	var batch []seededOrder
	flush := func() error {
		if err := insertOrders(app, batch); err != nil {
			return err
		}
		for _, o := range batch {
			items += len(o.items)
		}
		orders += len(batch)
		batch = batch[:0]
		return nil
	}
	for _, cust := range g.customers {
		for _, o := range g.customerOrders(cust) {
			batch = append(batch, o)
			if len(batch) == ordersPerTransaction {
				if err := flush(); err != nil {
					return orders, items, err
				}
			}
		}
	}
	if len(batch) > 0 {
		err = flush()
	}
	return orders, items, err
}

// customerOrders makes one customer's orders, newest first. The five newest
// cover pending, paid (with a digital item), shipped, cancelled and refunded,
// so every customer shows every status; older orders were delivered, with a
// few cancelled or refunded.
func (g *generator) customerOrders(cust seededCustomer) []seededOrder {
	n := g.opts.OrdersPerCustomer
	window := time.Duration(g.opts.Months) * 30 * 24 * time.Hour
	ages := make([]time.Duration, n)
	for i := range ages {
		ages[i] = time.Duration(g.rng.Int64N(int64(window)))
	}
	slices.Sort(ages)
	forced := []struct {
		status c.OrderStatus
		maxAge time.Duration
	}{
		{c.StatusPending, 6 * time.Hour},
		{c.StatusPaid, 2 * 24 * time.Hour},
		{c.StatusShipped, 5 * 24 * time.Hour},
		{c.StatusCancelled, window},
		{c.StatusRefunded, window},
	}
	out := make([]seededOrder, 0, n)
	for i, age := range ages {
		var status c.OrderStatus
		if i < len(forced) {
			status = forced[i].status
			age = min(age, time.Duration(g.rng.Int64N(int64(forced[i].maxAge))))
		} else {
			status = g.statusForAge(age)
		}
		o := seededOrder{
			id:       g.id(),
			number:   g.orderNumber(),
			userID:   cust.id,
			customer: cust,
			status:   status,
			created:  g.opts.Now.Add(-age).Truncate(time.Millisecond),
		}
		o.items = g.orderItems(o.created, status == c.StatusPaid && i == 1)
		out = append(out, o)
	}
	return out
}

func (g *generator) statusForAge(age time.Duration) c.OrderStatus {
	day := 24 * time.Hour
	switch roll := g.rng.IntN(100); {
	case age < 2*day:
		return c.StatusPaid
	case age < 7*day:
		return c.StatusShipped
	case roll < 7:
		return c.StatusCancelled
	case roll < 11:
		return c.StatusRefunded
	default:
		return c.StatusDelivered
	}
}

func (g *generator) orderNumber() string {
	for {
		n := c.FormatOrderNumber(g.rng.Uint64())
		if !g.numbers[n] {
			g.numbers[n] = true
			return n
		}
	}
}

// orderItems picks 1–5 distinct active products; withDigital makes sure
// one of them is a download.
func (g *generator) orderItems(created time.Time, withDigital bool) []seededItem {
	var chosen []seededProduct
	if withDigital {
		chosen = append(chosen, g.randomProduct(func(p seededProduct) bool { return p.digital }))
	}
	for want := 1 + g.rng.IntN(5); len(chosen) < want; {
		p := g.randomProduct(func(p seededProduct) bool { return true })
		if !slices.ContainsFunc(chosen, func(q seededProduct) bool { return q.id == p.id }) {
			chosen = append(chosen, p)
		}
	}
	items := make([]seededItem, len(chosen))
	for i, p := range chosen {
		item := seededItem{id: g.id(), productID: p.id, productName: p.name, unitPrice: p.price, quantity: 1}
		if !p.digital {
			item.quantity = 1 + g.rng.IntN(3)
			item.arrival = created.Add(time.Duration(3+g.rng.IntN(6)) * 24 * time.Hour).Truncate(24 * time.Hour)
		}
		items[i] = item
	}
	return items
}

func (g *generator) randomProduct(ok func(seededProduct) bool) seededProduct {
	for {
		p := g.products[g.rng.IntN(len(g.products))]
		if p.active && ok(p) {
			return p
		}
	}
}

func insertOrders(app core.App, orders []seededOrder) error {
	return app.RunInTransaction(func(tx core.App) error {
		orderQ := tx.DB().NewQuery(`INSERT INTO orders (id, number, user, status, total, currency, item_count,
			estimated_arrival, customer_name, customer_email, shipping_address, paid_at, cancelled_at, cancel_reason,
			carrier, tracking_number, shipped_at, delivered_at, refunded_at, refunded_amount, created, updated)
			VALUES ({:id}, {:number}, {:user}, {:status}, {:total}, {:currency}, {:item_count}, {:estimated_arrival},
			{:customer_name}, {:customer_email}, {:shipping_address}, {:paid_at}, {:cancelled_at}, {:cancel_reason},
			{:carrier}, {:tracking_number}, {:shipped_at}, {:delivered_at}, {:refunded_at}, {:refunded_amount}, {:created}, {:created})`).Prepare()
		defer orderQ.Close()
		itemQ := tx.DB().NewQuery(`INSERT INTO order_items (id, "order", user, product, product_name, unit_price, quantity, estimated_arrival, created)
			VALUES ({:id}, {:order}, {:user}, {:product}, {:product_name}, {:unit_price}, {:quantity}, {:estimated_arrival}, {:created})`).Prepare()
		defer itemQ.Close()

		for _, o := range orders {
			if _, err := orderQ.Bind(o.params()).Execute(); err != nil {
				return fmt.Errorf("order %s: %w", o.id, err)
			}
			for _, it := range o.items {
				_, err := itemQ.Bind(dbx.Params{
					"id": it.id, "order": o.id, "user": o.userID, "product": it.productID,
					"product_name": it.productName, "unit_price": it.unitPrice, "quantity": it.quantity,
					"estimated_arrival": dateString(it.arrival), "created": dateString(o.created),
				}).Execute()
				if err != nil {
					return fmt.Errorf("item %s of order %s: %w", it.id, o.id, err)
				}
			}
		}
		return nil
	})
}

func (o seededOrder) params() dbx.Params {
	var total, count int
	var arrival time.Time
	for _, it := range o.items {
		total += it.unitPrice * it.quantity
		count += it.quantity
		if it.arrival.After(arrival) {
			arrival = it.arrival
		}
	}
	var paidAt, cancelledAt time.Time
	reason := ""
	if o.status != c.StatusPending && o.status != c.StatusCancelled {
		paidAt = o.created.Add(2 * time.Minute)
	}
	if o.status == c.StatusCancelled {
		cancelledAt = o.created.Add(3 * time.Hour)
		reason = "Changed my mind"
	}
	// Shipping details and the dates of each status, derived from the order
	// (not drawn from the generator, so the rest of the data stays as it was).
	var carrier, tracking string
	var shippedAt, deliveredAt, refundedAt time.Time
	refunded := 0
	if o.status == c.StatusShipped || o.status == c.StatusDelivered {
		carrier = seedCarriers[int(o.number[len(o.number)-1])%len(seedCarriers)]
		tracking = "TRK" + strings.ReplaceAll(o.number, "-", "")
		shippedAt = o.created.Add(20 * time.Hour)
	}
	if o.status == c.StatusDelivered {
		deliveredAt = o.created.Add(4 * 24 * time.Hour)
	}
	if o.status == c.StatusRefunded {
		refundedAt, refunded = o.created.Add(2*24*time.Hour), total
	}
	address, _ := json.Marshal(o.customer.address)
	return dbx.Params{
		"carrier": carrier, "tracking_number": tracking, "shipped_at": dateString(shippedAt),
		"delivered_at": dateString(deliveredAt), "refunded_at": dateString(refundedAt), "refunded_amount": refunded,
		"id": o.id, "number": o.number, "user": o.userID, "status": string(o.status),
		"total": total, "currency": c.DefaultCurrency, "item_count": count,
		"estimated_arrival": dateString(arrival),
		"customer_name":     o.customer.name, "customer_email": o.customer.email,
		"shipping_address": string(address),
		"paid_at":          dateString(paidAt), "cancelled_at": dateString(cancelledAt), "cancel_reason": reason,
		"created": dateString(o.created),
	}
}

// seedCarriers are the carriers of seeded shipments.
var seedCarriers = []string{"DHL", "UPS", "Correos", "La Poste"}

// dateString formats a time as PocketBase stores it; the zero time is "".
func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d, _ := types.ParseDateTime(t)
	return d.String()
}
