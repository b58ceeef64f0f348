package payments

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
)

// TestAPanickingEventFailsItsBatchWithoutHangingTheQueue: an effect that
// panics answers an error to every delivery of its batch, and the
// deliveries after it are applied: the lead is passed on, nothing waits
// for ever.
func TestAPanickingEventFailsItsBatchWithoutHangingTheQueue(t *testing.T) {
	app, err := tests.NewTestApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	const panics, fine stripe.EventType = "test.panics", "test.fine"
	eventEffects[panics] = func(context.Context, core.App, stripe.Event) error { panic("a broken effect") }
	eventEffects[fine] = func(context.Context, core.App, stripe.Event) error { return errors.New("applied, then refused") }
	defer func() {
		delete(eventEffects, panics)
		delete(eventEffects, fine)
	}()

	b := newEventBatcher(maxEventBatch, func(int, bool) {})
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = b.apply(app, stripe.Event{ID: "evt_panic_" + string(rune('a'+i)), Type: panics})
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("deliveries queued behind a panicking event never got an answer")
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("delivery %d of a panicking event answered no error", i)
		}
	}
	if _, err := b.apply(app, stripe.Event{ID: "evt_after", Type: fine}); err == nil {
		t.Error("the event after the panic was not applied (its effect's error did not come back)")
	}
}

// TestRefundAndItsPaymentInOneBatch: a charge.refunded and, after it, the
// checkout.session.completed of the same payment, applied in one group
// commit: the refund is parked by the first and applied by the second in
// the same transaction, the batch commits together, and the order ends
// refunded with its stock given back once. The same two again are
// repeats and change nothing.
func TestRefundAndItsPaymentInOneBatch(t *testing.T) {
	app := newEventsTestApp(t)
	order, err := app.FindRecordById(c.Orders, app.pending)
	if err != nil {
		t.Fatal(err)
	}
	total, currency := order.GetInt(c.OrderTotal), order.GetString(c.OrderCurrency)
	stockBefore, heldBefore := batchStock(t, app, app.pending)
	events := func() []*queuedEvent {
		return []*queuedEvent{
			{event: batchEvent(t, "evt_batch_refund", "charge.refunded", map[string]any{
				"id": "ch_batch", "object": "charge", "payment_intent": "pi_batch",
				"amount": total, "amount_refunded": total, "refunded": true,
			})},
			{event: batchEvent(t, "evt_batch_payment", "checkout.session.completed", map[string]any{
				"id": "cs_fuzz_pending", "object": "checkout.session", "status": "complete", "payment_status": "paid",
				"amount_total": total, "currency": currency, "payment_intent": "pi_batch",
			})},
		}
	}

	batch := events()
	if !applyBatch(app, batch) {
		t.Fatal("the batch was applied one by one, want one commit")
	}
	if got := []string{batch[0].result.status, batch[1].result.status}; got[0] != c.EventParked || got[1] != c.EventApplied {
		t.Fatalf("the batch's events were %v, want [parked applied]", got)
	}
	settled := func() {
		t.Helper()
		order, err := app.FindRecordById(c.Orders, app.pending)
		if err != nil {
			t.Fatal(err)
		}
		o := c.NewOrder(order)
		if o.Status() != c.StatusRefunded || o.RefundedAmount() != total || o.StripePaymentIntent() != "pi_batch" {
			t.Fatalf("order is %s with %d of %d refunded and payment intent %q, want refunded whole, pi_batch",
				o.Status(), o.RefundedAmount(), total, o.StripePaymentIntent())
		}
		stock, held := batchStock(t, app, app.pending)
		for product, before := range stockBefore {
			if stock[product] != before+heldBefore[product] || held[product] != 0 {
				t.Fatalf("product %s has %d in stock and the order holds %d, want %d and none",
					product, stock[product], held[product], before+heldBefore[product])
			}
		}
		if statuses := ledgerStatuses(t, app, "evt_batch_refund"); !slices.Equal(statuses, []string{c.EventApplied}) {
			t.Fatalf("the refund's ledger rows are %v, want one applied", statuses)
		}
		jobs, err := app.FindAllRecords(c.EmailJobs, dbx.HashExp{c.EmailJobOrder: app.pending})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, job := range jobs {
			if template := job.GetString(c.EmailJobTemplate); seen[template] {
				t.Fatalf("the order has two %s emails", template)
			} else {
				seen[template] = true
			}
		}
	}
	settled()

	again := events()
	applyBatch(app, again)
	for _, q := range again {
		if q.err != nil || q.result.status != "" {
			t.Fatalf("%s again: %+v %v, want a repeat", q.event.ID, q.result, q.err)
		}
	}
	settled()
}

// batchEvent is an event of the type around the object.
func batchEvent(t *testing.T, id string, eventType stripe.EventType, object map[string]any) stripe.Event {
	t.Helper()
	raw, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	return stripe.Event{ID: id, Type: eventType, Created: time.Now().Unix(), Data: &stripe.EventData{Raw: raw}}
}

// batchStock is the stock of the products of an order's items, and what
// the items hold of it, by product.
func batchStock(t *testing.T, app core.App, orderID string) (stock, held map[string]int) {
	t.Helper()
	items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: orderID})
	if err != nil || len(items) == 0 {
		t.Fatalf("items of order %s: %d, %v", orderID, len(items), err)
	}
	stock, held = map[string]int{}, map[string]int{}
	for _, item := range items {
		product, err := app.FindRecordById(c.Products, item.GetString(c.ItemProduct))
		if err != nil {
			t.Fatal(err)
		}
		stock[product.Id] = product.GetInt(c.ProductStock)
		held[product.Id] += item.GetInt(c.ItemStockTaken)
	}
	return stock, held
}
