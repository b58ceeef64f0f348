package access_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

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
		var queries func(...string) string
		s := tests.ApiScenario{
			Name:            tc.collection,
			Method:          http.MethodGet,
			URL:             "/api/collections/" + tc.collection + "/records?sort=-created&filter=" + `created>="2020-01-01"`,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, tc.total)},
			TestAppFactory:  shoptest.RecordingFactory(&queries),
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				got := shoptest.QueryPlan(t, app, queries("FROM `"+tc.collection+"`", "LIMIT"))
				if !strings.Contains(got, "USING INDEX "+tc.index) || strings.Contains(got, "SCAN "+tc.collection) {
					t.Fatalf("page query plan:\n%s\nwant a search of %s", got, tc.index)
				}
			},
		}
		s.Test(t)
	}
}
