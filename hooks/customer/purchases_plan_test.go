package customer_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/shoptest"
)

// TestPurchasesPageUsesTheUserIndex asks SQLite how it runs the default
// purchases page (newest first): a range of idx_order_items_user_created
// read in index order, with no scan and no sort of its own. docs/api.md
// records the plan on the 1,000 × 100 shop.
func TestPurchasesPageUsesTheUserIndex(t *testing.T) {
	var queries func(...string) string
	s := tests.ApiScenario{
		Method:          http.MethodGet,
		URL:             "/api/v1/purchases",
		Headers:         shoptest.Headers(shoptest.Shop().Customer),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"page":1`},
		TestAppFactory:  shoptest.RecordingFactory(&queries),
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			page := shoptest.QueryPlan(t, app, queries("FROM `order_items` `i`", "LIMIT"))
			if !strings.Contains(page, "SEARCH i USING INDEX idx_order_items_user_created (user=? AND created>? AND created<?)") ||
				strings.Contains(page, "SCAN") || strings.Contains(page, "TEMP B-TREE") {
				t.Errorf("page plan:\n%s", page)
			}
			count := shoptest.QueryPlan(t, app, queries("SELECT count(*) FROM `order_items` `i`"))
			if !strings.Contains(count, "USING COVERING INDEX idx_order_items_user_created") || strings.Contains(count, "SCAN") {
				t.Errorf("count plan:\n%s", count)
			}
		},
	}
	s.Test(t)
}
