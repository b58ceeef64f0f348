//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// What the restore tests share: a shop served from a data dir they made,
// checkouts and their payments sent as Stripe sends them, and a look into
// a restored data.db.

// serveDir serves an existing data dir (a restored one) until the test ends.
func serveDir(t *testing.T, dir string, env ...string) *shop {
	t.Helper()
	addr := freeAddr(t)
	start(t, append(env, "SHOPDASH_APP_URL=http://"+addr), binary, "serve", "--dir", dir, "--http", addr)
	waitFor(t, "http://"+addr+"/api/health")
	return &shop{t: t, url: "http://" + addr}
}

// runBinary runs a shopdash command to its end.
func runBinary(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("shopdash %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// superuser signs the test superuser in.
func (s *shop) superuser() string {
	s.t.Helper()
	status, out := s.call(http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": superuserEmail, "password": superuserPassword})
	if status != http.StatusOK {
		s.t.Fatalf("superuser sign-in: %d %v", status, out)
	}
	return out["token"].(string)
}

// liftRateLimits turns PocketBase's rate limits off: a burst from one
// test address would meet checkout's 30 a minute.
func (s *shop) liftRateLimits(admin string) {
	s.t.Helper()
	if status, out := s.call(http.MethodPatch, "/api/settings", admin, map[string]any{"rateLimits": map[string]any{"enabled": false}}); status != http.StatusOK {
		s.t.Fatalf("lift rate limits: %d %v", status, out)
	}
}

// stockedProduct gives a physical product the stock and returns its id.
func (s *shop) stockedProduct(admin string, stock int) string {
	s.t.Helper()
	_, list := s.call(http.MethodGet, `/api/collections/products/records?filter=(digital=false%26%26active=true)&perPage=1`, admin, nil)
	id := list["items"].([]any)[0].(map[string]any)["id"].(string)
	if status, out := s.call(http.MethodPatch, "/api/collections/products/records/"+id, admin, map[string]any{"stock": stock}); status != http.StatusOK {
		s.t.Fatalf("set stock: %d %v", status, out)
	}
	return id
}

// payment is a checkout of one unit and the Stripe event that pays it.
type payment struct {
	Order, Session, Event string
	Total                 float64
	Currency              string
}

// checkout buys one unit of the product; safe in goroutines.
func (s *shop) checkout(token, product string) (payment, error) {
	body := fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, product)
	status, out, err := s.post("/api/v1/checkout", []byte(body), "Authorization", token)
	if err != nil || status != http.StatusCreated {
		return payment{}, fmt.Errorf("checkout: %d %v %v", status, out, err)
	}
	order := out["order"].(map[string]any)
	return payment{
		Order: order["id"].(string), Session: out["session_id"].(string), Event: "evt_" + order["id"].(string),
		Total: order["total"].(float64), Currency: order["currency"].(string),
	}, nil
}

// paidEvent is the checkout.session.completed event of a payment, as
// Stripe would send it and list it.
func (p payment) paidEvent(created time.Time) map[string]any {
	return map[string]any{
		"id": p.Event, "object": "event", "type": "checkout.session.completed", "api_version": stripe.APIVersion,
		"created": created.Unix(), "livemode": false,
		"data": map[string]any{"object": map[string]any{
			"id": p.Session, "object": "checkout.session", "client_reference_id": p.Order,
			"metadata": map[string]string{"order_id": p.Order}, "status": "complete", "payment_status": "paid",
			"payment_intent": "pi_" + p.Order, "amount_total": p.Total, "currency": p.Currency,
		}},
	}
}

// deliver posts a Stripe event to the webhook, signed; an answer other
// than 200 is an error. Safe in goroutines.
func (s *shop) deliver(event map[string]any) (int, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return 0, err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret})
	status, out, err := s.post("/api/v1/stripe/webhook", signed.Payload, "Stripe-Signature", signed.Header)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("webhook: %d %v", status, out)
	}
	return status, err
}

// post sends a JSON body and decodes the answer, without failing the
// test: it runs in goroutines, and against a shop that may be killed.
func (s *shop) post(path string, body []byte, header, value string) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, nil
}

// restoredState is what a restored data.db holds, read straight from
// SQLite.
type restoredState struct {
	Integrity string
	// Status is every order's status by id.
	Status map[string]string
	// Ledger counts the rows of stripe_events by event id.
	Ledger map[string]int
	// PaidEmails counts the order_paid emails by order id.
	PaidEmails map[string]int
	// Broken lists orders whose items do not add up to their count and
	// total.
	Broken []string
}

// readRestored opens a data.db and reads its state and invariants.
func readRestored(t *testing.T, path string) restoredState {
	t.Helper()
	db, err := core.DefaultDBConnect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := restoredState{Status: map[string]string{}, Ledger: map[string]int{}, PaidEmails: map[string]int{}}
	if err := db.NewQuery("PRAGMA integrity_check").Row(&st.Integrity); err != nil {
		t.Fatal(err)
	}
	var orders []struct {
		ID     string `db:"id"`
		Status string `db:"status"`
	}
	if err := db.Select("id", "status").From("orders").All(&orders); err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		st.Status[o.ID] = o.Status
	}
	var events []struct {
		ID string `db:"event_id"`
		N  int    `db:"n"`
	}
	if err := db.Select("event_id", "count(*) AS n").From("stripe_events").GroupBy("event_id").All(&events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		st.Ledger[e.ID] = e.N
	}
	var emails []struct {
		Order string `db:"order"`
		N     int    `db:"n"`
	}
	if err := db.Select("[[order]]", "count(*) AS n").From("email_jobs").
		Where(dbx.HashExp{"template": "order_paid"}).GroupBy("[[order]]").All(&emails); err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		st.PaidEmails[e.Order] = e.N
	}
	// Every order's items add up to its unit count and total.
	if err := db.NewQuery(`SELECT o.id || ': ' || o.item_count || ' units, ' || o.total || ' total; items ' ||
			coalesce(sum(i.quantity), 0) || ' units, ' || coalesce(sum(i.unit_price * i.quantity), 0)
		FROM orders o LEFT JOIN order_items i ON i.[[order]] = o.id
		GROUP BY o.id
		HAVING count(i.id) = 0 OR o.item_count != sum(i.quantity) OR o.total != sum(i.unit_price * i.quantity)`).Column(&st.Broken); err != nil {
		t.Fatal(err)
	}
	return st
}
