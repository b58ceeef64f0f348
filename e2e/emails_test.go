//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startMailpit starts Mailpit and returns its SMTP URL and its API base.
func startMailpit(t *testing.T) (smtpURL, api string) {
	t.Helper()
	smtp, web := freeAddr(t), freeAddr(t)
	start(t, nil, tool(t, "mailpit"), "--smtp", smtp, "--listen", web)
	waitFor(t, "http://"+web+"/api/v1/info")
	return "smtp://" + smtp, "http://" + web
}

// mailpitMessage is what Mailpit's API tells of a message.
type mailpitMessage struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	To      []struct {
		Address string `json:"Address"`
	} `json:"To"`
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// waitForEmail polls Mailpit until a message to the address arrives whose
// subject holds about, and returns it whole.
func waitForEmail(t *testing.T, api, to, about string) mailpitMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Messages []mailpitMessage `json:"messages"`
		}
		getJSON(t, api+"/api/v1/messages", &list)
		for _, m := range list.Messages {
			if len(m.To) > 0 && m.To[0].Address == to && strings.Contains(m.Subject, about) {
				var full mailpitMessage
				getJSON(t, api+"/api/v1/message/"+m.ID, &full)
				return full
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no email to %s about %q within 15 s", to, about)
	return mailpitMessage{}
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

// TestPaidOrderEmailReachesMailpit: a signed checkout.session.completed
// sent to the binary becomes an order_paid email, in the customer's
// language (customer2 speaks Spanish), through a real SMTP server.
func TestPaidOrderEmailReachesMailpit(t *testing.T) {
	stripeURL := startStripeMock(t)
	smtpURL, mailpit := startMailpit(t)
	s := startShop(t, "STRIPE_SECRET_KEY=sk_test_e2e", "STRIPE_API_BASE="+stripeURL,
		"STRIPE_WEBHOOK_SECRET="+webhookSecret, "SHOPDASH_SMTP_URL="+smtpURL)
	token := s.signIn("customer2@example.com")

	_, list := s.call(http.MethodGet, `/api/collections/products/records?filter=(digital=false%26%26stock>0)&perPage=1`, token, nil)
	product := list["items"].([]any)[0].(map[string]any)
	status, out := s.call(http.MethodPost, "/api/v1/checkout", token,
		map[string]any{"items": []map[string]any{{"product": product["id"], "quantity": 1}}})
	if status != http.StatusCreated {
		t.Fatalf("checkout: %d %v", status, out)
	}
	order := out["order"].(map[string]any)
	orderID, number := order["id"].(string), order["number"].(string)

	payload, signature := signedEvent(t, "evt_e2e_mail", "checkout.session.completed", map[string]any{
		"id": out["session_id"], "object": "checkout.session", "client_reference_id": orderID,
		"metadata": map[string]string{"order_id": orderID}, "payment_status": "paid", "payment_intent": "pi_e2e_mail",
		"amount_total": order["total"], "currency": order["currency"],
	})
	if status, out := s.call(http.MethodPost, "/api/v1/stripe/webhook", "", payload, "Stripe-Signature", signature); status != http.StatusOK {
		t.Fatalf("webhook: %d %v", status, out)
	}

	msg := waitForEmail(t, mailpit, "customer2@example.com", number)
	if !strings.Contains(msg.Subject, "Tu pedido "+number+" está confirmado") {
		t.Errorf("subject %q, want the Spanish receipt of %s", msg.Subject, number)
	}
	for _, want := range []string{"Hola, Robin Cliente", product["name"].(string), "Total", "USD"} {
		if !strings.Contains(msg.Text, want) || !strings.Contains(msg.HTML, want) {
			t.Errorf("the email lacks %q:\n%s", want, msg.Text)
		}
	}
	t.Logf("Mailpit received %q", msg.Subject)

	// Support refunds 1.25 of it: the customer is told, in Spanish, with
	// the amount.
	support := s.signIn("support@example.com")
	status, out = s.call(http.MethodPost, "/api/v1/orders/"+orderID+"/refund", support, map[string]any{"amount": 125, "reason": "Scratched box"})
	if status != http.StatusOK || out["status"] != "paid" || out["refunded_amount"] != float64(125) {
		t.Fatalf("partial refund: %d %v", status, out)
	}
	msg = waitForEmail(t, mailpit, "customer2@example.com", "Hemos reembolsado parte de tu pedido "+number)
	for _, want := range []string{"Reembolsado ahora: 1,25 USD", "Reembolsado en total: 1,25 USD"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("the partial refund email lacks %q:\n%s", want, msg.Text)
		}
	}
	t.Logf("Mailpit received %q", msg.Subject)
}
