//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

const webhookSecret = "whsec_e2e_shopdash"

// signedEvent is a Stripe event around object, signed as Stripe would.
func signedEvent(t *testing.T, id, eventType string, object map[string]any) ([]byte, string) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": eventType, "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret})
	return signed.Payload, signed.Header
}

// TestCheckoutPayAndRefundAgainstStripeMock drives the binary through a
// whole purchase with stripe-mock as Stripe: checkout, the signed
// completion webhook, then a cancel that refunds.
func TestCheckoutPayAndRefundAgainstStripeMock(t *testing.T) {
	stripeURL := startStripeMock(t)
	s := startShop(t, "STRIPE_SECRET_KEY=sk_test_e2e", "STRIPE_API_BASE="+stripeURL, "STRIPE_WEBHOOK_SECRET="+webhookSecret)
	token := s.signIn("customer@example.com")

	status, list := s.call(http.MethodGet, `/api/collections/products/records?filter=(digital=false%26%26stock>2)&perPage=1`, token, nil)
	if status != http.StatusOK || len(list["items"].([]any)) == 0 {
		t.Fatalf("products: %d %v", status, list)
	}
	product := list["items"].([]any)[0].(map[string]any)

	status, out := s.call(http.MethodPost, "/api/v1/checkout", token,
		map[string]any{"items": []map[string]any{{"product": product["id"], "quantity": 2}}})
	if status != http.StatusCreated {
		t.Fatalf("checkout: %d %v", status, out)
	}
	sessionID, _ := out["session_id"].(string)
	checkoutURL, _ := out["checkout_url"].(string)
	order := out["order"].(map[string]any)
	orderID := order["id"].(string)
	if !strings.HasPrefix(sessionID, "cs_") || checkoutURL == "" || order["status"] != "pending" ||
		order["total"].(float64) != 2*product["price"].(float64) {
		t.Fatalf("checkout answered %v", out)
	}
	t.Logf("checkout: order %s, session %s, url %s", orderID, sessionID, checkoutURL)

	// A browser asking for HTML is sent straight to Stripe.
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/checkout",
		strings.NewReader(`{"items":[{"product":"`+product["id"].(string)+`","quantity":1}]}`))
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/html")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "" {
		t.Fatalf("browser checkout: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}

	// Stripe reports the payment.
	payload, signature := signedEvent(t, "evt_e2e_paid", "checkout.session.completed", map[string]any{
		"id": sessionID, "object": "checkout.session", "client_reference_id": orderID,
		"metadata": map[string]string{"order_id": orderID}, "payment_status": "paid", "status": "complete",
		"payment_intent": "pi_e2e_1", "customer": "cus_e2e_1",
		"amount_total": order["total"], "currency": order["currency"],
	})
	for range 3 { // Stripe repeats itself; the effect happens once
		status, out = s.call(http.MethodPost, "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", signature)
		if status != http.StatusOK {
			t.Fatalf("webhook: %d %v", status, out)
		}
	}
	status, _ = s.call(http.MethodPost, "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", "t=1,v1=forged")
	if status != http.StatusBadRequest {
		t.Fatalf("forged signature answered %d, want 400", status)
	}
	status, out = s.call(http.MethodGet, "/api/collections/orders/records/"+orderID, token, nil)
	if status != http.StatusOK || out["status"] != "paid" || out["stripe_payment_intent"] != "pi_e2e_1" {
		t.Fatalf("order after payment: %d %v", status, out)
	}

	// The customer cancels: stripe-mock refunds the payment.
	status, out = s.call(http.MethodPost, "/api/v1/orders/"+orderID+"/cancel", token, map[string]string{"reason": "changed my mind"})
	if status != http.StatusOK || out["status"] != "cancelled" || !strings.HasPrefix(out["stripe_refund"].(string), "re_") {
		t.Fatalf("cancel: %d %v", status, out)
	}
	t.Logf("cancelled with refund %s", out["stripe_refund"])
}

// TestPaymentRoutesWithoutStripeKeys: the shop runs without Stripe and
// says which variable is missing.
func TestPaymentRoutesWithoutStripeKeys(t *testing.T) {
	s := startShop(t)
	token := s.signIn("customer@example.com")
	status, out := s.call(http.MethodPost, "/api/v1/checkout", token, map[string]any{"items": []map[string]any{{"product": "x", "quantity": 1}}})
	if status != http.StatusServiceUnavailable || !strings.Contains(out["message"].(string), "STRIPE_SECRET_KEY") {
		t.Fatalf("checkout without keys: %d %v", status, out)
	}
	status, out = s.call(http.MethodPost, "/api/v1/stripe/webhook", "", []byte(`{}`))
	if status != http.StatusServiceUnavailable || !strings.Contains(out["message"].(string), "STRIPE_WEBHOOK_SECRET") {
		t.Fatalf("webhook without secret: %d %v", status, out)
	}
}
