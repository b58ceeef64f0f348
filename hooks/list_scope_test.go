package hooks_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// recordQueries keeps every SQL query the app runs from now on; the
// returned func finds the last one that contains all the fragments.
func recordQueries(app *tests.TestApp) (last func(fragments ...string) string) {
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

// TestStripeIdLookupsUseTheirIndexes: the unique indexes on Stripe ids are
// partial (only set ids), so a lookup must state that condition; without
// it SQLite scans every order for each webhook and synced invoice.
func TestStripeIdLookupsUseTheirIndexes(t *testing.T) {
	fake := fakestripe.New(t)
	app := shoptest.NewAppWith(t, shoptest.StripeConfig(fake.URL))
	defer app.Cleanup()
	handler := serveShop(t, app)
	queries := recordQueries(app)
	events := []struct {
		id, kind string
		object   map[string]any
	}{
		{"evt_idx_refund", "charge.refunded", map[string]any{"id": "ch_idx", "object": "charge", "payment_intent": "pi_idx", "refunded": true}},
		{"evt_idx_invoice", "invoice.paid", map[string]any{"id": "in_idx", "object": "invoice", "status": "paid", "currency": "usd",
			"amount_paid": 100, "created": time.Now().Unix(), "customer": "cus_idx"}},
	}
	for _, ev := range events {
		payload, signature := shoptest.StripeEvent(t, ev.id, ev.kind, ev.object)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/stripe/webhook", strings.NewReader(string(payload)))
		req.Header.Set("Stripe-Signature", signature)
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", ev.kind, res.Code, res.Body)
		}
	}
	for field, index := range map[string]string{
		"`stripe_payment_intent`": "idx_orders_stripe_payment_intent",
		"`stripe_invoice`":        "idx_orders_stripe_invoice",
	} {
		plan := queryPlan(t, app, queries("FROM `orders`", field))
		if !strings.Contains(plan, "USING INDEX "+index) {
			t.Errorf("lookup by %s:\n%s\nwant a search of %s", field, plan, index)
		}
	}
	if plan := queryPlan(t, app, queries("FROM `users`", "stripe_customer")); !strings.Contains(plan, "idx_users_stripe_customer") {
		t.Errorf("user lookup by Stripe customer:\n%s", plan)
	}
}
