//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestStockAndPaymentsHoldAgainstTheBinary: twenty checkouts at once for
// the last two units of a product make two orders, a signed payment event
// that names an order without being its session pays nothing, and
// cancelling the two orders gives exactly the two units back.
func TestStockAndPaymentsHoldAgainstTheBinary(t *testing.T) {
	stripeURL := startStripeMock(t)
	s := startShop(t, "STRIPE_SECRET_KEY=sk_test_e2e", "STRIPE_API_BASE="+stripeURL, "STRIPE_WEBHOOK_SECRET="+webhookSecret)
	status, out := s.call(http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": superuserEmail, "password": superuserPassword})
	if status != http.StatusOK {
		t.Fatalf("superuser sign-in: %d %v", status, out)
	}
	admin := out["token"].(string)
	tokens := []string{s.signIn("customer@example.com"), s.signIn("customer2@example.com")}

	_, list := s.call(http.MethodGet, `/api/collections/products/records?filter=(digital=false%26%26active=true)&perPage=1`, admin, nil)
	product := list["items"].([]any)[0].(map[string]any)
	productID := product["id"].(string)
	if status, out := s.call(http.MethodPatch, "/api/collections/products/records/"+productID, admin, map[string]any{"stock": 2}); status != http.StatusOK {
		t.Fatalf("set stock: %d %v", status, out)
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	codes := map[int]int{}
	var orders []map[string]any
	var sessions []string
	body := []byte(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, productID))
	for i := range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/checkout", bytes.NewReader(body))
			req.Header.Set("Authorization", tokens[i%2])
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var answer map[string]any
			_ = json.NewDecoder(res.Body).Decode(&answer)
			mu.Lock()
			defer mu.Unlock()
			codes[res.StatusCode]++
			if res.StatusCode == http.StatusCreated {
				orders = append(orders, answer["order"].(map[string]any))
				sessions = append(sessions, answer["session_id"].(string))
			}
		})
	}
	wg.Wait()
	t.Logf("20 checkouts at once for 2 units: %v", codes)
	if codes[http.StatusCreated] != 2 || codes[http.StatusBadRequest] != 18 {
		t.Fatalf("answers %v, want 2 × 201 and 18 × 400", codes)
	}
	stock := func() float64 {
		_, p := s.call(http.MethodGet, "/api/collections/products/records/"+productID, admin, nil)
		return p["stock"].(float64)
	}
	if got := stock(); got != 0 {
		t.Fatalf("stock %v after the race, want 0", got)
	}

	// A Payment Link session of 1 JPY naming the first order.
	victim := orders[0]
	payload, signature := signedEvent(t, "evt_e2e_mismatch", "checkout.session.completed", map[string]any{
		"id": "cs_test_attacker", "object": "checkout.session", "client_reference_id": victim["id"],
		"payment_status": "paid", "status": "complete", "amount_total": 1, "currency": "jpy", "payment_intent": "pi_attacker",
	})
	status, out = s.call(http.MethodPost, "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", signature)
	t.Logf("mismatched payment event: %d %v", status, out)
	if status != http.StatusOK || out["status"] != "mismatched" {
		t.Fatalf("mismatched payment answered %d %v, want 200 mismatched", status, out)
	}
	_, order := s.call(http.MethodGet, "/api/collections/orders/records/"+victim["id"].(string), admin, nil)
	if order["status"] != "pending" {
		t.Fatalf("the order is %v after a foreign payment, want pending", order["status"])
	}

	// Its own session pays it; cancelling both gives the two units back.
	payload, signature = signedEvent(t, "evt_e2e_own", "checkout.session.completed", map[string]any{
		"id": sessions[0], "object": "checkout.session", "client_reference_id": victim["id"],
		"payment_status": "paid", "status": "complete", "amount_total": victim["total"], "currency": victim["currency"],
		"payment_intent": "pi_e2e_own",
	})
	if status, out := s.call(http.MethodPost, "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", signature); status != http.StatusOK || out["status"] != "applied" {
		t.Fatalf("own payment answered %d %v", status, out)
	}
	support := s.signIn("support@example.com")
	for _, o := range orders {
		for i := range 2 {
			status, out := s.call(http.MethodPost, "/api/v1/orders/"+o["id"].(string)+"/cancel", support, map[string]string{"reason": "race test"})
			want := map[bool]int{true: http.StatusOK, false: http.StatusConflict}[i == 0]
			if status != want {
				t.Fatalf("cancel %d of %s: %d %v, want %d", i+1, o["id"], status, out, want)
			}
		}
	}
	if got := stock(); got != 2 {
		t.Fatalf("stock %v after cancelling both orders, want 2", got)
	}
}
