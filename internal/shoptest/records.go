package shoptest

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
)

// MoveOrder changes an order's status the way the shop does: saved in a
// transaction, which the outbox row joins.
func MoveOrder(t *testing.T, app core.App, id string, status c.OrderStatus) {
	t.Helper()
	err := app.RunInTransaction(func(tx core.App) error {
		order, err := tx.FindRecordById(c.Orders, id)
		if err != nil {
			return err
		}
		order.Set(c.OrderStatusField, string(status))
		if status == c.StatusShipped {
			// An order ships with a carrier and a tracking number (CONTRACT §5).
			order.Set(c.OrderCarrier, "DHL")
			order.Set(c.OrderTrackingNumber, "TRK123")
		}
		return tx.Save(order)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func EmailJobs(t *testing.T, app core.App, order string) []*core.Record {
	t.Helper()
	jobs, err := app.FindAllRecords(c.EmailJobs, dbx.HashExp{c.EmailJobOrder: order})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// SaveUser loads a user, changes it and saves it as the shop would.
func SaveUser(t *testing.T, app core.App, id string, change func(*core.Record)) {
	t.Helper()
	user, err := app.FindRecordById(c.Users, id)
	if err != nil {
		t.Fatal(err)
	}
	change(user)
	if err := app.Save(user); err != nil {
		t.Fatal(err)
	}
}

// SetStatus puts an order in a status without going through the hooks, as
// a test's starting point.
func SetStatus(tb testing.TB, app core.App, order string, status c.OrderStatus) {
	tb.Helper()
	_, err := app.DB().Update(c.Orders, dbx.Params{c.OrderStatusField: string(status)}, dbx.HashExp{"id": order}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
}

// RecordingFactory is Factory for an ApiScenario that looks at the
// queries of its request: it sets *queries to RecordQueries of the app it
// makes, before the app serves.
func RecordingFactory(queries *func(fragments ...string) string) func(testing.TB) *tests.TestApp {
	return func(tb testing.TB) *tests.TestApp {
		app := Factory(tb)
		*queries = RecordQueries(app)
		return app
	}
}

// RecordQueries keeps every SQL query the app runs from now on; the
// returned func finds the last one that contains all the fragments. Call
// it before the app serves (RecordingFactory for a scenario): its workers
// query from then on, and setting the log under them is a data race.
func RecordQueries(app *tests.TestApp) (last func(fragments ...string) string) {
	var mu sync.Mutex
	var seen []string
	record := func(_ context.Context, _ time.Duration, q string, _ *sql.Rows, _ error) {
		mu.Lock()
		seen = append(seen, q)
		mu.Unlock()
	}
	// Reads go to the concurrent pool, reads inside a transaction to the
	// writer's connection.
	app.ConcurrentDB().(*dbx.DB).QueryLogFunc = record
	app.NonconcurrentDB().(*dbx.DB).QueryLogFunc = record
	return func(fragments ...string) string {
		mu.Lock()
		defer mu.Unlock()
	next:
		for i := len(seen) - 1; i >= 0; i-- {
			for _, f := range fragments {
				if !strings.Contains(seen[i], f) {
					continue next
				}
			}
			return seen[i]
		}
		return ""
	}
}

// QueryPlan is SQLite's EXPLAIN QUERY PLAN of a query, one step a line.
func QueryPlan(t testing.TB, app core.App, query string) string {
	t.Helper()
	if query == "" {
		t.Fatal("the query was not seen")
	}
	var plan []struct {
		Detail string `db:"detail"`
	}
	if err := app.DB().NewQuery("EXPLAIN QUERY PLAN " + query).All(&plan); err != nil {
		t.Fatal(err)
	}
	steps := make([]string, len(plan))
	for i, p := range plan {
		steps[i] = p.Detail
	}
	return strings.Join(steps, "\n")
}
