package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// replayRig is a shop against the fake Stripe, whose customer's pending
// order is WebhookStockOrder's, with its jobs and a handler to post
// webhooks to.
type replayRig struct {
	app     *tests.TestApp
	fake    *fakestripe.Server
	runner  *jobs.Jobs
	handler http.Handler
}

func newReplayRig(t *testing.T) *replayRig {
	t.Helper()
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	t.Cleanup(app.Cleanup)
	shoptest.WebhookStockOrder(t, app)
	return &replayRig{app: app, fake: fake, runner: runner, handler: shoptest.ServeShop(t, app)}
}

// event is a Stripe event around an object, as the Events API lists it.
func replayEvent(id, eventType string, created time.Time, object map[string]any) map[string]any {
	return map[string]any{"id": id, "type": eventType, "created": created.Unix(), "api_version": "2023-10-16",
		"data": map[string]any{"object": object}}
}

// deliver posts the event as Stripe's webhook would, and wants 200.
func (r *replayRig) deliver(t *testing.T, event map[string]any) {
	t.Helper()
	object, _ := json.Marshal(event["data"].(map[string]any)["object"])
	var raw map[string]any
	_ = json.Unmarshal(object, &raw)
	payload, signature := shoptest.StripeEvent(t, event["id"].(string), event["type"].(string), raw)
	req := httptest.NewRequest(http.MethodPost, shoptest.WebhookURL, strings.NewReader(string(payload)))
	req.Header.Set("Stripe-Signature", signature)
	res := httptest.NewRecorder()
	r.handler.ServeHTTP(res, req)
	if res.Code != http.StatusOK {
		t.Fatalf("webhook %s: %d %s", event["id"], res.Code, res.Body)
	}
}

func (r *replayRig) replay(t *testing.T, opts jobs.RunOptions) jobs.JobRun {
	t.Helper()
	if opts.Trigger == "" {
		opts.Trigger = "test"
	}
	run, err := r.runner.Run(context.Background(), payments.JobStripeReplay, opts)
	if err != nil {
		t.Fatalf("replay did not start: %v", err)
	}
	return run
}

// expectCounts checks a run's status and counts.
func expectCounts(t *testing.T, run jobs.JobRun, status string, want jobs.RunCounts) {
	t.Helper()
	if run.Status != status || run.RunCounts != want {
		t.Fatalf("run %s %+v (error %v), want %s %+v", run.Status, run.RunCounts, run.Err, status, want)
	}
}

// ledgerRows counts the ledger's rows for an event id.
func ledgerRows(t *testing.T, r *replayRig, id string) int {
	t.Helper()
	n, err := r.app.CountRecords(c.StripeEvents, dbx.HashExp{c.StripeEventID: id})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func paidEmails(t *testing.T, r *replayRig, order string) int {
	t.Helper()
	n, err := r.app.CountRecords(c.EmailJobs, dbx.HashExp{c.EmailJobOrder: order, c.EmailJobTemplate: c.TemplateOrderPaid})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestReplayAppliesWhatWasNeverDelivered: an order's payment whose webhook
// never arrived (or whose ledger row was lost with a machine) is applied
// once by the replay, with its email and stock; a second replay and a late
// webhook change nothing.
func TestReplayAppliesWhatWasNeverDelivered(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	paid := replayEvent("evt_replay_paid", "checkout.session.completed", time.Now().Add(-time.Hour),
		shoptest.WebhookSession(shop.CustomerOrder, "paid"))
	r.fake.AddEvents(paid)

	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 1, Created: 1})
	shoptest.AfterAll(shoptest.WebhookOrderPaid())(t, r.app, nil)
	if ledgerRows(t, r, "evt_replay_paid") != 1 || paidEmails(t, r, shop.CustomerOrder) != 1 {
		t.Fatalf("ledger rows %d, order_paid emails %d, want 1 and 1", ledgerRows(t, r, "evt_replay_paid"), paidEmails(t, r, shop.CustomerOrder))
	}

	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 1, Skipped: 1})
	r.deliver(t, paid) // Stripe's own retry, late
	shoptest.AfterAll(shoptest.WebhookExpectStock(true))(t, r.app, nil)
	if ledgerRows(t, r, "evt_replay_paid") != 1 || paidEmails(t, r, shop.CustomerOrder) != 1 {
		t.Fatal("a second replay or a late webhook applied the payment again")
	}
}

// TestReplayOfAppliedEventsChangesNothing: a window whose events the
// webhook applied is all skipped, and the shop is as it was.
func TestReplayOfAppliedEventsChangesNothing(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	paid := replayEvent("evt_replay_seen", "checkout.session.completed", time.Now().Add(-time.Hour),
		shoptest.WebhookSession(shop.CustomerOrder, "paid"))
	r.deliver(t, paid)
	r.fake.AddEvents(paid)
	before, _ := r.app.FindRecordById(c.Orders, shop.CustomerOrder)

	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 1, Skipped: 1})
	after, _ := r.app.FindRecordById(c.Orders, shop.CustomerOrder)
	if after.GetString(c.OrderUpdated) != before.GetString(c.OrderUpdated) || ledgerRows(t, r, "evt_replay_seen") != 1 {
		t.Fatal("replaying an applied event changed the order or the ledger")
	}
	shoptest.AfterAll(shoptest.WebhookExpectStock(true))(t, r.app, nil)
}

// TestReplayIgnoresWhatTheShopDoesNotHandle, and keeps no ledger row of
// it; events before the window are not read.
func TestReplayIgnoresWhatTheShopDoesNotHandle(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	r.fake.AddEvents(
		replayEvent("evt_replay_old", "checkout.session.completed", time.Now().Add(-5*time.Hour),
			shoptest.WebhookSession(shop.CustomerOrder, "paid")),
		replayEvent("evt_replay_customer", "customer.created", time.Now().Add(-time.Hour), map[string]any{"id": "cus_x", "object": "customer"}),
		replayEvent("evt_replay_intent", "payment_intent.created", time.Now().Add(-time.Minute), map[string]any{"id": "pi_x", "object": "payment_intent"}),
	)
	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 2})
	for _, id := range []string{"evt_replay_old", "evt_replay_customer", "evt_replay_intent"} {
		if ledgerRows(t, r, id) != 0 {
			t.Fatalf("%s has a ledger row", id)
		}
	}
	shoptest.AfterAll(shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending))(t, r.app, nil)
}

// TestReplayAppliesOldestFirst: a payment and its later refund, both
// missed, end refunded (listed newest first, applied as they happened).
func TestReplayAppliesOldestFirst(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	r.fake.AddEvents(
		replayEvent("evt_replay_1_paid", "checkout.session.completed", time.Now().Add(-2*time.Hour),
			shoptest.WebhookSession(shop.CustomerOrder, "paid")),
		replayEvent("evt_replay_2_refund", "charge.refunded", time.Now().Add(-time.Hour), map[string]any{
			"id": "ch_replay", "object": "charge", "payment_intent": shoptest.WebhookPaymentIntent,
			"amount": shoptest.WebhookOrderTotal, "amount_refunded": shoptest.WebhookOrderTotal, "refunded": true}),
	)
	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 2, Created: 2})
	shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusRefunded),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderRefundedAmount, shoptest.WebhookOrderTotal),
		shoptest.WebhookExpectStock(false), // paid, then refunded before shipping: given back
	)(t, r.app, nil)
}

// TestReplaySurvivesAnEventsAPIOutage: the listing fails on its second
// page; the run fails with its counts and applies nothing; the next run
// completes.
func TestReplaySurvivesAnEventsAPIOutage(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	var events []map[string]any
	for i := range 150 {
		events = append(events, replayEvent(fmt.Sprintf("evt_replay_noise_%03d", i), "customer.updated",
			time.Now().Add(-2*time.Hour+time.Duration(i)*time.Second), map[string]any{"id": "cus_x", "object": "customer"}))
	}
	// The payment is the oldest: listed on the second page.
	r.fake.AddEvents(replayEvent("evt_replay_paid_early", "checkout.session.completed", time.Now().Add(-150*time.Minute),
		shoptest.WebhookSession(shop.CustomerOrder, "paid")))
	r.fake.AddEvents(events...)
	r.fake.FailCall("GET /v1/events", 2, http.StatusInternalServerError)

	failed := r.replay(t, jobs.RunOptions{})
	expectCounts(t, failed, c.JobFailed, jobs.RunCounts{Fetched: 100})
	if failed.Err == nil || ledgerRows(t, r, "evt_replay_paid_early") != 0 {
		t.Fatalf("the failed run: %v; ledger rows %d", failed.Err, ledgerRows(t, r, "evt_replay_paid_early"))
	}
	shoptest.AfterAll(shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending))(t, r.app, nil)

	expectCounts(t, r.replay(t, jobs.RunOptions{}), c.JobSucceeded, jobs.RunCounts{Fetched: 151, Created: 1})
	shoptest.AfterAll(shoptest.WebhookOrderPaid())(t, r.app, nil)
}

// TestReplayDryRunAndPause: a dry run counts and applies nothing; a paused
// replay does not start; pausing one under way cancels it.
func TestReplayDryRunAndPause(t *testing.T) {
	shop := shoptest.Shop()
	r := newReplayRig(t)
	r.fake.AddEvents(replayEvent("evt_replay_dry", "checkout.session.completed", time.Now().Add(-time.Hour),
		shoptest.WebhookSession(shop.CustomerOrder, "paid")))

	expectCounts(t, r.replay(t, jobs.RunOptions{DryRun: true}), c.JobSucceeded, jobs.RunCounts{Fetched: 1, Created: 1})
	if ledgerRows(t, r, "evt_replay_dry") != 0 {
		t.Fatal("a dry run wrote the ledger")
	}
	shoptest.AfterAll(shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending))(t, r.app, nil)

	if err := r.runner.SetPaused(payments.JobStripeReplay, true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.runner.Run(context.Background(), payments.JobStripeReplay, jobs.RunOptions{Trigger: "test"}); !errors.Is(err, jobs.ErrJobPaused) {
		t.Fatalf("a paused replay: %v, want ErrJobPaused", err)
	}
	if err := r.runner.SetPaused(payments.JobStripeReplay, false, "test"); err != nil {
		t.Fatal(err)
	}

	r.fake.Delay("GET /v1/events", 2*time.Second)
	done := make(chan jobs.JobRun, 1)
	go func() { done <- r.replay(t, jobs.RunOptions{}) }()
	time.Sleep(300 * time.Millisecond)
	if err := r.runner.SetPaused(payments.JobStripeReplay, true, "test"); err != nil {
		t.Fatal(err)
	}
	select {
	case run := <-done:
		if run.Status != c.JobCancelled || ledgerRows(t, r, "evt_replay_dry") != 0 {
			t.Fatalf("the paused run ended %s (%v), ledger rows %d", run.Status, run.Err, ledgerRows(t, r, "evt_replay_dry"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pausing did not stop the run")
	}
}

// TestReplayRefusesAWindowStripeNoLongerHas.
func TestReplayRefusesAWindowStripeNoLongerHas(t *testing.T) {
	r := newReplayRig(t)
	run := r.replay(t, jobs.RunOptions{Since: time.Now().Add(-31 * 24 * time.Hour)})
	if run.Status != c.JobFailed || run.Err == nil || !strings.Contains(run.Err.Error(), "30 days") || r.fake.Calls("GET /v1/events") != 0 {
		t.Fatalf("run %s %v; %d listings", run.Status, run.Err, r.fake.Calls("GET /v1/events"))
	}
}
