package webhooks_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// BenchmarkOrderPaidWrite is what the payment's writer does per order
// (the order saved paid in a transaction of 32, as the Stripe webhook's
// group commit does) with no endpoint and with three taking order.paid:
// the difference is the outbox's cost on the shop's one writer, without
// the HTTP around it (make bench's outgoing-webhooks case has that).
func BenchmarkOrderPaidWrite(b *testing.B) {
	for _, endpoints := range []int{0, 3} {
		b.Run(fmt.Sprintf("endpoints=%d", endpoints), func(b *testing.B) {
			shop := shoptest.Shop()
			app, pass := webhookShop(b, hooks.Config{})
			for i := range endpoints {
				addEndpoint(b, app, fmt.Sprintf("http://127.0.0.1:9/ep%d", i), c.EventOrderPaid)
			}
			const batch = 32
			n := 0
			for b.Loop() {
				b.StopTimer()
				pass() // as the worker does between transactions: compile what the last one asked for
				orders := make([]*core.Record, batch)
				for i := range orders {
					n++
					copied, _ := copyOrder(b, app, shop.CustomerOrder, fmt.Sprintf("SD-BENCH-%06d", n))
					var err error
					if orders[i], err = app.FindRecordById(c.Orders, copied.Id); err != nil {
						b.Fatal(err)
					}
					if orders[i].GetString(c.OrderStatusField) != string(c.StatusPending) {
						b.Fatalf("copied order is %s", orders[i].GetString(c.OrderStatusField))
					}
				}
				b.StartTimer()
				err := app.RunInTransaction(func(tx core.App) error {
					for _, o := range orders {
						o.Set(c.OrderStatusField, string(c.StatusPaid))
						if err := tx.Save(o); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/order")
		})
	}
}
