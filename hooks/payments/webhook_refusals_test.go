package payments_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// refusalRig is a webhook rig whose operator alerts are mailed.
func refusalRig(t *testing.T) *shoptest.WebhookRig {
	t.Helper()
	rig := shoptest.NewWebhookRig(t, func(baseURL string) hooks.Config {
		cfg := shoptest.StripeConfig(baseURL)
		cfg.AlertEmail = "ops@example.com"
		return cfg
	})
	shoptest.WebhookStockOrder(t, rig.App)
	return rig
}

// refusalDeliver posts a signed event and returns the status and body.
func refusalDeliver(t *testing.T, rig *shoptest.WebhookRig, id, eventType string, object any) (int, string) {
	t.Helper()
	payload, signature := shoptest.StripeEvent(t, id, eventType, object)
	return rig.Send(t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
}

// refusalExpectLedger checks the ledger row of a refused event.
func refusalExpectLedger(t *testing.T, rig *shoptest.WebhookRig, eventID, status string) *core.Record {
	t.Helper()
	row, err := rig.App.FindFirstRecordByData(c.StripeEvents, c.StripeEventID, eventID)
	if err != nil {
		t.Fatalf("no ledger row of %s: %v", eventID, err)
	}
	if got := row.GetString(c.StripeEventStatus); got != status || row.GetString(c.StripeEventReason) == "" {
		t.Fatalf("ledger row of %s is %q with reason %q, want %q with a reason", eventID, got, row.GetString(c.StripeEventReason), status)
	}
	return row
}

// refusalAlerts counts the operator alerts mailed about event refusals,
// once want of them arrived or the wait ran out (shoptest.AwaitAlerts).
func refusalAlerts(rig *shoptest.WebhookRig, want int) int {
	return shoptest.AlertsTo(shoptest.AwaitAlerts(rig.App, want), "Stripe event")
}

// TestPaymentForAnotherSessionDoesNotPayTheOrder: client_reference_id and
// metadata are no proof (a buyer sets client_reference_id on a Payment
// Link), and a payment must be the order's own and whole. Each refused
// payment is answered 200 (Stripe must not retry it), recorded as
// mismatched with its reason, alerted once, and leaves the order as it was.
func TestPaymentForAnotherSessionDoesNotPayTheOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	foreign := map[string]any{
		"id": "cs_test_payment_link", "object": "checkout.session", "client_reference_id": shop.CustomerOrder,
		"status": "complete", "payment_status": "paid", "amount_total": 1, "currency": "jpy",
		"payment_intent": "pi_test_payment_link",
	}
	withMetadata := map[string]any{}
	for k, v := range foreign {
		withMetadata[k] = v
	}
	withMetadata["metadata"] = map[string]any{"order_id": shop.CustomerOrder}
	own := func(change func(map[string]any)) map[string]any {
		s := shoptest.WebhookSession(shop.CustomerOrder, "paid")
		change(s)
		return s
	}
	for _, tc := range []struct {
		name    string
		session map[string]any
	}{
		{"another session naming the order in client_reference_id", foreign},
		{"another session naming the order in its metadata", withMetadata},
		{"the order's session paying less than the total", own(func(s map[string]any) { s["amount_total"] = shoptest.WebhookOrderTotal - 1 })},
		{"the order's session paid in another currency", own(func(s map[string]any) { s["currency"] = "jpy" })},
		{"the order's session with no currency", own(func(s map[string]any) { delete(s, "currency") })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := refusalRig(t)
			for range 2 { // Stripe repeating it changes nothing, and alerts once
				status, body := refusalDeliver(t, rig, "evt_test_mismatch", "checkout.session.completed", tc.session)
				if status != http.StatusOK || !strings.Contains(body, `"applied":false`) {
					t.Fatalf("mismatched payment answered %d %s, want 200 not applied", status, body)
				}
			}
			refusalExpectLedger(t, rig, "evt_test_mismatch", c.EventMismatched)
			rig.Check(t,
				webhookOrderUnpaid(),
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeSession, shoptest.WebhookSessionID),
			)
			if jobs := shoptest.EmailJobs(t, rig.App, shop.CustomerOrder); len(jobs) != 0 {
				t.Fatalf("the order has %d email jobs, want none", len(jobs))
			}
			if n := refusalAlerts(rig, 1); n != 1 {
				t.Fatalf("%d operator alerts, want 1", n)
			}
		})
	}

	t.Run("the order's own session paying the total and tax on top", func(t *testing.T) {
		t.Parallel()
		rig := refusalRig(t)
		rig.Deliver(t, "evt_test_with_tax", "checkout.session.completed",
			own(func(s map[string]any) { s["amount_total"] = shoptest.WebhookOrderTotal + 420 }), true)
		rig.Check(t, shoptest.WebhookOrderPaid())
	})
}

// TestExpiryOfAnotherSessionDoesNotCancelTheOrder: a session that names
// one of our orders without being its session cannot cancel it either; as
// anyone can open and abandon such a session, it alerts nobody.
func TestExpiryOfAnotherSessionDoesNotCancelTheOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := refusalRig(t)
	rig.Deliver(t, "evt_test_foreign_expiry", "checkout.session.expired", map[string]any{
		"id": "cs_test_someone_elses", "object": "checkout.session", "client_reference_id": shop.CustomerOrder,
		"metadata": map[string]any{"order_id": shop.CustomerOrder}, "status": "expired", "payment_status": "unpaid",
	}, true)
	rig.Check(t, webhookOrderUnpaid())
	if n := refusalAlerts(rig, 0); n != 0 {
		t.Fatalf("%d operator alerts, want none", n)
	}
}

// TestPaymentThatPaysNoOrderIsMismatched: money that reached Stripe for
// an order that cannot take it (cancelled before it was paid, or deleted
// since its checkout) is recorded and alerted, for a refund by hand.
func TestPaymentThatPaysNoOrderIsMismatched(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	t.Run("order cancelled unpaid", func(t *testing.T) {
		t.Parallel()
		rig := refusalRig(t)
		shoptest.SetStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)
		rig.Deliver(t, "evt_test_after_cancel", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"), false)
		refusalExpectLedger(t, rig, "evt_test_after_cancel", c.EventMismatched)
		rig.Check(t, shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusCancelled),
			shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderPaidAt, ""))
		if n := refusalAlerts(rig, 1); n != 1 {
			t.Fatalf("%d operator alerts, want 1", n)
		}
	})
	t.Run("order gone", func(t *testing.T) {
		t.Parallel()
		rig := refusalRig(t)
		rig.Deliver(t, "evt_test_gone", "checkout.session.completed", map[string]any{
			"id": "cs_test_gone", "object": "checkout.session", "metadata": map[string]any{"order_id": "nosuchorder0001"},
			"payment_status": "paid", "status": "complete", "amount_total": 900, "currency": "usd",
		}, false)
		refusalExpectLedger(t, rig, "evt_test_gone", c.EventMismatched)
	})
}

// TestInvoiceOrderKeepsNoControlCharacters: the name and line texts of an
// invoice are the buyer's words at Stripe; the order keeps them without
// the characters the shop's forms refuse.
func TestInvoiceOrderKeepsNoControlCharacters(t *testing.T) {
	t.Parallel()
	rig := refusalRig(t)
	rig.Deliver(t, "evt_test_dirty", "invoice.paid", map[string]any{
		"id": "in_test_dirty", "object": "invoice", "status": "paid", "customer_email": "buyer@example.com",
		"customer_name": "Eve\r\nBcc: x\u0000\u202e", "amount_paid": 700, "currency": "usd", "created": time.Now().Unix(),
		"lines": map[string]any{"object": "list", "data": []any{map[string]any{"id": "il_test_dirty", "object": "line_item",
			"description": "Book\u0000\u202e\nTwo", "quantity": 1, "amount": 700}}},
	}, true)
	order, err := rig.App.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, "in_test_dirty")
	if err != nil {
		t.Fatal(err)
	}
	item, err := rig.App.FindFirstRecordByData(c.OrderItems, c.ItemOrder, order.Id)
	if err != nil {
		t.Fatal(err)
	}
	if name, line := order.GetString(c.OrderCustomerName), item.GetString(c.ItemProductName); name != "EveBcc: x" || line != "BookTwo" {
		t.Fatalf("stored name %q and line %q, want %q and %q", name, line, "EveBcc: x", "BookTwo")
	}
}

// TestInvoiceWithCreditLineBecomesDiscountedOrder: credit and discount
// lines are the order's discount, not items with negative prices, and
// its total is what was paid.
func TestInvoiceWithCreditLineBecomesDiscountedOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := refusalRig(t)
	invoice := map[string]any{
		"id": "in_test_credit", "object": "invoice", "status": "paid", "customer_email": shop.Customer.Email,
		"amount_paid": 900, "currency": "usd", "created": time.Now().Unix(),
		"total_discount_amounts": []any{map[string]any{"amount": 100, "discount": "di_test"}},
		"lines": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "il_test_goods", "object": "line_item", "description": "Goods", "quantity": 1, "amount": 1500,
				"price": map[string]any{"id": "price_test_goods", "object": "price", "unit_amount": 1500}},
			map[string]any{"id": "il_test_credit", "object": "line_item", "description": "Credit", "quantity": 1, "amount": -500,
				"price": map[string]any{"id": "price_test_credit", "object": "price", "unit_amount": -500}},
		}},
	}
	rig.Deliver(t, "evt_test_credit", "invoice.paid", invoice, true)
	order, err := rig.App.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, "in_test_credit")
	if err != nil {
		t.Fatal(err)
	}
	items, err := rig.App.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order.Id})
	if err != nil {
		t.Fatal(err)
	}
	if order.GetInt(c.OrderTotal) != 900 || order.GetInt(c.OrderDiscount) != 600 || len(items) != 1 ||
		items[0].GetInt(c.ItemUnitPrice) != 1500 || order.GetInt(c.OrderItemCount) != 1 {
		t.Fatalf("order total %d discount %d with %d items, want 900, 600 and the one 1500 item",
			order.GetInt(c.OrderTotal), order.GetInt(c.OrderDiscount), len(items))
	}
}

// TestEventThatCanNeverApplyIsRecordedFailed: an event whose content can
// never be applied (an invoice without a currency, an object that does
// not decode) is recorded failed with its reason, alerted once and
// answered 200, on every delivery: a run of 500s is what makes Stripe
// disable an endpoint.
func TestEventThatCanNeverApplyIsRecordedFailed(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name, eventType string
		object          any
	}{
		{"invoice.paid without a currency", "invoice.paid", map[string]any{
			"id": "in_test_no_currency", "object": "invoice", "status": "paid", "customer_email": shop.Customer.Email,
			"amount_paid": 1500, "currency": "", "created": time.Now().Unix(),
			"lines": map[string]any{"object": "list", "data": []any{map[string]any{"id": "il_test_x", "object": "line_item",
				"description": "Goods", "quantity": 1, "amount": 1500}}},
		}},
		{"a charge whose payment intent is a number", "charge.refunded", map[string]any{
			"id": "ch_test_garbled", "object": "charge", "payment_intent": 12, "refunded": true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := refusalRig(t)
			ordersBefore := countOf(t, rig, c.Orders)
			for range 3 {
				status, body := refusalDeliver(t, rig, "evt_test_never", tc.eventType, tc.object)
				if status != http.StatusOK {
					t.Fatalf("answered %d %s, want 200", status, body)
				}
			}
			refusalExpectLedger(t, rig, "evt_test_never", c.EventFailed)
			if n := countOf(t, rig, c.Orders); n != ordersBefore {
				t.Fatalf("%d orders, want %d", n, ordersBefore)
			}
			if n := refusalAlerts(rig, 1); n != 1 {
				t.Fatalf("%d operator alerts, want 1", n)
			}
		})
	}
}

// countOf counts the records of a collection.
func countOf(t *testing.T, rig *shoptest.WebhookRig, collection string) int {
	t.Helper()
	n, err := rig.App.CountRecords(collection)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestArrivalDateMustBeARealDateOfAnOrderInTransit: support cannot clear
// the date with garbage, set one before the order, or date an order that
// will not arrive; the order and its items keep theirs.
func TestArrivalDateMustBeARealDateOfAnOrderInTransit(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	paid, err := rig.App.FindRecordById(c.Orders, shop.CustomerPaidOrder)
	if err != nil {
		t.Fatal(err)
	}
	before := paid.GetString(c.OrderEstimatedArrival)
	patch := func(order, body string) (int, string) {
		return rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+order, body, shoptest.Headers(shop.Support))
	}
	for _, tc := range []struct {
		name, order, value, code string
	}{
		{"garbage", shop.CustomerPaidOrder, "next tuesday", "validation_invalid_date"},
		{"empty", shop.CustomerPaidOrder, "", "validation_invalid_date"},
		{"1970", shop.CustomerPaidOrder, "1970-01-02 00:00:00.000Z", "validation_before_order"},
		{"ten years ahead", shop.CustomerPaidOrder, time.Now().AddDate(10, 0, 0).UTC().Format("2006-01-02"), "validation_too_far"},
	} {
		status, body := patch(tc.order, fmt.Sprintf(`{"estimated_arrival":%q}`, tc.value))
		if status != http.StatusBadRequest || !strings.Contains(body, tc.code) {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, status, body, tc.code)
		}
	}
	rig.Check(t, shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderEstimatedArrival, before))
	items, _ := rig.App.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: shop.CustomerPaidOrder})
	for _, it := range items {
		if got := it.GetString(c.ItemEstimatedArrival); got != "" && got != before {
			t.Errorf("item %s arrives %s, want %s", it.Id, got, before)
		}
	}
	for _, status := range []c.OrderStatus{c.StatusCancelled, c.StatusRefunded, c.StatusDelivered, c.StatusPending} {
		shoptest.SetStatus(t, rig.App, shop.CustomerOrder, status)
		code, body := patch(shop.CustomerOrder, fmt.Sprintf(`{"estimated_arrival":%q}`, time.Now().AddDate(0, 0, 7).UTC().Format("2006-01-02")))
		if code != http.StatusBadRequest || !strings.Contains(body, "validation_not_in_transit") {
			t.Errorf("dating a %s order: %d %s, want 400 validation_not_in_transit", status, code, body)
		}
	}
}

// TestSignedEventTheShopCannotReadIsRefusedWith400: a correctly signed
// body that is no event the ledger can hold (an id empty or longer than
// the ledger's 255 characters, an object that is not a JSON object) is
// refused with a 400 that names the field, not a 500 Stripe would retry
// for days nor "Invalid Stripe signature"; nothing is written, nobody is
// alerted.
func TestSignedEventTheShopCannotReadIsRefusedWith400(t *testing.T) {
	t.Parallel()
	charge := map[string]any{"id": "ch_test_unreadable", "object": "charge", "payment_intent": "pi_test_unreadable", "refunded": true}
	for _, tc := range []struct {
		name, id string
		object   any
		field    string
	}{
		{"an empty id", "", charge, `"id":{"code":"validation_required"`},
		{"an id longer than the ledger holds", "evt_" + strings.Repeat("x", 252), charge, `"id":{"code":"validation_length_too_long"`},
		{"an object that is a string", "evt_test_string_object", "ch_test_unreadable", `"data":{"object":{"code":"validation_invalid_type"`},
		{"an object that is a list", "evt_test_list_object", []any{charge}, `"data":{"object":{"code":"validation_invalid_type"`},
		{"an object that is null", "evt_test_null_object", nil, `"data":{"object":{"code":"validation_invalid_type"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := refusalRig(t)
			for range 2 {
				status, body := refusalDeliver(t, rig, tc.id, "charge.refunded", tc.object)
				if status != http.StatusBadRequest || !strings.Contains(body, tc.field) || strings.Contains(body, "signature") {
					t.Fatalf("answered %d %s, want 400 with %s", status, body, tc.field)
				}
			}
			if n := countOf(t, rig, c.StripeEvents); n != 0 {
				t.Fatalf("%d ledger rows, want none", n)
			}
			if n := refusalAlerts(rig, 0); n != 0 {
				t.Fatalf("%d operator alerts, want none", n)
			}
		})
	}
	t.Run("an id of 255 characters is taken", func(t *testing.T) {
		t.Parallel()
		rig := refusalRig(t)
		rig.Deliver(t, "evt_"+strings.Repeat("x", 251), "checkout.session.expired",
			map[string]any{"id": "cs_test_not_ours", "object": "checkout.session", "status": "expired"}, true)
	})
}
