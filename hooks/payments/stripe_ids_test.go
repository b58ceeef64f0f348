package payments_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// TestStripeIdLookupsUseTheirIndexes: the unique indexes on Stripe ids are
// partial (only set ids), so a lookup must state that condition; without
// it SQLite scans every order for each webhook and synced invoice. So is
// the index of parked refunds (only parked rows), which every payment
// looks in.
func TestStripeIdLookupsUseTheirIndexes(t *testing.T) {
	fake := fakestripe.New(t)
	app := shoptest.NewAppWith(t, shoptest.StripeConfig(fake.URL))
	defer app.Cleanup()
	queries := shoptest.RecordQueries(app) // before serving starts the workers, which query
	handler := shoptest.ServeShop(t, app)
	events := []struct {
		id, kind string
		object   map[string]any
	}{
		{"evt_idx_refund", "charge.refunded", map[string]any{"id": "ch_idx", "object": "charge", "payment_intent": "pi_idx", "refunded": true}},
		// the invoice's new order takes the refund parked for its payment
		{"evt_idx_invoice", "invoice.paid", map[string]any{"id": "in_idx", "object": "invoice", "status": "paid", "currency": "usd",
			"amount_paid": 100, "created": time.Now().Unix(), "customer": "cus_idx", "payment_intent": "pi_idx"}},
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
		plan := shoptest.QueryPlan(t, app, queries("FROM `orders`", "WHERE "+field))
		if !strings.Contains(plan, "USING INDEX "+index) {
			t.Errorf("lookup by %s:\n%s\nwant a search of %s", field, plan, index)
		}
	}
	if plan := shoptest.QueryPlan(t, app, queries("FROM `users`", "stripe_customer")); !strings.Contains(plan, "idx_users_stripe_customer") {
		t.Errorf("user lookup by Stripe customer:\n%s", plan)
	}
	if plan := shoptest.QueryPlan(t, app, queries("FROM `stripe_events`", "`payment_intent` = ")); !strings.Contains(plan, "USING INDEX idx_stripe_events_parked") {
		t.Errorf("lookup of the refunds parked for a payment intent:\n%s", plan)
	}
}
