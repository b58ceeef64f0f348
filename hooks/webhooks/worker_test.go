package webhooks_test

import (
	"net/http"
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
