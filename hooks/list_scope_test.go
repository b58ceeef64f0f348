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
		var mu sync.Mutex
		var pageSQL string
		s := tests.ApiScenario{
			Name:            tc.collection,
			Method:          http.MethodGet,
			URL:             "/api/collections/" + tc.collection + "/records?sort=-created&filter=" + `created>="2020-01-01"`,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, tc.total)},
			TestAppFactory:  shoptest.Factory,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				app.ConcurrentDB().(*dbx.DB).QueryLogFunc = func(_ context.Context, _ time.Duration, q string, _ *sql.Rows, _ error) {
					if strings.Contains(q, "FROM `"+tc.collection+"`") && strings.Contains(q, "LIMIT") {
						mu.Lock()
						pageSQL = q
						mu.Unlock()
					}
				}
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				mu.Lock()
				defer mu.Unlock()
				if pageSQL == "" {
					t.Fatal("the page query was not seen")
				}
				var plan []struct {
					Detail string `db:"detail"`
				}
				if err := app.DB().NewQuery("EXPLAIN QUERY PLAN " + pageSQL).All(&plan); err != nil {
					t.Fatal(err)
				}
				var steps []string
				for _, p := range plan {
					steps = append(steps, p.Detail)
				}
				got := strings.Join(steps, "\n")
				if !strings.Contains(got, "USING INDEX "+tc.index) || strings.Contains(got, "SCAN "+tc.collection) {
					t.Fatalf("page query plan:\n%s\nwant a search of %s", got, tc.index)
				}
			},
		}
		s.Test(t)
	}
}
