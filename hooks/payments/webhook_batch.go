package payments

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"

	"shopdash/internal/groupcommit"
)

// maxEventBatch bounds how many webhook events one transaction applies:
// enough to cover a burst of Stripe's concurrent deliveries, small enough
// that the writer is not held from checkouts and staff for long.
const maxEventBatch = 32

// eventBatcher applies the webhook's events in group commits. The shop has
// one writer, and an event's own work in its transaction (find the order,
// mark it paid, write the ledger row) costs less than opening and
// committing that transaction; under a burst the deliveries queue for the
// writer anyway. So the events that arrive while a transaction runs are
// applied together in the next one, each exactly as applyEventOnce would,
// and each delivery is answered only after the transaction that holds its
// ledger row has committed: a crash mid-batch rolls the whole batch back
// with nothing acknowledged, and Stripe sends those events again.
//
// Any error in a batch (a refusal, a busy order, the database) rolls it
// back and applies its events again one by one through applyEventOnce, so
// an event's outcome and answer never depend on the others it was batched
// with. Alone, an event takes applyEventOnce's path directly.
//
// The batches are internal/groupcommit's: the delivery that leads serves
// others' events for no longer than its own batch and the one before it.
type eventBatcher struct {
	batches groupcommit.Batcher[*queuedEvent]
	max     int
	// observe is told of each batch: its size, and whether it committed
	// together (false: rolled back and applied one by one).
	observe func(events int, together bool)
}

// queuedEvent is one delivery in its batch, and what it is answered.
type queuedEvent struct {
	event  stripe.Event
	result eventResult
	err    error
}

func newEventBatcher(max int, observe func(events int, together bool)) *eventBatcher {
	return &eventBatcher{batches: groupcommit.Batcher[*queuedEvent]{Max: max}, max: max, observe: observe}
}

// apply applies event once, in a batch with the events delivered
// meanwhile, and returns what applyEventOnce would have.
func (b *eventBatcher) apply(app core.App, event stripe.Event) (eventResult, error) {
	if _, handled := eventEffects[event.Type]; !handled || b.max <= 1 {
		return applyEventOnce(context.Background(), app, event)
	}
	q := &queuedEvent{event: event}
	b.batches.Do(q, func(batch []*queuedEvent) {
		// Between transactions: compile what the last one asked for.
		if err := writerStatements.Prepare(app); err != nil {
			app.Logger().Warn("webhook lookups could not be prepared; they run compiled per call", "error", err.Error())
		}
		b.observe(len(batch), applyBatch(app, batch))
	})
	return q.result, q.err
}

// applyBatch applies the batch's events in one transaction, or, if any of
// them fails, each in its own; then it sets every result. It says whether
// they were applied together.
func applyBatch(app core.App, batch []*queuedEvent) (together bool) {
	defer func() {
		// An effect that panics fails its batch's deliveries (500: Stripe
		// sends them again, and the ledger keeps repeats harmless) instead
		// of leaving the deliveries queued behind it waiting for ever.
		if r := recover(); r != nil {
			app.Logger().Error("applying a batch of Stripe events panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			for _, q := range batch {
				q.result, q.err = eventResult{}, fmt.Errorf("applying the event panicked: %v", r)
			}
			together = false
		}
	}()
	if len(batch) > 1 {
		results := make([]eventResult, len(batch))
		err := app.RunInTransaction(func(tx core.App) error {
			for i, q := range batch {
				// A repeat, also of an event earlier in this batch (its
				// ledger row is written), is answered as applyEventOnce
				// answers a repeat.
				if eventRecorded(tx, q.event.ID) {
					continue
				}
				// A refund parked by an event of the batch is applied by a
				// payment after it in the same batch, as in separate ones.
				result, err := applyEvent(context.Background(), tx, eventEffects[q.event.Type], q.event)
				if err != nil {
					return err
				}
				results[i] = result
			}
			return nil
		})
		if err == nil {
			for i, q := range batch {
				q.result = results[i]
			}
			return true
		}
	}
	for _, q := range batch {
		q.result, q.err = applyEventOnce(context.Background(), app, q.event)
	}
	return len(batch) == 1
}
