package payments_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// lostPart is the amount of the part refunds of these tests.
const lostPart = 1000

// lostDies makes the shop die at its first save of an order: the fault
// point between Stripe's answer to a refund and the write that records
// it. The save panics, so its transaction rolls back and nothing after it
// runs (no claim released), as when the process is killed there.
func lostDies(app core.App) {
	app.OnRecordUpdateExecute(c.Orders).BindFunc(func(e *core.RecordEvent) error {
		panic("the shop dies before recording the refund")
	})
}

// lostClaimLapses ages the claim the dead process left past its lapse.
func lostClaimLapses(t *testing.T, rig *shoptest.WebhookRig, order string) {
	t.Helper()
	at, _ := types.ParseDateTime(time.Now().Add(-10 * time.Minute))
	shoptest.WebhookSetFields(t, rig.App, c.Orders, order, dbx.Params{c.OrderClaimedAt: at.String()})
}

// lostRefundEmails are the templates of the order's emails about its
// refund or cancel (its payment's aside), with this refund and all so far.
func lostRefundEmails(t *testing.T, rig *shoptest.WebhookRig, order string) []string {
	t.Helper()
	var emails []string
	for _, job := range shoptest.EmailJobs(t, rig.App, order) {
		if template := job.GetString(c.EmailJobTemplate); template != c.TemplateOrderPaid {
			emails = append(emails, fmt.Sprintf("%s %d/%d", template, job.GetInt(c.EmailJobRefund), job.GetInt(c.EmailJobRefundedAmount)))
		}
	}
	return emails
}

// TestRefundLostToACrashIsPaidOnce: the shop dies after Stripe refunded
// and before the order recorded it, comes back on the same data, and once
// the claim has lapsed the same refund is asked again (support retrying as
// the page says is safe, or the customer cancelling again), with or
// without Stripe's charge.refunded landing first. Stripe refunds once, the
// order counts it once, and the customer gets one email about it.
func TestRefundLostToACrashIsPaidOnce(t *testing.T) {
	shop := shoptest.Shop()
	const part = lostPart
	for _, tc := range []struct {
		name string
		// action is refund or cancel; body its request, with %d for the
		// order's total when it asks for the whole amount.
		action, body string
		who          shoptest.Account
		// eventFirst delivers charge.refunded before the retry.
		eventFirst bool
		// whole: the refund is of all that was paid.
		whole  bool
		status c.OrderStatus
		email  string
	}{
		{"support retries a part refund", "refund", fmt.Sprintf(`{"amount":%d,"reason":"Scratched"}`, part), shop.Support,
			false, false, c.StatusPaid, fmt.Sprintf("%s %d/%d", c.TemplateOrderPartlyRefunded, part, part)},
		{"charge.refunded lands, then support retries a part refund", "refund", fmt.Sprintf(`{"amount":%d,"reason":"Scratched"}`, part), shop.Support,
			true, false, c.StatusPaid, fmt.Sprintf("%s %d/%d", c.TemplateOrderPartlyRefunded, part, part)},
		{"support retries a whole refund", "refund", `{"amount":%d,"reason":"Lost in the post"}`, shop.Support,
			false, true, c.StatusRefunded, c.TemplateOrderRefunded + " 0/0"},
		{"the customer retries a cancel", "cancel", `{}`, shop.Customer,
			false, true, c.StatusCancelled, c.TemplateOrderCancelled + " 0/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig, order, intent := claimPaidOrder(t)
			total := orderTotal(t, rig.App, order)
			if total <= part {
				t.Fatalf("the order's total %d leaves no part to refund", total)
			}
			url, body := "/api/v1/orders/"+order+"/"+tc.action, tc.body
			if strings.Contains(body, "%d") {
				body = fmt.Sprintf(body, total)
			}
			want := part
			if tc.whole {
				want = total
			}

			lostDies(rig.App)
			if status, answer := rig.Send(t, http.MethodPost, url, body, shoptest.Headers(tc.who)); status != http.StatusInternalServerError {
				t.Fatalf("the shop died, yet the %s answered %d %s", tc.action, status, answer)
			}
			if asked := rig.Fake.Calls("POST /v1/refunds"); asked != 1 || len(rig.Fake.Refunds(intent)) != 1 {
				t.Fatalf("before the crash Stripe was asked %d times to refund, want once", asked)
			}
			rig = rig.Restart(t, shoptest.StripeConfig)
			rig.Check(t, shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, 0))
			lostClaimLapses(t, rig, order)
			if tc.eventFirst {
				rig.Deliver(t, "evt_lost_refunded", "charge.refunded", map[string]any{
					"id": "ch_lost", "object": "charge", "payment_intent": intent,
					"refunded": tc.whole, "amount": total, "amount_refunded": want}, true)
			}

			if status, answer := rig.Send(t, http.MethodPost, url, body, shoptest.Headers(tc.who)); status != http.StatusOK ||
				!strings.Contains(answer, fmt.Sprintf(`"refunded_amount":%d,`, want)) {
				t.Fatalf("the retried %s answered %d %s, want 200 with %d refunded", tc.action, status, answer, want)
			}
			refunds := rig.Fake.Refunds(intent)
			if len(refunds) != 1 || rig.Fake.Calls("POST /v1/refunds") != 1 {
				t.Fatalf("Stripe was asked %d times and made %d refunds of %d, want once: %v",
					rig.Fake.Calls("POST /v1/refunds"), len(refunds), want, refunds)
			}
			rig.Check(t,
				shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, tc.status),
				shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, want),
				shoptest.ExpectStored(c.Orders, order, c.OrderStripeRefund, refunds[0]["id"]),
				shoptest.ExpectStored(c.Orders, order, c.OrderClaim, ""),
			)
			if emails := lostRefundEmails(t, rig, order); len(emails) != 1 || emails[0] != tc.email {
				t.Fatalf("emails queued %v, want [%s]", emails, tc.email)
			}
			if key := rig.Fake.Requests("POST /v1/refunds")[0].IdempotencyKey; key != refundKeyFor(order, 0, want) {
				t.Fatalf("the refund was keyed %s, want %s", key, refundKeyFor(order, 0, want))
			}
		})
	}
}

// lostPartRefund is a paid order whose part refund Stripe made and the
// shop, dead before its write, never recorded; the shop is back and the
// claim has lapsed.
func lostPartRefund(t *testing.T) (rig *shoptest.WebhookRig, order, intent string) {
	t.Helper()
	shop := shoptest.Shop()
	rig, order, intent = claimPaidOrder(t)
	lostDies(rig.App)
	if status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/refund",
		fmt.Sprintf(`{"amount":%d,"reason":"Scratched"}`, lostPart), shoptest.Headers(shop.Support)); status != http.StatusInternalServerError {
		t.Fatalf("the shop died, yet the refund answered %d %s", status, answer)
	}
	rig = rig.Restart(t, shoptest.StripeConfig)
	lostClaimLapses(t, rig, order)
	return rig, order, intent
}

// TestRefundLostToACrashIsFoundByTheNextChange: after a refund lost to a
// crash, another refund, a cancel or a failed look-up at Stripe. A refund
// of another amount records the lost one and is refused (409), for
// support to see what the order now shows; a cancel refunds what the lost
// one left; when Stripe cannot say what became of it, nothing changes
// (502) and the note stays for the next try.
func TestRefundLostToACrashIsFoundByTheNextChange(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()

	t.Run("support refunds another amount", func(t *testing.T) {
		t.Parallel()
		rig, order, intent := lostPartRefund(t)
		status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/refund", `{"amount":500,"reason":"Late"}`, shoptest.Headers(shop.Support))
		if status != http.StatusConflict || !strings.Contains(answer, "whose answer was lost") {
			t.Fatalf("another refund answered %d %s, want 409 naming the lost refund", status, answer)
		}
		if n := rig.Fake.Calls("POST /v1/refunds"); n != 1 || len(rig.Fake.Refunds(intent)) != 1 {
			t.Fatalf("Stripe was asked %d times to refund, want once", n)
		}
		rig.Check(t,
			shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusPaid),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, lostPart),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundPending, ""),
			shoptest.ExpectStored(c.Orders, order, c.OrderClaim, ""),
			shoptest.ExpectAuditEntry("order.refund", c.AuditRef(c.Users, shop.Support.ID),
				[]string{`"recovered":true`, fmt.Sprintf(`"amount":%d`, lostPart)}, []string{"Late"}),
		)
		if emails := lostRefundEmails(t, rig, order); len(emails) != 1 {
			t.Fatalf("emails queued %v, want the lost refund's", emails)
		}
	})

	t.Run("the customer cancels", func(t *testing.T) {
		t.Parallel()
		rig, order, intent := lostPartRefund(t)
		total := orderTotal(t, rig.App, order)
		if status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{}`, shoptest.Headers(shop.Customer)); status != http.StatusOK {
			t.Fatalf("the cancel answered %d %s", status, answer)
		}
		var amounts []int64
		for _, r := range rig.Fake.Refunds(intent) {
			amounts = append(amounts, r["amount"].(int64))
		}
		if len(amounts) != 2 || amounts[0] != lostPart || amounts[1] != int64(total-lostPart) {
			t.Fatalf("Stripe refunded %v, want [%d %d]", amounts, lostPart, total-lostPart)
		}
		rig.Check(t,
			shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusCancelled),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, total),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundPending, ""),
		)
	})

	t.Run("Stripe failed the refund: the next try has a key of its own", func(t *testing.T) {
		t.Parallel()
		rig, order, intent := claimPaidOrder(t)
		// Stripe keeps its answer to a key, an error included, for 24 hours.
		rig.Fake.Fail("POST /v1/refunds", http.StatusInternalServerError)
		body := fmt.Sprintf(`{"amount":%d,"reason":"Scratched"}`, lostPart)
		for _, want := range []int{http.StatusBadGateway, http.StatusOK} {
			if status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/refund", body, shoptest.Headers(shop.Support)); status != want {
				t.Fatalf("the refund answered %d %s, want %d", status, answer, want)
			}
		}
		key := refundKeyFor(order, 0, lostPart)
		if asked := rig.Fake.Requests("POST /v1/refunds"); len(asked) != 2 || asked[0].IdempotencyKey != key || asked[1].IdempotencyKey != key+"-2" ||
			len(rig.Fake.Refunds(intent)) != 1 {
			t.Fatalf("Stripe was asked %+v, want %s then %s-2 and one refund", asked, key, key)
		}
		rig.Check(t, shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, lostPart),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundPending, ""))
	})

	t.Run("Stripe cannot say what became of it", func(t *testing.T) {
		t.Parallel()
		rig, order, _ := lostPartRefund(t)
		rig.Fake.Fail("GET /v1/refunds", http.StatusInternalServerError)
		body := fmt.Sprintf(`{"amount":%d,"reason":"Scratched"}`, lostPart)
		if status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/refund", body, shoptest.Headers(shop.Support)); status != http.StatusBadGateway {
			t.Fatalf("the refund answered %d %s, want 502", status, answer)
		}
		rig.Check(t,
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, 0),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundPending, refundKeyFor(order, 0, lostPart)),
			shoptest.ExpectStored(c.Orders, order, c.OrderClaim, ""),
		)
		if status, answer := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/refund", body, shoptest.Headers(shop.Support)); status != http.StatusOK {
			t.Fatalf("the refund once Stripe answers: %d %s", status, answer)
		}
		if n := rig.Fake.Calls("POST /v1/refunds"); n != 1 {
			t.Fatalf("Stripe was asked %d times to refund, want once", n)
		}
		rig.Check(t, shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, lostPart))
	})
}

// refundKeyFor is the idempotency key of a refund as the shop makes it:
// what the refund is (the order, what it had refunded before, the amount).
func refundKeyFor(order string, before, amount int) string {
	return fmt.Sprintf("refund-%s-%d-%d", order, before, amount)
}
