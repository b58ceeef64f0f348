package payments_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/internal/shoptest"
)

// TestRefundBeforeItsPaymentIsAppliedOnce: Stripe does not order its
// deliveries, so a charge.refunded may come before the
// checkout.session.completed of the same payment, when no order has its
// payment intent yet. The refund is kept (parked) and applied when the
// payment reaches its order, in that payment's transaction: the order ends
// refunded (or partly refunded) with the right refunded_amount, a whole
// refund gives the stock back once, each email is queued once, and
// repeats of either event change nothing more.
func TestRefundBeforeItsPaymentIsAppliedOnce(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name     string
		whole    bool
		refunded int
		status   c.OrderStatus
		emails   []string
	}{
		{"whole refund", true, shoptest.WebhookOrderTotal, c.StatusRefunded,
			[]string{c.TemplateOrderPaid, c.TemplateOrderRefunded}},
		{"partial refund", false, 1000, c.StatusPaid,
			[]string{c.TemplateOrderPaid, c.TemplateOrderPartlyRefunded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
			shoptest.WebhookStockOrder(t, rig.App)
			charge := webhookCharge(shoptest.WebhookPaymentIntent, tc.whole)
			session := shoptest.WebhookSession(shop.CustomerOrder, "paid")

			status, body := parkedDeliver(t, rig, "evt_early_refund", "charge.refunded", charge)
			if status != http.StatusOK {
				t.Fatalf("the early refund answered %d %s, want 200", status, body)
			}
			rig.Check(t, webhookOrderUnpaid(),
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderRefundedAmount, 0))

			rig.Deliver(t, "evt_late_payment", "checkout.session.completed", session, true)
			settled := shoptest.AfterAll(
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, tc.status),
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderRefundedAmount, tc.refunded),
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripePaymentIntent, shoptest.WebhookPaymentIntent),
				shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStripeRefund, "re_test_webhook_1"),
				shoptest.WebhookExpectFilled(c.Orders, shop.CustomerOrder, c.OrderPaidAt),
				// Paid (the stock taken), then wholly refunded before
				// shipping (given back): as it was. A part refund keeps it.
				shoptest.WebhookExpectStock(!tc.whole),
				webhookExpectLedger(2, "evt_early_refund", "evt_late_payment"),
			)
			rig.Check(t, settled)
			parkedExpectLedger(t, rig, c.EventApplied, "evt_early_refund", "evt_late_payment")
			parkedExpectEmails(t, rig, shop.CustomerOrder, tc.emails...)

			for _, again := range []struct {
				id, kind string
				object   map[string]any
			}{
				{"evt_early_refund", "charge.refunded", charge},
				{"evt_late_payment", "checkout.session.completed", session},
			} {
				rig.Deliver(t, again.id, again.kind, again.object, false)
			}
			rig.Check(t, settled)
			parkedExpectEmails(t, rig, shop.CustomerOrder, tc.emails...)
		})
	}
}

// TestSyncAppliesTheRefundsParkedForItsInvoices: the nightly sync is a way
// a payment reaches its order too, for an order it pays (markOrderPaid)
// and for a new order it inserts past the record hooks. Refunds parked for
// those payments are applied in the sync's transaction, silently.
func TestSyncAppliesTheRefundsParkedForItsInvoices(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	importPrepare(t, rig.app, false)
	handler := shoptest.ServeShop(t, rig.app)
	for id, charge := range map[string]map[string]any{
		// the new order of an invoice made outside the shop: refunded whole
		"evt_sync_whole": {"id": "ch_sync_whole", "object": "charge", "payment_intent": "pi_in_imp_customer",
			"amount": 1400, "amount_refunded": 1400, "refunded": true},
		// the customer's pending order, paid by its invoice: refunded in part
		"evt_sync_part": {"id": "ch_sync_part", "object": "charge", "payment_intent": "pi_in_imp_checkout",
			"amount": 1400, "amount_refunded": 500, "refunded": false},
	} {
		payload, signature := shoptest.StripeEvent(t, id, "charge.refunded", charge)
		req := httptest.NewRequest(http.MethodPost, shoptest.WebhookURL, strings.NewReader(string(payload)))
		req.Header.Set("Stripe-Signature", signature)
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"status":"parked"`) {
			t.Fatalf("%s: %d %s, want 200 parked", id, res.Code, res.Body)
		}
	}
	rig.fake.AddInvoices(importInvoices()...)
	run := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	syncExpectRun(t, rig.app, run, c.JobSucceeded, jobs.RunCounts{Fetched: 5, Created: 4, Updated: 1})

	for invoice, want := range map[string]struct {
		status   c.OrderStatus
		refunded int
	}{
		"in_imp_customer": {c.StatusRefunded, 1400},
		"in_imp_checkout": {c.StatusPaid, 500},
	} {
		order, err := rig.app.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, invoice)
		if err != nil {
			t.Fatalf("order of %s: %v", invoice, err)
		}
		if o := c.NewOrder(order); o.Status() != want.status || o.RefundedAmount() != want.refunded {
			t.Errorf("order of %s is %s with %d refunded, want %s with %d", invoice, o.Status(), o.RefundedAmount(), want.status, want.refunded)
		}
		if n := len(shoptest.EmailJobs(t, rig.app, order.Id)); n != 0 {
			t.Errorf("the sync queued %d emails for the order of %s, want none", n, invoice)
		}
	}
	for _, id := range []string{"evt_sync_whole", "evt_sync_part"} {
		var status string
		if err := rig.app.DB().Select(c.StripeEventStatus).From(c.StripeEvents).
			Where(dbx.HashExp{c.StripeEventID: id}).Row(&status); err != nil || status != c.EventApplied {
			t.Errorf("ledger row of %s is %q (%v), want applied", id, status, err)
		}
	}
}

// TestRefundsParkedTooLongAreDeleted: refunds of payments that never
// become an order's (another business on the Stripe account) do not pile
// up: parking a refund deletes those parked more than 30 days ago, when
// no event of theirs can come any more; younger ones wait on.
func TestRefundsParkedTooLongAreDeleted(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	park := func(id, paymentIntent string) {
		t.Helper()
		status, body := parkedDeliver(t, rig, id, "charge.refunded", webhookCharge(paymentIntent, true))
		if status != http.StatusOK || !strings.Contains(body, `"status":"parked"`) {
			t.Fatalf("%s: %d %s, want 200 parked", id, status, body)
		}
	}
	park("evt_parked_long_ago", "pi_test_someone_elses_1")
	park("evt_parked_lately", "pi_test_someone_elses_2")
	for id, age := range map[string]time.Duration{"evt_parked_long_ago": 31 * 24 * time.Hour, "evt_parked_lately": 29 * 24 * time.Hour} {
		shoptest.WebhookSetFields(t, rig.App, c.StripeEvents, parkedRowID(t, rig, id),
			dbx.Params{c.StripeEventCreated: types.NowDateTime().Add(-age).String()})
	}
	park("evt_parked_now", "pi_test_someone_elses_3")
	rig.Check(t, webhookExpectLedger(2, "evt_parked_lately", "evt_parked_now"))
	parkedExpectLedger(t, rig, "parked", "evt_parked_lately", "evt_parked_now")
}

// parkedRowID is the id of an event's ledger row.
func parkedRowID(t *testing.T, rig *shoptest.WebhookRig, eventID string) string {
	t.Helper()
	row, err := rig.App.FindFirstRecordByData(c.StripeEvents, c.StripeEventID, eventID)
	if err != nil {
		t.Fatalf("ledger row of %s: %v", eventID, err)
	}
	return row.Id
}

// parkedDeliver posts a signed event and returns the status and body.
func parkedDeliver(t *testing.T, rig *shoptest.WebhookRig, id, eventType string, object any) (int, string) {
	t.Helper()
	payload, signature := shoptest.StripeEvent(t, id, eventType, object)
	return rig.Send(t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
}

// parkedExpectLedger checks the ledger status of each event.
func parkedExpectLedger(t *testing.T, rig *shoptest.WebhookRig, status string, eventIDs ...string) {
	t.Helper()
	for _, id := range eventIDs {
		var got string
		err := rig.App.DB().Select(c.StripeEventStatus).From(c.StripeEvents).
			Where(dbx.HashExp{c.StripeEventID: id}).Row(&got)
		if err != nil || got != status {
			t.Fatalf("ledger row of %s is %q (%v), want %q", id, got, err, status)
		}
	}
}

// parkedExpectEmails checks that an order has exactly these email jobs,
// one of each template.
func parkedExpectEmails(t *testing.T, rig *shoptest.WebhookRig, order string, templates ...string) {
	t.Helper()
	got := map[string]int{}
	for _, job := range shoptest.EmailJobs(t, rig.App, order) {
		got[job.GetString(c.EmailJobTemplate)]++
	}
	want := map[string]int{}
	for _, template := range templates {
		want[template] = 1
	}
	if !maps.Equal(got, want) {
		t.Fatalf("order %s has emails %v, want %v", order, got, want)
	}
}
