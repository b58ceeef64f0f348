package access_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// guardURL is a records-API list with the given query.
func guardURL(collection string, query url.Values) string {
	return "/api/collections/" + collection + "/records?" + query.Encode()
}

// TestCostlyRecordsQueriesAreRefused: filters, sorts and expands that
// join table after table (the ones that held every reading connection for
// 30 s) get 400 with a field error before they reach SQLite, for guests,
// customers and staff alike; superusers keep the whole language in /_/.
func TestCostlyRecordsQueriesAreRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const deep = `order_items_via_order.product.order_items_via_product.order.order_items_via_order.product_name ?~ "%q%z"`
	refused := func(name, collection string, account shoptest.Account, query url.Values, code string) tests.ApiScenario {
		return tests.ApiScenario{
			Name:            name,
			Method:          http.MethodGet,
			URL:             guardURL(collection, query),
			Headers:         shoptest.Headers(account),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"code":"` + code + `"`},
			TestAppFactory:  shoptest.Factory,
		}
	}
	scenarios := []tests.ApiScenario{
		refused("a customer's deep back-relation filter", "orders", shop.Customer,
			url.Values{"perPage": {"1"}, "filter": {"1=1) || (" + deep}}, "validation_invalid_filter"),
		refused("the same without the escape", "orders", shop.Customer,
			url.Values{"perPage": {"1"}, "filter": {deep}}, "validation_query_too_costly"),
		refused("a guest's back-relations on products", "products", shoptest.Account{},
			url.Values{"filter": {`order_items_via_product.order.order_items_via_order.product_name ~ "x"`}}, "validation_query_too_costly"),
		refused("support's two back-relations", "orders", shop.Support,
			url.Values{"filter": {`order_items_via_order.product_name ~ "x" && email_jobs_via_order.status = "sent"`}}, "validation_query_too_costly"),
		refused("a sort three relations away", "order_items", shop.Support,
			url.Values{"sort": {"order.user.name.first"}}, "validation_query_too_costly"),
		refused("an expand three levels deep", "order_items", shop.Customer,
			url.Values{"expand": {"order.user.x"}}, "validation_query_too_costly"),
		refused("five relations in one filter", "order_items", shop.Support,
			url.Values{"filter": {`order.number != "" && order.user != "" && product.name != "" && product.price > 0 && order.total > 0`}}, "validation_query_too_costly"),
		refused("a filter of 3,000 characters", "products", shoptest.Account{},
			url.Values{"filter": {`name != "` + strings.Repeat("x", 3000) + `"`}}, "validation_query_too_costly"),
		refused("a filter that opens a group it does not close", "products", shoptest.Account{},
			url.Values{"filter": {`(name = "x"`}}, "validation_invalid_filter"),
		refused("back-relations in the older x(y) spelling", "products", shoptest.Account{},
			url.Values{"expand": {"order_items(product).order,order_items(product).user"}}, "validation_query_too_costly"),
		{
			Name:           "a HEAD request, which Go serves through the GET route",
			Method:         http.MethodHead,
			URL:            guardURL("orders", url.Values{"perPage": {"1"}, "filter": {deep}}),
			Headers:        shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusBadRequest,
			TestAppFactory: shoptest.Factory,
		},
		{
			Name:   "a deep expand on a write",
			Method: http.MethodPatch,
			URL: "/api/collections/users/records/" + shop.Customer.ID + "?" + url.Values{"expand": {
				"orders_via_user.order_items_via_order.product.order_items_via_product.order"}}.Encode(),
			Body:            strings.NewReader(`{"order_updates":true}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"code":"validation_query_too_costly"`},
			TestAppFactory:  shoptest.Factory,
		},
		{
			Name:            "one back-relation hop is fine",
			Method:          http.MethodGet,
			URL:             guardURL("orders", url.Values{"filter": {`order_items_via_order.quantity > 0`}}),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"items":[{`},
			TestAppFactory:  shoptest.Factory,
		},
		{
			Name:            "an ordinary customer list with sort and expand",
			Method:          http.MethodGet,
			URL:             guardURL("order_items", url.Values{"sort": {"-created"}, "expand": {"order"}, "filter": {`order.status = "paid"`}}),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"expand":{"order"`},
			TestAppFactory:  shoptest.Factory,
		},
		{
			Name:            "a superuser's deep filter passes",
			Method:          http.MethodGet,
			URL:             guardURL("orders", url.Values{"perPage": {"1"}, "filter": {`order_items_via_order.product.order_items_via_product.quantity > 0`}}),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"totalItems":`},
			TestAppFactory:  shoptest.Factory,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestCustomerFilterCannotEscapeTheOwnerScope: the list scope wraps the
// customer's filter in parentheses; a filter that closes them is refused
// rather than turned into a scan of every order.
func TestCustomerFilterCannotEscapeTheOwnerScope(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, filter := range []string{
		`1=1) || (status != ""`,
		// the filter alone is `status = "paid"` and a comment; wrapped,
		// the comment's ")" closed the parentheses (found by FuzzCheckQueryCost)
		`status = "paid" // ) || (1=1`,
	} {
		s := tests.ApiScenario{
			Name:            filter,
			Method:          http.MethodGet,
			URL:             guardURL("orders", url.Values{"filter": {filter}}),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"filter":{"code":"validation_invalid_filter"`},
			TestAppFactory:  shoptest.Factory,
		}
		s.Test(t)
	}
}

// TestSlowRecordsReadIsCutShort: a records-API read that runs past its
// deadline is interrupted and answered 503, for non-superusers.
func TestSlowRecordsReadIsCutShort(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	slow := func(tb testing.TB) *tests.TestApp {
		cfg := hooks.Config{AppURL: shoptest.AppURL, RecordsReadTimeout: 300 * time.Millisecond}
		app := shoptest.NewAppWith(tb, cfg)
		return app
	}
	s := tests.ApiScenario{
		Method: http.MethodGet,
		// For each of the product's 20,000 items, a look at every other
		// one for a quantity above 5 that none has: minutes of work,
		// within the guard's limits (two hops, one back-relation).
		URL: guardURL("order_items", url.Values{"perPage": {"1"},
			"filter": {`product.order_items_via_product.quantity ?> 5`}}),
		Headers:         shoptest.Headers(shop.Support),
		ExpectedStatus:  http.StatusServiceUnavailable,
		ExpectedContent: []string{`"status":503`, "took longer than"},
		TestAppFactory:  slow,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			guardFillItems(t, app, shop.PhysicalProduct, 20000)
		},
	}
	s.Test(t)
}

// guardFillItems adds n order items of one product to the customer's
// pending order, in one statement.
func guardFillItems(t testing.TB, app *tests.TestApp, product string, n int) {
	t.Helper()
	shop := shoptest.Shop()
	_, err := app.DB().NewQuery(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {:n})
		INSERT INTO order_items (id, [[order]], user, product, product_name, unit_price, quantity, created)
		SELECT printf('filler%09d', i), {:order}, {:user}, {:product}, 'Filler', 100, 1, '2026-01-01 00:00:00.000Z' FROM n`).
		Bind(dbx.Params{"n": n, "order": shop.CustomerOrder, "user": shop.Customer.ID, "product": product}).Execute()
	if err != nil {
		t.Fatal(err)
	}
}
