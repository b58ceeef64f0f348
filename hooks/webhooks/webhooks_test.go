package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/jobs"
	"shopdash/hooks/webhooks"
	"shopdash/internal/shoptest"
)

// hit is one request a receiver got.
type hit struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is an endpoint under test: it answers each request with what
// answer says for the request's number (from 0) and keeps what it got.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.hits)
		rc.hits = append(rc.hits, hit{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body})
		rc.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// webhookShop is a shop that may post to local receivers, with a short
// retry schedule; pass runs the worker's job once.
func webhookShop(t testing.TB, cfg hooks.Config) (*tests.TestApp, func() jobs.JobRun) {
	t.Helper()
	cfg.AppURL = shoptest.AppURL
	cfg.WebhooksAllowPrivate = true
	if cfg.WebhookRetries == nil {
		cfg.WebhookRetries = []time.Duration{0, 0, 0, 0}
	}
	app, runner := shoptest.NewAppWithJobs(t, cfg)
	t.Cleanup(app.Cleanup)
	return app, func() jobs.JobRun {
		t.Helper()
		run, err := runner.Run(context.Background(), webhooks.JobWebhookOutbox, jobs.RunOptions{Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
}

// addEndpoint saves an active endpoint taking events (all when none).
func addEndpoint(t testing.TB, app core.App, url string, events ...string) *core.Record {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.WebhookEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	ep := core.NewRecord(col)
	ep.Set(c.EndpointURL, url)
	ep.Set(c.EndpointEvents, events)
	ep.Set(c.EndpointActive, true)
	if err := app.Save(ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

func deliveries(t *testing.T, app core.App, where dbx.Expression) []*core.Record {
	t.Helper()
	rows, err := app.FindAllRecords(c.WebhookDeliveries, where)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// verify checks a request's signature the way the spec's receivers do,
// with any of the secrets.
func verify(t *testing.T, h hit, secret string) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.id + "." + h.timestamp + "."))
	mac.Write(h.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// TestDeliveredOnTheThirdAttemptUnderOneID: 500, 500, then 200; every
// attempt carries the same webhook-id, a valid signature and the body.
func TestDeliveredOnTheThirdAttemptUnderOneID(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 2 {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	})
	ep := addEndpoint(t, app, rc.URL, c.EventOrderPaid)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()

	hits := rc.got()
	if len(hits) != 3 {
		t.Fatalf("%d attempts, want 3", len(hits))
	}
	for _, h := range hits {
		if h.id != hits[0].id || !strings.HasPrefix(h.id, "msg_") || !verify(t, h, ep.GetString(c.EndpointSecret)) {
			t.Errorf("attempt %+v: want webhook-id %s and a valid signature", h, hits[0].id)
		}
	}
	var body struct {
		Type, Timestamp string
		Data            map[string]any
	}
	if err := json.Unmarshal(hits[2].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != c.EventOrderPaid || body.Data["id"] != shop.CustomerOrder || body.Data["status"] != "paid" ||
		body.Data["updated"] == "" || len(body.Data["items"].([]any)) == 0 {
		t.Errorf("body = %s", hits[2].body)
	}
	rows := deliveries(t, app, dbx.HashExp{c.DeliveryEndpoint: ep.Id})
	if len(rows) != 1 || rows[0].GetString(c.DeliveryStatus) != c.DeliveryDelivered || rows[0].GetInt(c.DeliveryAttempts) != 3 ||
		rows[0].GetString(c.DeliveryEventID) != hits[0].id || rows[0].GetInt(c.DeliveryLastStatus) != 200 {
		t.Errorf("delivery rows = %v", rows)
	}
}

// TestRolledBackChangeLeavesNoDelivery: the delivery is written in the
// transaction of the change, and no endpoint means no row at all.
func TestRolledBackChangeLeavesNoDelivery(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	shoptest.MoveOrder(t, app, shop.Customer2Order, c.StatusPaid)
	if n := len(deliveries(t, app, nil)); n != 0 {
		t.Fatalf("%d deliveries without an endpoint", n)
	}

	addEndpoint(t, app, "http://127.0.0.1:9/hook")
	errRollback := errors.New("roll back")
	err := app.RunInTransaction(func(tx core.App) error {
		order, err := tx.FindRecordById(c.Orders, shop.CustomerOrder)
		if err != nil {
			return err
		}
		order.Set(c.OrderStatusField, string(c.StatusPaid))
		if err := tx.Save(order); err != nil {
			return err
		}
		if n := len(deliveries(t, tx, nil)); n != 1 {
			t.Errorf("%d deliveries inside the transaction, want 1", n)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n := len(deliveries(t, app, nil)); n != 0 {
		t.Errorf("%d deliveries after the rollback, want none", n)
	}
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	if rows := deliveries(t, app, nil); len(rows) != 1 || rows[0].GetString(c.DeliveryType) != c.EventOrderPaid ||
		rows[0].GetString(c.DeliveryResource) != shop.CustomerOrder {
		t.Errorf("deliveries after the commit = %v, want one order.paid", rows)
	}
}

// TestGoneDisablesTheEndpoint: a 410 disables the endpoint at once and
// nothing more is sent to it.
func TestGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	rc := newReceiver(t, status(http.StatusGone))
	ep := addEndpoint(t, app, rc.URL)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusShipped)
	pass()
	if n := len(rc.got()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	stored, err := app.FindRecordById(c.WebhookEndpoints, ep.Id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.GetBool(c.EndpointActive) || !strings.Contains(stored.GetString(c.EndpointDisabledReason), "410") {
		t.Errorf("endpoint active=%v reason=%q, want disabled for the 410", stored.GetBool(c.EndpointActive), stored.GetString(c.EndpointDisabledReason))
	}
	if rows := deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventOrderPaid}); len(rows) != 1 || rows[0].GetString(c.DeliveryStatus) != c.DeliveryDead {
		t.Errorf("the refused delivery: %v, want dead", rows)
	}
}

// TestRetryAfterIsHonoured: the next attempt waits what the receiver
// asked, past the schedule's wait.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	addEndpoint(t, app, rc.URL)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	if n := len(rc.got()); n != 1 {
		t.Fatalf("%d attempts, want 1 before the Retry-After", n)
	}
	rows := deliveries(t, app, nil)
	next := rows[0].GetDateTime(c.DeliveryNextAttempt).Time()
	if rows[0].GetString(c.DeliveryStatus) != c.DeliveryFailed || time.Until(next) < 100*time.Second {
		t.Errorf("status %s, next attempt in %v, want failed and about 2 minutes", rows[0].GetString(c.DeliveryStatus), time.Until(next))
	}
}

// TestRedirectIsNotFollowed: a 3xx is a failed attempt and its target is
// never asked.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{WebhookRetries: []time.Duration{0}})
	target := newReceiver(t, status(http.StatusOK))
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})
	addEndpoint(t, app, rc.URL)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	if len(target.got()) != 0 {
		t.Error("the redirect was followed")
	}
	rows := deliveries(t, app, nil)
	if rows[0].GetString(c.DeliveryStatus) != c.DeliveryDead || rows[0].GetInt(c.DeliveryLastStatus) != http.StatusTemporaryRedirect {
		t.Errorf("delivery %s last_status %d, want dead after its one attempt with 307", rows[0].GetString(c.DeliveryStatus), rows[0].GetInt(c.DeliveryLastStatus))
	}
}

// TestClaimOfADeadWorkerIsRetried: a delivery claimed by a worker that
// died is sent once its lease ends, under its webhook-id; one whose lease
// still runs is left to its holder.
func TestClaimOfADeadWorkerIsRetried(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	rc := newReceiver(t, status(http.StatusNoContent))
	addEndpoint(t, app, rc.URL, c.EventOrderPaid, c.EventOrderCancelled)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	shoptest.MoveOrder(t, app, shop.Customer2Order, c.StatusCancelled)
	past, future := time.Now().Add(-time.Second).UTC(), time.Now().Add(time.Hour).UTC()
	for kind, lease := range map[string]time.Time{c.EventOrderPaid: past, c.EventOrderCancelled: future} {
		_, err := app.DB().Update(c.WebhookDeliveries, dbx.Params{c.DeliveryClaim: "a-worker-that-died",
			c.DeliveryNextAttempt: lease.Format("2006-01-02 15:04:05.000Z")}, dbx.HashExp{c.DeliveryType: kind}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
	pass()
	hits := rc.got()
	paid := deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventOrderPaid})[0]
	if len(hits) != 1 || hits[0].id != paid.GetString(c.DeliveryEventID) || paid.GetString(c.DeliveryStatus) != c.DeliveryDelivered {
		t.Errorf("hits %v, paid delivery %s: want the expired claim sent once under its id", hits, paid.GetString(c.DeliveryStatus))
	}
	if held := deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventOrderCancelled})[0]; held.GetString(c.DeliveryStatus) != c.DeliveryPending {
		t.Errorf("the delivery under a live lease is %s, want pending", held.GetString(c.DeliveryStatus))
	}
}

// TestEndpointFailingFiveDaysIsDisabled: one more failure after five days
// of them disables the endpoint and alerts the operator.
func TestEndpointFailingFiveDaysIsDisabled(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{AlertEmail: "ops@example.com", WebhookRetries: []time.Duration{0, time.Hour}})
	rc := newReceiver(t, status(http.StatusBadGateway))
	ep := addEndpoint(t, app, rc.URL)
	shoptest.WebhookSetFields(t, app, c.WebhookEndpoints, ep.Id, dbx.Params{
		c.EndpointFailingSince: time.Now().Add(-c.WebhookFailingLimit - time.Hour).UTC().Format("2006-01-02 15:04:05.000Z")})
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	stored, _ := app.FindRecordById(c.WebhookEndpoints, ep.Id)
	if stored.GetBool(c.EndpointActive) || !strings.Contains(stored.GetString(c.EndpointDisabledReason), "Every attempt failed") {
		t.Errorf("endpoint active=%v reason=%q", stored.GetBool(c.EndpointActive), stored.GetString(c.EndpointDisabledReason))
	}
	if alerts := shoptest.AwaitAlerts(app, 1); shoptest.AlertsTo(alerts, "webhook endpoint is disabled") != 1 {
		t.Errorf("alerts: %v", alerts)
	}
}

// TestASuccessEndsTheRunOfFailures: a delivered attempt clears
// failing_since, whether it was set before the process started or by a
// failure this process saw; the days of failures start again after it.
func TestASuccessEndsTheRunOfFailures(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{WebhookRetries: []time.Duration{0, 0}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	ep := addEndpoint(t, app, rc.URL)
	failingSince := func() string {
		stored, err := app.FindRecordById(c.WebhookEndpoints, ep.Id)
		if err != nil {
			t.Fatal(err)
		}
		return stored.GetString(c.EndpointFailingSince)
	}
	shoptest.WebhookSetFields(t, app, c.WebhookEndpoints, ep.Id, dbx.Params{c.EndpointFailingSince: "2026-11-30 10:00:00.000Z"})
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass() // attempt 0 delivered
	if since := failingSince(); since != "" {
		t.Fatalf("failing_since %q after a success, want cleared", since)
	}
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusShipped)
	pass() // attempt 1 fails, attempt 2 delivered
	if hits := rc.got(); len(hits) != 3 {
		t.Fatalf("%d attempts, want 3", len(hits))
	}
	if since := failingSince(); since != "" {
		t.Errorf("failing_since %q after a failure then a success, want cleared", since)
	}
}
