//go:build e2e

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestStaffPaymentRoutesWithoutStripe: a shop without Stripe keys still
// serves support and store, and the staff routes that need Stripe (push a
// product again, refund an order) answer 503 with a message that names the
// missing variable, changing nothing (CONTRACT §1 and §5). The JS SDK suite
// covers the same routes with stripe-mock as Stripe.
func TestStaffPaymentRoutesWithoutStripe(t *testing.T) {
	s := startShop(t)
	store := s.signIn("store@example.com")
	support := s.signIn("support@example.com")
	status, out := s.call(http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": superuserEmail, "password": superuserPassword})
	if status != http.StatusOK {
		t.Fatalf("superuser sign-in: %d %v", status, out)
	}
	superuser := out["token"].(string)

	// Push: 503, and the product keeps its Stripe state.
	status, out = s.call(http.MethodGet, "/api/collections/products/records?perPage=1&sort=name", store, nil)
	if status != http.StatusOK {
		t.Fatalf("store lists products: %d %v", status, out)
	}
	product := out["items"].([]any)[0].(map[string]any)
	id := product["id"].(string)
	status, out = s.call(http.MethodPost, "/api/v1/products/"+id+"/push", store, map[string]any{})
	if status != http.StatusServiceUnavailable || !strings.Contains(out["message"].(string), "STRIPE_SECRET_KEY") {
		t.Fatalf("push without Stripe: want 503 naming STRIPE_SECRET_KEY, got %d %v", status, out)
	}
	status, out = s.call(http.MethodGet, "/api/collections/products/records/"+id, store, nil)
	if status != http.StatusOK || out["stripe_sync"] != product["stripe_sync"] {
		t.Fatalf("the refused push changed stripe_sync from %q: %d %v", product["stripe_sync"], status, out)
	}
	if status, _ := s.call(http.MethodPost, "/api/v1/products/"+id+"/push", support, map[string]any{}); status != http.StatusForbidden {
		t.Fatalf("support pushes: want 403, got %d", status)
	}

	// Refund: a paid order with a Stripe payment on record (as a superuser
	// would fix one by hand) gets 503, and nothing is refunded.
	filter := url.QueryEscape(`status = "paid"`)
	status, out = s.call(http.MethodGet, "/api/collections/orders/records?perPage=1&filter="+filter, support, nil)
	if status != http.StatusOK || len(out["items"].([]any)) == 0 {
		t.Fatalf("support lists paid orders: %d %v", status, out)
	}
	order := out["items"].([]any)[0].(map[string]any)["id"].(string)
	status, out = s.call(http.MethodPatch, "/api/collections/orders/records/"+order, superuser,
		map[string]any{"stripe_payment_intent": "pi_e2e_without_stripe"})
	if status != http.StatusOK {
		t.Fatalf("superuser sets the payment intent: %d %v", status, out)
	}
	status, out = s.call(http.MethodPost, "/api/v1/orders/"+order+"/refund", support, map[string]any{"amount": 100, "reason": "test"})
	if status != http.StatusServiceUnavailable || !strings.Contains(out["message"].(string), "STRIPE_SECRET_KEY") {
		t.Fatalf("refund without Stripe: want 503 naming STRIPE_SECRET_KEY, got %d %v", status, out)
	}
	status, out = s.call(http.MethodGet, "/api/collections/orders/records/"+order, support, nil)
	if status != http.StatusOK || out["status"] != "paid" || out["refunded_amount"] != float64(0) {
		t.Fatalf("the refused refund changed the order: %d %v", status, out)
	}
}
