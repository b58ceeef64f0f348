package webhooks_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// TestHangingReceiverHoldsNeitherOthersNorShutdown: with the worker
// running, an endpoint that never answers holds at most its own slots;
// another endpoint gets its deliveries at once, the shop's writes go on,
// and terminating returns promptly, giving the cut-off attempts back.
func TestHangingReceiverHoldsNeitherOthersNorShutdown(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app := shoptest.NewAppWith(t, hooks.Config{AppURL: shoptest.AppURL, WebhooksAllowPrivate: true, WebhookTimeout: time.Minute})
	t.Cleanup(app.Cleanup)
	release := make(chan struct{})
	defer close(release)
	hanging := newReceiver(t, func(int, http.ResponseWriter, *http.Request) { <-release })
	healthy := newReceiver(t, status(http.StatusOK))
	stuck := addEndpoint(t, app, hanging.URL, c.EventProductUpdated)
	addEndpoint(t, app, healthy.URL, c.EventOrderPaid)
	shoptest.ServeShop(t, app) // starts the worker

	// Ten deliveries for the hanging endpoint, more than its slots.
	product, err := app.FindRecordById(c.Products, shop.ActiveProduct)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		product.Set(c.ProductStock, 100+i)
		start := time.Now()
		if err := app.Save(product); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("a product save took %v while the receiver hangs", took)
		}
	}
	waitFor(t, func() bool { return len(hanging.got()) == 4 })

	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	waitFor(t, func() bool { return len(healthy.got()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(hanging.got()); n != 4 {
		t.Errorf("the hanging endpoint got %d attempts at once, want its 4 slots", n)
	}

	start := time.Now()
	if err := app.OnTerminate().Trigger(&core.TerminateEvent{App: app}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("terminating took %v with attempts hanging", took)
	}
	rows := deliveries(t, app, dbx.HashExp{c.DeliveryEndpoint: stuck.Id})
	for _, row := range rows {
		if row.GetString(c.DeliveryStatus) != c.DeliveryPending || row.GetInt(c.DeliveryAttempts) != 0 ||
			row.GetString(c.DeliveryClaim) != "" || row.GetDateTime(c.DeliveryNextAttempt).Time().After(time.Now()) {
			t.Errorf("after shutdown a delivery is %s, attempts %d, claim %q, next %s: want given back untried",
				row.GetString(c.DeliveryStatus), row.GetInt(c.DeliveryAttempts), row.GetString(c.DeliveryClaim), row.GetDateTime(c.DeliveryNextAttempt))
		}
	}
	if len(rows) != 10 {
		t.Errorf("%d deliveries for the hanging endpoint, want 10", len(rows))
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out waiting")
}

// TestGoneStopsWhatTheClaimHeldBack: a claim takes more deliveries than an
// endpoint's slots and holds the rest back for them; when the endpoint
// answers 410 it is disabled, and what was held back is given back
// untried, not sent: at most the attempts already under way (its 4
// slots) reach it. The rows are all delivered once the receiver is
// healthy and the endpoint active again, and each outcome is written
// (recorded together, in group commits).
func TestGoneStopsWhatTheClaimHeldBack(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	gone := true
	var mu sync.Mutex
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			w.WriteHeader(http.StatusGone)
		}
	})
	ep := addEndpoint(t, app, rc.URL, c.EventProductUpdated)
	product, err := app.FindRecordById(c.Products, shop.ActiveProduct)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		product.Set(c.ProductStock, 200+i)
		if err := app.Save(product); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	if n := len(rc.got()); n < 1 || n > 4 {
		t.Errorf("%d requests reached the endpoint that answered 410, want 1 to 4 (its slots)", n)
	}
	rows := deliveries(t, app, dbx.HashExp{c.DeliveryEndpoint: ep.Id})
	untried := 0
	for _, row := range rows {
		switch {
		case row.GetString(c.DeliveryStatus) == c.DeliveryDead && row.GetInt(c.DeliveryLastStatus) == http.StatusGone:
		case row.GetString(c.DeliveryStatus) == c.DeliveryPending && row.GetInt(c.DeliveryAttempts) == 0 &&
			row.GetString(c.DeliveryClaim) == "" && !row.GetDateTime(c.DeliveryNextAttempt).Time().After(time.Now()):
			untried++
		default:
			t.Errorf("a delivery is %s, attempts %d, claim %q, next %s: want dead by the 410, or given back untried",
				row.GetString(c.DeliveryStatus), row.GetInt(c.DeliveryAttempts), row.GetString(c.DeliveryClaim), row.GetDateTime(c.DeliveryNextAttempt))
		}
	}
	if len(rows) != 12 || untried != 12-len(rc.got()) {
		t.Errorf("%d deliveries, %d given back untried, %d sent: want 12 in all", len(rows), untried, len(rc.got()))
	}

	mu.Lock()
	gone = false
	mu.Unlock()
	stored, err := app.FindRecordById(c.WebhookEndpoints, ep.Id)
	if err != nil {
		t.Fatal(err)
	}
	stored.Set(c.EndpointActive, true)
	if err := app.Save(stored); err != nil {
		t.Fatal(err)
	}
	sent := len(rc.got())
	pass()
	if got := len(rc.got()) - sent; got != untried {
		t.Errorf("%d requests after the endpoint was enabled again, want the %d given back", got, untried)
	}
	for _, row := range deliveries(t, app, dbx.HashExp{c.DeliveryEndpoint: ep.Id, c.DeliveryStatus: c.DeliveryPending}) {
		t.Errorf("delivery %s still pending after the second pass", row.Id)
	}
}
