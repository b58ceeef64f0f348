package hooks_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/shoptest"
)

// recordQueries keeps every SQL query the app runs from now on; the
// returned func finds the last one that contains all the fragments.
func recordQueries(app *tests.TestApp) (last func(fragments ...string) string) {
	var mu sync.Mutex
	var seen []string
	app.ConcurrentDB().(*dbx.DB).QueryLogFunc = func(_ context.Context, _ time.Duration, q string, _ *sql.Rows, _ error) {
		mu.Lock()
		seen = append(seen, q)
		mu.Unlock()
	}
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

// queryPlan is SQLite's EXPLAIN QUERY PLAN of a query, one step a line.
func queryPlan(t testing.TB, app core.App, query string) string {
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

// TestCustomerListsUseTheOwnerIndex lists a customer's orders and items
// through the records API and asks SQLite how it ran the page query: a
// range of the (user, created, id) index, not a scan of every row.
func TestCustomerListsUseTheOwnerIndex(t *testing.T) {
	shop := shoptest.Shop()
	cases := []struct {
		collection, index string
		total             int
	}{
		{"order_items", "idx_order_items_user_created", shop.CustomerItems},
		{"orders", "idx_orders_user_created", shop.CustomerOrders},
	}
	for _, tc := range cases {
		var queries func(...string) string
		s := tests.ApiScenario{
			Name:            tc.collection,
			Method:          http.MethodGet,
			URL:             "/api/collections/" + tc.collection + "/records?sort=-created&filter=" + `created>="2020-01-01"`,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, tc.total)},
			TestAppFactory:  shoptest.Factory,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				queries = recordQueries(app)
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				got := queryPlan(t, app, queries("FROM `"+tc.collection+"`", "LIMIT"))
				if !strings.Contains(got, "USING INDEX "+tc.index) || strings.Contains(got, "SCAN "+tc.collection) {
					t.Fatalf("page query plan:\n%s\nwant a search of %s", got, tc.index)
				}
			},
		}
		s.Test(t)
	}
}
