package payments_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// claimPaidOrder is a rig with a paid order of two units, made by a
// checkout and its payment event, and the order's payment intent.
func claimPaidOrder(t *testing.T) (*shoptest.WebhookRig, string, string) {
	t.Helper()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	stockSet(t, rig, shop.PhysicalProduct, 5)
	out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 2)
	intent := stockPay(t, rig, "evt_claim_paid", out)
	return rig, stockOrderID(out), intent
}

// claimAwait waits until an operation holds the order.
func claimAwait(t *testing.T, rig *shoptest.WebhookRig, order string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var claim string
		if err := rig.App.DB().Select(c.OrderClaim).From(c.Orders).Where(dbx.HashExp{"id": order}).Row(&claim); err != nil {
			t.Fatal(err)
		}
		if claim != "" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the cancel never claimed the order")
}

// TestRefundUnderWayHoldsOffOtherChanges: while a cancel waits for
// Stripe's refund, shipping the order and a second cancel get 409 before
// anything happens, and Stripe's charge.refunded waits; the cancel then
// records its refund and gives the stock back once, and the customer is
// told it worked.
func TestRefundUnderWayHoldsOffOtherChanges(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig, order, intent := claimPaidOrder(t)
	rig.Fake.Delay("POST /v1/refunds", time.Second)

	var wg sync.WaitGroup
	var cancelStatus, refundStatus int
	var cancelBody, refundBody string
	wg.Go(func() {
		cancelStatus, cancelBody = rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{"reason":"changed my mind"}`,
			shoptest.Headers(shop.Customer))
	})
	claimAwait(t, rig, order)

	if status, body := rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+order, `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`,
		shoptest.Headers(shop.Support)); status != http.StatusConflict {
		t.Errorf("shipping during the refund answered %d %s, want 409", status, body)
	}
	if status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{"reason":"duplicate"}`,
		shoptest.Headers(shop.Support)); status != http.StatusConflict {
		t.Errorf("a second cancel answered %d %s, want 409", status, body)
	}
	wg.Go(func() {
		payload, signature := shoptest.StripeEvent(t, "evt_claim_refunded", "charge.refunded", map[string]any{
			"id": "ch_claim", "object": "charge", "payment_intent": intent, "refunded": true, "amount": 1, "amount_refunded": 1})
		refundStatus, refundBody = rig.Send(t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
	})
	wg.Wait()

	if cancelStatus != http.StatusOK || !strings.Contains(cancelBody, `"status":"cancelled"`) {
		t.Fatalf("the cancel answered %d %s, want 200 cancelled", cancelStatus, cancelBody)
	}
	if refundStatus != http.StatusOK {
		t.Fatalf("charge.refunded answered %d %s, want 200 once the cancel was done", refundStatus, refundBody)
	}
	refunds := rig.Fake.Refunds(intent)
	if len(refunds) != 1 {
		t.Fatalf("%d refunds, want 1", len(refunds))
	}
	rig.Check(t,
		shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusCancelled),
		shoptest.ExpectStored(c.Orders, order, c.OrderStripeRefund, refunds[0]["id"]),
		shoptest.ExpectStored(c.Orders, order, c.OrderClaim, ""),
	)
	stockExpect(t, rig, shop.PhysicalProduct, 5, 0)
}

// TestFailedRefundReleasesTheOrder: when Stripe refuses the refund the
// order is unchanged (502) and free for the next change.
func TestFailedRefundReleasesTheOrder(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig, order, _ := claimPaidOrder(t)
	rig.Fake.Fail("POST /v1/refunds", http.StatusInternalServerError)
	if status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{}`, shoptest.Headers(shop.Customer)); status != http.StatusBadGateway {
		t.Fatalf("cancel with Stripe down answered %d %s, want 502", status, body)
	}
	rig.Check(t,
		shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusPaid),
		shoptest.ExpectStored(c.Orders, order, c.OrderClaim, ""),
	)
	stockExpect(t, rig, shop.PhysicalProduct, 3, 2)
	if status, body := rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+order, `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`,
		shoptest.Headers(shop.Support)); status != http.StatusOK {
		t.Fatalf("shipping after the failed refund answered %d %s, want 200", status, body)
	}
}

// TestClaimLeftByACrashLapses: a claim older than a few minutes was left
// by a process that died; it holds nothing back.
func TestClaimLeftByACrashLapses(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig, order, _ := claimPaidOrder(t)
	claimed := func(age time.Duration) {
		at, _ := types.ParseDateTime(time.Now().Add(-age))
		shoptest.WebhookSetFields(t, rig.App, c.Orders, order, dbx.Params{c.OrderClaim: "left-by-a-crash", c.OrderClaimedAt: at.String()})
	}
	claimed(time.Minute)
	if status, _ := rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+order, `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`,
		shoptest.Headers(shop.Support)); status != http.StatusConflict {
		t.Fatalf("shipping under a live claim answered %d, want 409", status)
	}
	claimed(time.Hour)
	if status, body := rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+order, `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`,
		shoptest.Headers(shop.Support)); status != http.StatusOK {
		t.Fatalf("shipping under a lapsed claim answered %d %s, want 200", status, body)
	}
}

// TestStaleOrderWriteIsRefused: PocketBase writes a whole order row from
// the record it read; a save of a record read before another change
// (a records-API edit that began before a webhook landed) is refused
// rather than undoing that change.
func TestStaleOrderWriteIsRefused(t *testing.T) {
	t.Parallel()
	rig, order, _ := claimPaidOrder(t)
	stale, err := rig.App.FindRecordById(c.Orders, order)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // a later updated stamp
	fresh, err := rig.App.FindRecordById(c.Orders, order)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Set(c.OrderStripeInvoice, "in_test_landed_meanwhile")
	if err := rig.App.Save(fresh); err != nil {
		t.Fatal(err)
	}
	stale.Set(c.OrderStatusField, string(c.StatusShipped))
	err = rig.App.Save(stale)
	if err == nil || !strings.Contains(err.Error(), "changed since it was loaded") {
		t.Fatalf("saving the stale record: %v, want a refusal", err)
	}
	rig.Check(t,
		shoptest.ExpectStored(c.Orders, order, c.OrderStripeInvoice, "in_test_landed_meanwhile"),
		shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusPaid),
	)
}
