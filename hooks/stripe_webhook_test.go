package hooks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76/webhook"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

const webhookURL = "/api/v1/stripe/webhook"

// Stripe ids of the checkout that pays the customer's pending order.
const (
	webhookSessionID     = "cs_test_webhook_1"
	webhookPaymentIntent = "pi_test_webhook_1"
	webhookInvoiceID     = "in_test_webhook_1"
	webhookCustomerID    = "cus_test_webhook_1"
	// webhookOrderTotal is what the customer's pending order owes, and
	// what the session pays.
	webhookOrderTotal = 5000
)

// The customer's pending order as webhookStockOrder rebuilds it: two
// physical products and a digital one whose stock must not move. The
// digital product gets a stock above zero so that wrongly taking stock
// from it shows.
const (
	webhookPhysicalStock, webhookPhysicalQty = 50, 2
	webhookSecondStock, webhookSecondQty     = 40, 3
	webhookDigitalStock, webhookDigitalQty   = 7, 1
)

// webhookShop is a fresh shop with its own fake Stripe, for ApiScenario.
func webhookShop(tb testing.TB) *tests.TestApp {
	return shoptest.NewAppWith(tb, shoptest.StripeConfig(fakestripe.New(tb).URL))
}

// webhookShopWith is webhookShop with a changed configuration.
func webhookShopWith(change func(*hooks.Config)) func(testing.TB) *tests.TestApp {
	return func(tb testing.TB) *tests.TestApp {
		cfg := shoptest.StripeConfig(fakestripe.New(tb).URL)
		change(&cfg)
		return shoptest.NewAppWith(tb, cfg)
	}
}

// webhookSign signs a payload as Stripe does, with the given secret.
func webhookSign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// webhookDelivery is one POST of an event to the webhook.
func webhookDelivery(name string, payload []byte, signature string) tests.ApiScenario {
	s := tests.ApiScenario{
		Name:           name,
		Method:         http.MethodPost,
		URL:            webhookURL,
		Body:           bytes.NewReader(payload),
		TestAppFactory: webhookShop,
	}
	if signature != "" {
		s.Headers = map[string]string{"Stripe-Signature": signature}
	}
	return s
}

// webhookSession is a Checkout Session of the shop's checkout for an order.
func webhookSession(order, paymentStatus string) map[string]any {
	return map[string]any{
		"id": webhookSessionID, "object": "checkout.session",
		"client_reference_id": order, "metadata": map[string]any{"order_id": order},
		"status": "complete", "payment_status": paymentStatus,
		"payment_intent": webhookPaymentIntent, "invoice": webhookInvoiceID, "customer": webhookCustomerID,
		"amount_total": webhookOrderTotal, "currency": "usd",
	}
}

// webhookCharge is a charge of the payment intent, refunded in full or
// in part.
func webhookCharge(paymentIntent string, refunded bool) map[string]any {
	amountRefunded := 5000
	if !refunded {
		amountRefunded = 1000
	}
	return map[string]any{
		"id": "ch_test_webhook_1", "object": "charge", "payment_intent": paymentIntent,
		"refunded": refunded, "amount": 5000, "amount_refunded": amountRefunded,
		"refunds": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "re_test_webhook_1", "object": "refund"},
		}},
	}
}

// webhookSetFields writes fields straight to the database, bypassing the
// hooks, as a test's starting point.
func webhookSetFields(tb testing.TB, app core.App, collection, id string, fields dbx.Params) {
	tb.Helper()
	if _, err := app.DB().Update(collection, fields, dbx.HashExp{"id": id}).Execute(); err != nil {
		tb.Fatal(err)
	}
}

// webhookStockOrder gives the customer's pending order known items and
// their products known stock, so a test can tell what a payment took, and
// makes webhookSession its checkout session. Its items hold no stock, as
// those of an order placed before checkouts reserved stock: paying it
// takes the stock.
func webhookStockOrder(tb testing.TB, app core.App) {
	tb.Helper()
	shop := shoptest.Shop()
	webhookSetFields(tb, app, c.Orders, shop.CustomerOrder, dbx.Params{
		c.OrderStripeSession: webhookSessionID, c.OrderTotal: webhookOrderTotal, c.OrderCurrency: "usd"})
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
		{shop.PhysicalProduct, webhookPhysicalStock, webhookPhysicalQty},
		{shop.SecondPhysicalProduct, webhookSecondStock, webhookSecondQty},
		{shop.DigitalProduct, webhookDigitalStock, webhookDigitalQty},
	} {
		webhookSetFields(tb, app, c.Products, line.product, dbx.Params{c.ProductStock: line.stock})
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

func webhookBeforeStockOrder(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
	webhookStockOrder(t, app)
}

// webhookExpectStock checks the stock of the products of the order that
// webhookStockOrder built: lowered by the quantities of the physical
// ones when taken, as set up otherwise; the digital one never moves.
func webhookExpectStock(taken bool) afterFunc {
	shop := shoptest.Shop()
	physical, second := webhookPhysicalStock, webhookSecondStock
	if taken {
		physical -= webhookPhysicalQty
		second -= webhookSecondQty
	}
	return afterAll(
		expectStored(c.Products, shop.PhysicalProduct, c.ProductStock, physical),
		expectStored(c.Products, shop.SecondPhysicalProduct, c.ProductStock, second),
		expectStored(c.Products, shop.DigitalProduct, c.ProductStock, webhookDigitalStock),
	)
}

// webhookExpectFilled checks that a field holds a value.
func webhookExpectFilled(collection, id, field string) afterFunc {
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

// webhookExpectLedger checks that the ledger holds want rows in all and
// one row for each of the events.
func webhookExpectLedger(want int, eventIDs ...string) afterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		expectRecordCount(c.StripeEvents, want)(t, app, res)
		for _, id := range eventIDs {
			n, err := app.CountRecords(c.StripeEvents, dbx.HashExp{c.StripeEventID: id})
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("stripe_events has %d rows of event %s, want 1", n, id)
			}
		}
	}
}

// webhookExpectLedgerRow checks what the ledger row of an event says.
func webhookExpectLedgerRow(eventID, eventType, objectID string) afterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		row, err := app.FindFirstRecordByData(c.StripeEvents, c.StripeEventID, eventID)
		if err != nil {
			t.Fatalf("ledger row of %s: %v", eventID, err)
		}
		if got := row.GetString(c.StripeEventType); got != eventType {
			t.Fatalf("ledger row of %s has type %q, want %q", eventID, got, eventType)
		}
		if got := row.GetString(c.StripeEventObject); got != objectID {
			t.Fatalf("ledger row of %s has object %q, want %q", eventID, got, objectID)
		}
	}
}

// webhookOrderUnpaid checks that the customer's pending order and
// everything a payment would touch are as webhookStockOrder left them.
func webhookOrderUnpaid() afterFunc {
	shop := shoptest.Shop()
	return afterAll(
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderPaidAt, ""),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStripePaymentIntent, ""),
		expectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, ""),
		webhookExpectStock(false),
	)
}

// webhookOrderPaid checks everything a paid checkout of the customer's
// pending order changes.
func webhookOrderPaid() afterFunc {
	shop := shoptest.Shop()
	return afterAll(
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPaid),
		webhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderPaidAt),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStripePaymentIntent, webhookPaymentIntent),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStripeInvoice, webhookInvoiceID),
		expectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, webhookCustomerID),
		webhookExpectStock(true),
	)
}

// webhookRig is a shop wired to a fake Stripe that serves several requests
// in turn, for sequences that one ApiScenario cannot hold.
type webhookRig struct {
	app  *tests.TestApp
	fake *fakestripe.Server
	mux  http.Handler
}

func newWebhookRig(t *testing.T, cfg func(baseURL string) hooks.Config) *webhookRig {
	t.Helper()
	fake := fakestripe.New(t)
	app := shoptest.NewAppWith(t, cfg(fake.URL))
	// registered after the fake's own cleanup, so it runs first: pushes
	// still running end before the fake closes.
	t.Cleanup(app.Cleanup)
	router, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	rig := &webhookRig{app: app, fake: fake}
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: router}, func(e *core.ServeEvent) error {
		rig.mux, err = e.Router.BuildMux()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rig
}

// send makes one request and returns the status and the body.
func (r *webhookRig) send(t *testing.T, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// deliver posts a signed event and fails unless it was answered 200
// with the given "applied".
func (r *webhookRig) deliver(t *testing.T, id, eventType string, object any, applied bool) {
	t.Helper()
	payload, signature := shoptest.StripeEvent(t, id, eventType, object)
	status, body := r.send(t, http.MethodPost, webhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
	want := fmt.Sprintf(`"applied":%t`, applied)
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("%s %s: %d %s, want 200 with %s", eventType, id, status, body, want)
	}
}

// check runs afterFunc checks against the rig's shop.
func (r *webhookRig) check(t *testing.T, checks ...afterFunc) {
	t.Helper()
	afterAll(checks...)(t, r.app, nil)
}

// TestWebhookRefusesUnverifiedEvents: anyone can post to the webhook, so
// only a body signed with our secret, recently, may change anything.
func TestWebhookRefusesUnverifiedEvents(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	session := webhookSession(shop.CustomerOrder, "paid")
	payload, signature := shoptest.StripeEvent(t, "evt_test_unverified", "checkout.session.completed", session)
	// a genuine signature on a body turned to pay the other customer's order.
	forged := bytes.ReplaceAll(payload, []byte(shop.CustomerOrder), []byte(shop.Customer2Order))
	nothingChanged := afterAll(
		webhookOrderUnpaid(),
		expectStored(c.Orders, shop.Customer2Order, c.OrderStatusField, c.StatusPending),
		webhookExpectLedger(0),
	)
	badSignature := []string{`"status":400`, `"message":"Invalid Stripe signature."`}

	scenarios := []tests.ApiScenario{
		webhookDelivery("signed with another secret", payload, webhookSign(payload, "whsec_test_someone_else", time.Now())),
		webhookDelivery("body changed after signing", forged, signature),
		webhookDelivery("signed ten minutes ago (a replay)", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now().Add(-10*time.Minute))),
		webhookDelivery("no Stripe-Signature header", payload, ""),
		webhookDelivery("a signature header without a signature", payload, fmt.Sprintf("t=%d", time.Now().Unix())),
	}
	for i := range scenarios {
		scenarios[i].ExpectedStatus = http.StatusBadRequest
		scenarios[i].ExpectedContent = badSignature
	}
	unset := webhookDelivery("webhook secret unset", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now()))
	unset.TestAppFactory = webhookShopWith(func(cfg *hooks.Config) { cfg.StripeWebhookSecrets = nil })
	unset.ExpectedStatus = http.StatusServiceUnavailable
	unset.ExpectedContent = []string{`"status":503`, "STRIPE_WEBHOOK_SECRET"}
	scenarios = append(scenarios, unset)

	for _, s := range scenarios {
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.AfterTestFunc = nothingChanged
		s.Test(t)
	}
}

// TestWebhookAcceptsEitherSecretWhileRotating: with two secrets set, an
// event signed with either is applied.
func TestWebhookAcceptsEitherSecretWhileRotating(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const oldSecret = "whsec_test_old_secret"
	rotating := webhookShopWith(func(cfg *hooks.Config) {
		cfg.StripeWebhookSecrets = []string{oldSecret, "whsec_test_new_secret"}
	})
	for _, secret := range []string{"whsec_test_new_secret", oldSecret} {
		payload, _ := shoptest.StripeEvent(t, "evt_test_rotated", "checkout.session.completed", webhookSession(shop.CustomerOrder, "paid"))
		s := webhookDelivery("signed with "+secret, payload, webhookSign(payload, secret, time.Now()))
		s.TestAppFactory = rotating
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = afterAll(webhookOrderPaid(), webhookExpectLedger(1, "evt_test_rotated"))
		s.Test(t)
	}
}

// TestWebhookAppliesEventOfAnotherAPIVersion: the fields the shop reads
// are stable across versions, so an endpoint left on another version
// still works.
func TestWebhookAppliesEventOfAnotherAPIVersion(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	payload, _ := shoptest.StripeEvent(t, "evt_test_old_version", "checkout.session.completed", webhookSession(shop.CustomerOrder, "paid"))
	var event map[string]any
	if err := json.Unmarshal(payload, &event); err != nil {
		t.Fatal(err)
	}
	event["api_version"] = "2020-08-27"
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	s := webhookDelivery("event of API version 2020-08-27", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now()))
	s.BeforeTestFunc = webhookBeforeStockOrder
	s.ExpectedStatus = http.StatusOK
	s.ExpectedContent = []string{`"applied":true`}
	s.AfterTestFunc = afterAll(webhookOrderPaid(), webhookExpectLedger(1, "evt_test_old_version"))
	s.Test(t)
}

// TestWebhookAnswersUnhandledEventsWithoutActing: Stripe retries any
// event not answered 2xx, so unhandled ones get 200 and leave no trace.
func TestWebhookAnswersUnhandledEventsWithoutActing(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, ev := range []struct {
		eventType string
		object    map[string]any
	}{
		{"customer.created", map[string]any{"id": webhookCustomerID, "object": "customer", "email": shop.Customer.Email}},
		{"payment_intent.succeeded", map[string]any{"id": webhookPaymentIntent, "object": "payment_intent",
			"status": "succeeded", "metadata": map[string]any{"order_id": shop.CustomerOrder}}},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_unhandled", ev.eventType, ev.object)
		s := webhookDelivery(ev.eventType, payload, signature)
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"received":true`, `"applied":false`}
		s.AfterTestFunc = afterAll(webhookOrderUnpaid(), webhookExpectLedger(0))
		s.Test(t)
	}
}

func TestCompletedCheckoutMarksOrderPaid(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	paid := func(name string, session map[string]any, before func(testing.TB, *tests.TestApp, *core.ServeEvent)) tests.ApiScenario {
		payload, signature := shoptest.StripeEvent(t, "evt_test_completed", "checkout.session.completed", session)
		s := webhookDelivery(name, payload, signature)
		s.BeforeTestFunc = before
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = afterAll(
			webhookOrderPaid(),
			expectStored(c.Orders, shop.CustomerOrder, c.OrderStripeSession, webhookSessionID),
			expectStored(c.Orders, shop.Customer2Order, c.OrderStatusField, c.StatusPending),
			expectRecordCount(c.Orders, shop.Orders),
			webhookExpectLedger(1, "evt_test_completed"),
			webhookExpectLedgerRow("evt_test_completed", "checkout.session.completed", webhookSessionID),
		)
		return s
	}
	// a session that lost its metadata is still found by the session id
	// checkout stored on the order.
	bare := webhookSession("", "paid")
	delete(bare, "metadata")
	delete(bare, "client_reference_id")
	scenarios := []tests.ApiScenario{
		paid("session with the order id", webhookSession(shop.CustomerOrder, "paid"), webhookBeforeStockOrder),
		paid("session found by its id alone", bare, webhookBeforeStockOrder),
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestRepeatedWebhookAppliesOnce(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	webhookStockOrder(t, rig.app)
	session := webhookSession(shop.CustomerOrder, "paid")
	// Stripe resends the very same event (same id) when it misses our 200.
	for i := range 10 {
		rig.deliver(t, "evt_test_repeated", "checkout.session.completed", session, i == 0)
	}
	rig.check(t,
		webhookOrderPaid(),
		expectRecordCount(c.Orders, shop.Orders),
		webhookExpectLedger(1, "evt_test_repeated"),
	)
}

func TestCheckoutEndedWithoutPayment(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	cancelled := afterAll(
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusCancelled),
		webhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderCancelReason),
		webhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderCancelledAt),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderPaidAt, ""),
		webhookExpectStock(false),
		webhookExpectLedger(1, "evt_test_ended"),
	)
	for _, tc := range []struct {
		name, eventType, paymentStatus string
		after                          afterFunc
	}{
		{"expired session cancels the pending order", "checkout.session.expired", "unpaid", cancelled},
		{"failed delayed payment cancels the pending order", "checkout.session.async_payment_failed", "unpaid", cancelled},
		// a delayed payment method (bank debit) completes the session
		// before the money arrives.
		{"completed but unpaid session leaves the order pending", "checkout.session.completed", "unpaid", afterAll(
			webhookOrderUnpaid(),
			expectStored(c.Orders, shop.CustomerOrder, c.OrderCancelReason, ""),
		)},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_ended", tc.eventType, webhookSession(shop.CustomerOrder, tc.paymentStatus))
		s := webhookDelivery(tc.name, payload, signature)
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"received":true`}
		s.AfterTestFunc = tc.after
		s.Test(t)
	}
}

// TestExpiredAfterCompletedKeepsOrderPaid: Stripe does not promise the
// order of events; a late expiry must not undo a payment.
func TestExpiredAfterCompletedKeepsOrderPaid(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	webhookStockOrder(t, rig.app)
	rig.deliver(t, "evt_test_paid", "checkout.session.completed", webhookSession(shop.CustomerOrder, "paid"), true)
	rig.deliver(t, "evt_test_expired", "checkout.session.expired", webhookSession(shop.CustomerOrder, "paid"), true)
	rig.check(t,
		webhookOrderPaid(),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderCancelReason, ""),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderCancelledAt, ""),
		webhookExpectLedger(2, "evt_test_paid", "evt_test_expired"),
	)
}

func TestChargeRefundedEvent(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const pi = "pi_test_refunded_1"
	paidOrder := func(status c.OrderStatus) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
		return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			webhookSetFields(t, app, c.Orders, shop.CustomerPaidOrder, dbx.Params{c.OrderStripePaymentIntent: pi})
			setStatus(t, app, shop.CustomerPaidOrder, status)
		}
	}
	refunded := afterAll(
		expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusRefunded),
		expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStripeRefund, "re_test_webhook_1"),
		webhookExpectLedger(1, "evt_test_refund"),
	)
	for _, tc := range []struct {
		name          string
		from          c.OrderStatus
		paymentIntent string
		full          bool
		after         afterFunc
	}{
		{"full refund of a paid order", c.StatusPaid, pi, true, refunded},
		{"full refund of a shipped order", c.StatusShipped, pi, true, refunded},
		{"full refund of a delivered order", c.StatusDelivered, pi, true, refunded},
		{"partial refund leaves a paid order paid", c.StatusPaid, pi, false, afterAll(
			expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid),
			webhookExpectLedger(1, "evt_test_refund"),
		)},
		{"partial refund leaves a shipped order shipped", c.StatusShipped, pi, false,
			expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusShipped)},
		// the shop's own cancel refunds; Stripe then reports that refund.
		{"refund of a cancelled order keeps it cancelled", c.StatusCancelled, pi, true, afterAll(
			expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusCancelled),
			webhookExpectLedger(1, "evt_test_refund"),
		)},
		{"refund of a payment the shop never saw changes no order", c.StatusPaid, "pi_test_elsewhere", true, afterAll(
			expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid),
			expectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStripeRefund, ""),
			webhookExpectLedger(1, "evt_test_refund"),
		)},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_refund", "charge.refunded", webhookCharge(tc.paymentIntent, tc.full))
		s := webhookDelivery(tc.name, payload, signature)
		s.BeforeTestFunc = paidOrder(tc.from)
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = tc.after
		s.Test(t)
	}
}

// TestInvoicePaidBeforeCheckoutCompletedMakesOneOrder: the invoice of a
// checkout carries the order id, so whichever event comes first pays the
// order and the other finds it.
func TestInvoicePaidBeforeCheckoutCompletedMakesOneOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	webhookStockOrder(t, rig.app)
	items, err := rig.app.CountRecords(c.OrderItems)
	if err != nil {
		t.Fatal(err)
	}
	invoice := map[string]any{
		"id": webhookInvoiceID, "object": "invoice", "status": "paid",
		"metadata": map[string]any{"order_id": shop.CustomerOrder},
		"customer": webhookCustomerID, "customer_email": shop.Customer.Email,
		"payment_intent": webhookPaymentIntent, "amount_paid": 5000, "currency": "usd",
		"created": time.Now().Add(-time.Minute).Unix(),
	}
	rig.deliver(t, "evt_test_invoice_first", "invoice.paid", invoice, true)
	rig.check(t,
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPaid),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStripeInvoice, webhookInvoiceID),
		webhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderPaidAt),
		webhookExpectStock(true),
		expectRecordCount(c.Orders, shop.Orders),
		expectRecordCount(c.OrderItems, int(items)),
	)

	rig.deliver(t, "evt_test_session_second", "checkout.session.completed", webhookSession(shop.CustomerOrder, "paid"), true)
	rig.check(t,
		webhookOrderPaid(),
		expectStored(c.Orders, shop.CustomerOrder, c.OrderStripeSession, webhookSessionID),
		expectRecordCount(c.Orders, shop.Orders),
		webhookExpectLedger(2, "evt_test_invoice_first", "evt_test_session_second"),
	)
}

// TestInvoicePaidForUnknownInvoiceCreatesOneOrder: an invoice made in
// Stripe's dashboard becomes a paid order of the customer it names.
func TestInvoicePaidForUnknownInvoiceCreatesOneOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	const invoiceID = "in_test_outside_1"
	created := time.Now().Add(-72 * time.Hour).Truncate(time.Second).UTC()
	line := func(id, description string, quantity, unitAmount int) map[string]any {
		return map[string]any{
			"id": id, "object": "line_item", "description": description,
			"quantity": quantity, "amount": quantity * unitAmount, "currency": "usd",
			"price": map[string]any{"id": "price_" + id, "object": "price", "unit_amount": unitAmount, "currency": "usd", "type": "one_time"},
		}
	}
	invoice := map[string]any{
		"id": invoiceID, "object": "invoice", "status": "paid",
		"customer": "cus_test_outside", "customer_email": shop.Customer2.Email, "customer_name": "Robin Cliente",
		"amount_paid": 2*1500 + 4000, "currency": "usd", "created": created.Unix(),
		"payment_intent": "pi_test_outside_1",
		"lines": map[string]any{"object": "list", "has_more": false, "data": []any{
			line("il_test_1", "Pottery workshop", 2, 1500),
			line("il_test_2", "Gift card", 1, 4000),
		}},
	}
	rig.deliver(t, "evt_test_outside_1", "invoice.paid", invoice, true)

	expectOneOrder := func() {
		t.Helper()
		rig.check(t,
			expectRecordCount(c.Orders, shop.Orders+1),
			expectRecordCount(c.OrderItems, shop.Items+2),
		)
		order, err := rig.app.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, invoiceID)
		if err != nil {
			t.Fatalf("no order of invoice %s: %v", invoiceID, err)
		}
		o := c.NewOrder(order)
		if o.UserID() != shop.Customer2.ID || o.Status() != c.StatusPaid || o.Total() != 7000 || o.Currency() != "usd" || o.ItemCount() != 3 {
			t.Fatalf("order of the invoice: user %q status %s total %d %s, %d items; want %q paid 7000 usd, 3 items",
				o.UserID(), o.Status(), o.Total(), o.Currency(), o.ItemCount(), shop.Customer2.ID)
		}
		if got := o.Created().Time(); !got.Equal(created) {
			t.Fatalf("order created %v, want the invoice's %v", got, created)
		}
		if order.GetDateTime(c.OrderPaidAt).IsZero() {
			t.Fatal("paid_at not set")
		}
		items, err := rig.app.FindRecordsByFilter(c.OrderItems, "order = {:o}", "product_name", 0, 0, dbx.Params{"o": order.Id})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, fmt.Sprintf("%s×%d@%d/%s", it.GetString(c.ItemProductName), it.GetInt(c.ItemQuantity),
				it.GetInt(c.ItemUnitPrice), it.GetString(c.ItemUser)))
		}
		want := []string{
			"Gift card×1@4000/" + shop.Customer2.ID,
			"Pottery workshop×2@1500/" + shop.Customer2.ID,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("items of the invoice's order: %v, want %v", got, want)
		}
	}
	expectOneOrder()

	// Stripe sends invoice.paid again with a new event id, e.g. after a
	// replay from the dashboard.
	rig.deliver(t, "evt_test_outside_2", "invoice.paid", invoice, true)
	expectOneOrder()
	rig.check(t, webhookExpectLedger(2, "evt_test_outside_1", "evt_test_outside_2"))
}

// TestFailedWebhookEventLeavesNothingForStripeToRetry: an event whose
// effect fails half way for a passing reason (here the database refusing
// the item's write) is rolled back with its ledger row and answered 500,
// so Stripe's retry finds it new.
func TestFailedWebhookEventLeavesNothingForStripeToRetry(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	invoice := map[string]any{
		"id": "in_test_failing", "object": "invoice", "status": "paid",
		"customer_email": shop.Customer2.Email, "amount_paid": 1500, "currency": "usd",
		"created": time.Now().Unix(),
		"lines": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "il_test_line", "object": "line_item", "description": "A line",
			"quantity": 1, "amount": 1500, "price": map[string]any{"id": "price_test_line", "object": "price", "unit_amount": 1500},
		}}},
	}
	payload, signature := shoptest.StripeEvent(t, "evt_test_failing", "invoice.paid", invoice)
	s := webhookDelivery("invoice.paid whose item cannot be written", payload, signature)
	s.BeforeTestFunc = func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		// the order saves, then its item does not.
		app.OnRecordCreate(c.OrderItems).BindFunc(func(e *core.RecordEvent) error {
			return errors.New("database is locked")
		})
	}
	s.ExpectedStatus = http.StatusInternalServerError
	s.ExpectedContent = []string{`"status":500`, "Stripe will retry"}
	s.AfterTestFunc = afterAll(
		expectRecordCount(c.Orders, shop.Orders),
		expectRecordCount(c.OrderItems, shop.Items),
		webhookExpectLedger(0),
	)
	s.Test(t)
}
