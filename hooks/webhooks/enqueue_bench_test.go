package webhooks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// BenchmarkOrderPaidWrite is what the payment's writer does per order
// (the order saved paid in a transaction of 32, as the Stripe webhook's
// group commit does) with no endpoint and with three taking order.paid:
// the difference is the outbox's cost on the shop's one writer, without
// the HTTP around it (make bench's outgoing-webhooks case has that). The
// first attempt is an hour away, so the worker sends nothing meanwhile.
//
// Besides the wall time it reports the process's CPU time and the WAL
// written per order: a shared machine sways the wall time by ±15% from
// run to run, the CPU time by a few per cent, and the WAL not at all.
func BenchmarkOrderPaidWrite(b *testing.B) {
	for _, endpoints := range []int{0, 3} {
		b.Run(fmt.Sprintf("endpoints=%d", endpoints), func(b *testing.B) {
			shop := shoptest.Shop()
			app, pass := webhookShop(b, hooks.Config{WebhookRetries: []time.Duration{time.Hour}})
			for i := range endpoints {
				addEndpoint(b, app, fmt.Sprintf("http://127.0.0.1:9/ep%d", i), c.EventOrderPaid)
			}
			const batch = 32
			n := 0
			// No checkpoint while measuring: the WAL then only grows, and
			// its growth is the pages the transactions wrote.
			if _, err := app.NonconcurrentDB().NewQuery("PRAGMA wal_autocheckpoint = 0").Execute(); err != nil {
				b.Fatal(err)
			}
			var walBytes int64
			var cpu time.Duration
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
				walBefore, cpuBefore := walSize(b, app), cpuTime()
				b.StartTimer()
				var err error
				// Labelled, so that a profile can show the transaction alone
				// (go tool pprof -tagfocus write=paid).
				pprof.Do(context.Background(), pprof.Labels("write", "paid"), func(context.Context) {
					err = app.RunInTransaction(func(tx core.App) error {
						for _, o := range orders {
							o.Set(c.OrderStatusField, string(c.StatusPaid))
							if err := tx.Save(o); err != nil {
								return err
							}
						}
						return nil
					})
				})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				walBytes += walSize(b, app) - walBefore
				cpu += cpuTime() - cpuBefore
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*batch), "CPU-µs/order")
			b.ReportMetric(float64(walBytes)/1024/float64(b.N*batch), "WAL-KB/order")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/order")
		})
	}
}

// walSize is the size of app's write-ahead log.
func walSize(b *testing.B, app core.App) int64 {
	info, err := os.Stat(filepath.Join(app.DataDir(), "data.db-wal"))
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// cpuTime is the CPU time the process has used, user and system: unlike
// the wall clock, not counting the time a shared machine gives to others.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		panic(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
