package shoptest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/fakestripe"
)

const WebhookURL = "/api/v1/stripe/webhook"

// Stripe ids of the checkout that pays the customer's pending order.
const (
	WebhookSessionID     = "cs_test_webhook_1"
	WebhookPaymentIntent = "pi_test_webhook_1"
	WebhookInvoiceID     = "in_test_webhook_1"
	WebhookCustomerID    = "cus_test_webhook_1"
	// WebhookOrderTotal is what the customer's pending order owes, and
	// what the session pays.
	WebhookOrderTotal = 5000
)

// The customer's pending order as WebhookStockOrder rebuilds it: two
// physical products and a digital one whose stock must not move. The
// digital product gets a stock above zero so that wrongly taking stock
// from it shows.
const (
	WebhookPhysicalStock, WebhookPhysicalQty = 50, 2
	webhookSecondStock, webhookSecondQty     = 40, 3
	webhookDigitalStock, webhookDigitalQty   = 7, 1
)

// WebhookSession is a Checkout Session of the shop's checkout for an order.
func WebhookSession(order, paymentStatus string) map[string]any {
	return map[string]any{
		"id": WebhookSessionID, "object": "checkout.session",
		"client_reference_id": order, "metadata": map[string]any{"order_id": order},
		"status": "complete", "payment_status": paymentStatus,
		"payment_intent": WebhookPaymentIntent, "invoice": WebhookInvoiceID, "customer": WebhookCustomerID,
		"amount_total": WebhookOrderTotal, "currency": "usd",
	}
}

// WebhookSetFields writes fields straight to the database, bypassing the
// hooks, as a test's starting point.
func WebhookSetFields(tb testing.TB, app core.App, collection, id string, fields dbx.Params) {
	tb.Helper()
	if _, err := app.DB().Update(collection, fields, dbx.HashExp{"id": id}).Execute(); err != nil {
		tb.Fatal(err)
	}
}

// WebhookStockOrder gives the customer's pending order known items and
// their products known stock, so a test can tell what a payment took, and
// makes WebhookSession its checkout session. Its items hold no stock, as
// those of an order placed before checkouts reserved stock: paying it
// takes the stock.
func WebhookStockOrder(tb testing.TB, app core.App) {
	tb.Helper()
	shop := Shop()
	WebhookSetFields(tb, app, c.Orders, shop.CustomerOrder, dbx.Params{
		c.OrderStripeSession: WebhookSessionID, c.OrderTotal: WebhookOrderTotal, c.OrderCurrency: "usd"})
	if _, err := app.DB().Delete(c.OrderItems, dbx.HashExp{c.ItemOrder: shop.CustomerOrder}).Execute(); err != nil {
		tb.Fatal(err)
	}
	items, err := app.FindCollectionByNameOrId(c.OrderItems)
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range []struct {
		product         string
		stock, quantity int
	}{
		{shop.PhysicalProduct, WebhookPhysicalStock, WebhookPhysicalQty},
		{shop.SecondPhysicalProduct, webhookSecondStock, webhookSecondQty},
		{shop.DigitalProduct, webhookDigitalStock, webhookDigitalQty},
	} {
		WebhookSetFields(tb, app, c.Products, line.product, dbx.Params{c.ProductStock: line.stock})
		product, err := app.FindRecordById(c.Products, line.product)
		if err != nil {
			tb.Fatal(err)
		}
		item := core.NewRecord(items)
		item.Set(c.ItemOrder, shop.CustomerOrder)
		item.Set(c.ItemProduct, line.product)
		item.Set(c.ItemProductName, product.GetString(c.ProductName))
		item.Set(c.ItemUnitPrice, product.GetInt(c.ProductPrice))
		item.Set(c.ItemQuantity, line.quantity)
		if err := app.Save(item); err != nil {
			tb.Fatal(err)
		}
	}
}

// WebhookExpectStock checks the stock of the products of the order that
// WebhookStockOrder built: lowered by the quantities of the physical
// ones when taken, as set up otherwise; the digital one never moves.
func WebhookExpectStock(taken bool) AfterFunc {
	shop := Shop()
	physical, second := WebhookPhysicalStock, webhookSecondStock
	if taken {
		physical -= WebhookPhysicalQty
		second -= webhookSecondQty
	}
	return AfterAll(
		ExpectStored(c.Products, shop.PhysicalProduct, c.ProductStock, physical),
		ExpectStored(c.Products, shop.SecondPhysicalProduct, c.ProductStock, second),
		ExpectStored(c.Products, shop.DigitalProduct, c.ProductStock, webhookDigitalStock),
	)
}

// WebhookExpectFilled checks that a field holds a value.
func WebhookExpectFilled(collection, id, field string) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		record, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatal(err)
		}
		if record.GetString(field) == "" {
			t.Fatalf("%s/%s %s is empty", collection, id, field)
		}
	}
}

// WebhookOrderPaid checks everything a paid checkout of the customer's
// pending order changes.
func WebhookOrderPaid() AfterFunc {
	shop := Shop()
	return AfterAll(
		ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPaid),
		WebhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderPaidAt),
		ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripePaymentIntent, WebhookPaymentIntent),
		ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeInvoice, WebhookInvoiceID),
		ExpectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, WebhookCustomerID),
		WebhookExpectStock(true),
	)
}

// WebhookRig is a shop wired to a fake Stripe that serves several requests
// in turn, for sequences that one ApiScenario cannot hold.
type WebhookRig struct {
	App  *tests.TestApp
	Fake *fakestripe.Server
	Mux  http.Handler
}

// NewWebhookRig serves a shop configured by cfg against a fresh fake
// Stripe. Each of before runs on the app before it serves, and so before
// its workers start: what it sets on the app (a query log) is then set
// before any of them reads it.
func NewWebhookRig(t *testing.T, cfg func(baseURL string) hooks.Config, before ...func(*tests.TestApp)) *WebhookRig {
	t.Helper()
	fake := fakestripe.New(t)
	app := NewAppWith(t, cfg(fake.URL))
	for _, f := range before {
		f(app)
	}
	return serveRig(t, app, fake)
}

// Restart is the rig's shop coming back after its process died: a fresh
// app, with cfg, on a snapshot of what the old one had written (its claims
// included; nothing it held in memory), against the same fake Stripe. The
// old app is served no more.
func (r *WebhookRig) Restart(t *testing.T, cfg func(baseURL string) hooks.Config) *WebhookRig {
	t.Helper()
	dir := t.TempDir()
	for name, db := range map[string]dbx.Builder{"data.db": r.App.NonconcurrentDB(), "auxiliary.db": r.App.AuxNonconcurrentDB()} {
		// A consistent copy while the old app's workers may still hold
		// connections, as the file left on disk after a crash is.
		if _, err := db.NewQuery("VACUUM INTO {:path}").Bind(dbx.Params{"path": filepath.Join(dir, name)}).Execute(); err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
	}
	app, _ := newAppOn(t, dir, cfg(r.Fake.URL))
	return serveRig(t, app, r.Fake)
}

// serveRig builds the rig of an app: its router, with every route.
func serveRig(t *testing.T, app *tests.TestApp, fake *fakestripe.Server) *WebhookRig {
	t.Helper()
	// registered after the fake's own cleanup, so it runs first: pushes
	// still running end before the fake closes.
	t.Cleanup(app.Cleanup)
	router, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	rig := &WebhookRig{App: app, Fake: fake}
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: router}, func(e *core.ServeEvent) error {
		rig.Mux, err = e.Router.BuildMux()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rig
}

// Send makes one request and returns the status and the body.
func (r *WebhookRig) Send(t *testing.T, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	r.Mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// Deliver posts a signed event and fails unless it was answered 200
// with the given "applied".
func (r *WebhookRig) Deliver(t *testing.T, id, eventType string, object any, applied bool) {
	t.Helper()
	payload, signature := StripeEvent(t, id, eventType, object)
	status, body := r.Send(t, http.MethodPost, WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
	want := fmt.Sprintf(`"applied":%t`, applied)
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("%s %s: %d %s, want 200 with %s", eventType, id, status, body, want)
	}
}

// Check runs AfterFunc checks against the rig's shop.
func (r *WebhookRig) Check(t *testing.T, checks ...AfterFunc) {
	t.Helper()
	AfterAll(checks...)(t, r.App, nil)
}
