package payments_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76/webhook"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
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
		URL:            shoptest.WebhookURL,
		Body:           bytes.NewReader(payload),
		TestAppFactory: webhookShop,
	}
	if signature != "" {
		s.Headers = map[string]string{"Stripe-Signature": signature}
	}
	return s
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

func webhookBeforeStockOrder(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
	shoptest.WebhookStockOrder(t, app)
}

// webhookExpectLedger checks that the ledger holds want rows in all and
// one row for each of the events.
func webhookExpectLedger(want int, eventIDs ...string) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		shoptest.ExpectRecordCount(c.StripeEvents, want)(t, app, res)
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
func webhookExpectLedgerRow(eventID, eventType, objectID string) shoptest.AfterFunc {
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
// everything a payment would touch are as shoptest.WebhookStockOrder left them.
func webhookOrderUnpaid() shoptest.AfterFunc {
	shop := shoptest.Shop()
	return shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderPaidAt, ""),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripePaymentIntent, ""),
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, ""),
		shoptest.WebhookExpectStock(false),
	)
}

// TestWebhookRefusesUnverifiedEvents: anyone can post to the webhook, so
// only a body signed with our secret, recently, may change anything.
func TestWebhookRefusesUnverifiedEvents(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	session := shoptest.WebhookSession(shop.CustomerOrder, "paid")
	payload, signature := shoptest.StripeEvent(t, "evt_test_unverified", "checkout.session.completed", session)
	// a genuine signature on a body turned to pay the other customer's order.
	forged := bytes.ReplaceAll(payload, []byte(shop.CustomerOrder), []byte(shop.Customer2Order))
	nothingChanged := shoptest.AfterAll(
		webhookOrderUnpaid(),
		shoptest.ExpectStored(c.Orders, shop.Customer2Order, c.OrderStatusField, c.StatusPending),
		webhookExpectLedger(0),
	)
	badSignature := []string{`"status":400`, `"message":"Invalid Stripe signature."`}

	scenarios := []tests.ApiScenario{
		webhookDelivery("signed with another secret", payload, webhookSign(payload, "whsec_test_someone_else", time.Now())),
		webhookDelivery("body changed after signing", forged, signature),
		webhookDelivery("signed ten minutes ago (a replay)", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now().Add(-10*time.Minute))),
		webhookDelivery("signed ten minutes ahead (replayable for longer)", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now().Add(10*time.Minute))),
		webhookDelivery("signed ahead by a day", payload, webhookSign(payload, shoptest.WebhookSecret, time.Now().Add(24*time.Hour))),
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

// TestWebhookAcceptsClockSkewWithinTheTolerance: a signature dated up to
// the 5-minute tolerance before or after our clock is Stripe's, with one
// of the two clocks a little off.
func TestWebhookAcceptsClockSkewWithinTheTolerance(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, skew := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		payload, _ := shoptest.StripeEvent(t, "evt_test_skewed", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"))
		s := webhookDelivery(fmt.Sprintf("signed %s from now", skew), payload, webhookSign(payload, shoptest.WebhookSecret, time.Now().Add(skew)))
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = shoptest.AfterAll(shoptest.WebhookOrderPaid(), webhookExpectLedger(1, "evt_test_skewed"))
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
		payload, _ := shoptest.StripeEvent(t, "evt_test_rotated", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"))
		s := webhookDelivery("signed with "+secret, payload, webhookSign(payload, secret, time.Now()))
		s.TestAppFactory = rotating
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = shoptest.AfterAll(shoptest.WebhookOrderPaid(), webhookExpectLedger(1, "evt_test_rotated"))
		s.Test(t)
	}
}

// TestWebhookAppliesEventOfAnotherAPIVersion: the fields the shop reads
// are stable across versions, so an endpoint left on another version
// still works.
func TestWebhookAppliesEventOfAnotherAPIVersion(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	payload, _ := shoptest.StripeEvent(t, "evt_test_old_version", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"))
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
	s.AfterTestFunc = shoptest.AfterAll(shoptest.WebhookOrderPaid(), webhookExpectLedger(1, "evt_test_old_version"))
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
		{"customer.created", map[string]any{"id": shoptest.WebhookCustomerID, "object": "customer", "email": shop.Customer.Email}},
		{"payment_intent.succeeded", map[string]any{"id": shoptest.WebhookPaymentIntent, "object": "payment_intent",
			"status": "succeeded", "metadata": map[string]any{"order_id": shop.CustomerOrder}}},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_unhandled", ev.eventType, ev.object)
		s := webhookDelivery(ev.eventType, payload, signature)
		s.BeforeTestFunc = webhookBeforeStockOrder
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"received":true`, `"applied":false`}
		s.AfterTestFunc = shoptest.AfterAll(webhookOrderUnpaid(), webhookExpectLedger(0))
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
		s.AfterTestFunc = shoptest.AfterAll(
			shoptest.WebhookOrderPaid(),
			shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeSession, shoptest.WebhookSessionID),
			shoptest.ExpectStored(c.Orders, shop.Customer2Order, c.OrderStatusField, c.StatusPending),
			shoptest.ExpectRecordCount(c.Orders, shop.Orders),
			webhookExpectLedger(1, "evt_test_completed"),
			webhookExpectLedgerRow("evt_test_completed", "checkout.session.completed", shoptest.WebhookSessionID),
		)
		return s
	}
	// a session that lost its metadata is still found by the session id
	// checkout stored on the order.
	bare := shoptest.WebhookSession("", "paid")
	delete(bare, "metadata")
	delete(bare, "client_reference_id")
	scenarios := []tests.ApiScenario{
		paid("session with the order id", shoptest.WebhookSession(shop.CustomerOrder, "paid"), webhookBeforeStockOrder),
		paid("session found by its id alone", bare, webhookBeforeStockOrder),
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestRepeatedWebhookAppliesOnce(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.WebhookStockOrder(t, rig.App)
	session := shoptest.WebhookSession(shop.CustomerOrder, "paid")
	// Stripe resends the very same event (same id) when it misses our 200.
	for i := range 10 {
		rig.Deliver(t, "evt_test_repeated", "checkout.session.completed", session, i == 0)
	}
	rig.Check(t,
		shoptest.WebhookOrderPaid(),
		shoptest.ExpectRecordCount(c.Orders, shop.Orders),
		webhookExpectLedger(1, "evt_test_repeated"),
	)
}

func TestCheckoutEndedWithoutPayment(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	cancelled := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusCancelled),
		shoptest.WebhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderCancelReason),
		shoptest.WebhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderCancelledAt),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderPaidAt, ""),
		shoptest.WebhookExpectStock(false),
		webhookExpectLedger(1, "evt_test_ended"),
	)
	for _, tc := range []struct {
		name, eventType, paymentStatus string
		after                          shoptest.AfterFunc
	}{
		{"expired session cancels the pending order", "checkout.session.expired", "unpaid", cancelled},
		{"failed delayed payment cancels the pending order", "checkout.session.async_payment_failed", "unpaid", cancelled},
		// a delayed payment method (bank debit) completes the session
		// before the money arrives.
		{"completed but unpaid session leaves the order pending", "checkout.session.completed", "unpaid", shoptest.AfterAll(
			webhookOrderUnpaid(),
			shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderCancelReason, ""),
		)},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_ended", tc.eventType, shoptest.WebhookSession(shop.CustomerOrder, tc.paymentStatus))
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
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.WebhookStockOrder(t, rig.App)
	rig.Deliver(t, "evt_test_paid", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"), true)
	rig.Deliver(t, "evt_test_expired", "checkout.session.expired", shoptest.WebhookSession(shop.CustomerOrder, "paid"), true)
	rig.Check(t,
		shoptest.WebhookOrderPaid(),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderCancelReason, ""),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderCancelledAt, ""),
		webhookExpectLedger(2, "evt_test_paid", "evt_test_expired"),
	)
}

func TestChargeRefundedEvent(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const pi = "pi_test_refunded_1"
	paidOrder := func(status c.OrderStatus) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
		return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			shoptest.WebhookSetFields(t, app, c.Orders, shop.CustomerPaidOrder, dbx.Params{c.OrderStripePaymentIntent: pi})
			shoptest.SetStatus(t, app, shop.CustomerPaidOrder, status)
		}
	}
	refunded := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusRefunded),
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStripeRefund, "re_test_webhook_1"),
		webhookExpectLedger(1, "evt_test_refund"),
	)
	for _, tc := range []struct {
		name          string
		from          c.OrderStatus
		paymentIntent string
		full          bool
		after         shoptest.AfterFunc
	}{
		{"full refund of a paid order", c.StatusPaid, pi, true, refunded},
		{"full refund of a shipped order", c.StatusShipped, pi, true, refunded},
		{"full refund of a delivered order", c.StatusDelivered, pi, true, refunded},
		{"partial refund leaves a paid order paid", c.StatusPaid, pi, false, shoptest.AfterAll(
			shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid),
			webhookExpectLedger(1, "evt_test_refund"),
			// A refund made in Stripe's dashboard is told to the customer too.
			func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				jobs, err := app.FindAllRecords(c.EmailJobs, dbx.HashExp{c.EmailJobOrder: shop.CustomerPaidOrder, c.EmailJobTemplate: c.TemplateOrderPartlyRefunded})
				if err != nil || len(jobs) != 1 || jobs[0].GetInt(c.EmailJobRefund) != 1000 {
					t.Fatalf("partial refund emails %v (%v), want one of 1000", jobs, err)
				}
			},
		)},
		{"partial refund leaves a shipped order shipped", c.StatusShipped, pi, false,
			shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusShipped)},
		// the shop's own cancel refunds; Stripe then reports that refund.
		{"refund of a cancelled order keeps it cancelled", c.StatusCancelled, pi, true, shoptest.AfterAll(
			shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusCancelled),
			webhookExpectLedger(1, "evt_test_refund"),
		)},
		// parked for its payment, which may come later (refund_parked_test.go)
		{"refund of a payment the shop never saw changes no order", c.StatusPaid, "pi_test_elsewhere", true, shoptest.AfterAll(
			shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid),
			shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStripeRefund, ""),
			webhookExpectLedger(1, "evt_test_refund"),
		)},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_refund", "charge.refunded", webhookCharge(tc.paymentIntent, tc.full))
		s := webhookDelivery(tc.name, payload, signature)
		s.BeforeTestFunc = paidOrder(tc.from)
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		if tc.paymentIntent != pi {
			s.ExpectedContent = []string{`"applied":false`, `"status":"parked"`}
		}
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
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.WebhookStockOrder(t, rig.App)
	items, err := rig.App.CountRecords(c.OrderItems)
	if err != nil {
		t.Fatal(err)
	}
	invoice := map[string]any{
		"id": shoptest.WebhookInvoiceID, "object": "invoice", "status": "paid",
		"metadata": map[string]any{"order_id": shop.CustomerOrder},
		"customer": shoptest.WebhookCustomerID, "customer_email": shop.Customer.Email,
		"payment_intent": shoptest.WebhookPaymentIntent, "amount_paid": 5000, "currency": "usd",
		"created": time.Now().Add(-time.Minute).Unix(),
	}
	rig.Deliver(t, "evt_test_invoice_first", "invoice.paid", invoice, true)
	rig.Check(t,
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPaid),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeInvoice, shoptest.WebhookInvoiceID),
		shoptest.WebhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderPaidAt),
		shoptest.WebhookExpectStock(true),
		shoptest.ExpectRecordCount(c.Orders, shop.Orders),
		shoptest.ExpectRecordCount(c.OrderItems, int(items)),
	)

	rig.Deliver(t, "evt_test_session_second", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"), true)
	rig.Check(t,
		shoptest.WebhookOrderPaid(),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeSession, shoptest.WebhookSessionID),
		shoptest.ExpectRecordCount(c.Orders, shop.Orders),
		webhookExpectLedger(2, "evt_test_invoice_first", "evt_test_session_second"),
	)
}

// TestInvoicePaidForUnknownInvoiceCreatesOneOrder: an invoice made in
// Stripe's dashboard becomes a paid order of the customer it names.
func TestInvoicePaidForUnknownInvoiceCreatesOneOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
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
	rig.Deliver(t, "evt_test_outside_1", "invoice.paid", invoice, true)

	expectOneOrder := func() {
		t.Helper()
		rig.Check(t,
			shoptest.ExpectRecordCount(c.Orders, shop.Orders+1),
			shoptest.ExpectRecordCount(c.OrderItems, shop.Items+2),
		)
		order, err := rig.App.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, invoiceID)
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
		items, err := rig.App.FindRecordsByFilter(c.OrderItems, "order = {:o}", "product_name", 0, 0, dbx.Params{"o": order.Id})
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
	rig.Deliver(t, "evt_test_outside_2", "invoice.paid", invoice, true)
	expectOneOrder()
	rig.Check(t, webhookExpectLedger(2, "evt_test_outside_1", "evt_test_outside_2"))
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
	s.AfterTestFunc = shoptest.AfterAll(
		shoptest.ExpectRecordCount(c.Orders, shop.Orders),
		shoptest.ExpectRecordCount(c.OrderItems, shop.Items),
		webhookExpectLedger(0),
	)
	s.Test(t)
}
