package payments

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76"
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
