package payments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
)

// JobStripeReplay is the job that replays Stripe's events of a window.
const JobStripeReplay = "stripe_replay"

// Replay windows.
const (
	// ReplayWindow is how far back a run reads without --since: the
	// scheduled run is hourly, so each event is seen by three runs.
	ReplayWindow = 3 * time.Hour
	// maxReplayWindow is how long Stripe keeps events.
	maxReplayWindow = 30 * 24 * time.Hour
	// liveEventAge is how old a replayed event may be for its changes to
	// email the customer; an older one is history, as the sync's is.
	liveEventAge = 24 * time.Hour
)

// RunReplay is the stripe_replay job: it lists Stripe's events created
// since run.Options.Since (ReplayWindow ago by default) through the Events
// API and applies each handled one that the ledger does not hold, oldest
// first, through applyEventOnce: the webhook's own once-only path. It
// closes every way an event can be missed: a machine lost after answering
// 200 (its ledger row lost with it), an endpoint down or misconfigured for
// longer than Stripe retries.
//
// Counts, as job_runs keeps them: fetched (events listed), created
// (applied or parked now; in a dry run, would be), skipped (already in the ledger),
// failed (refused for good, recorded and alerted, or a passing failure the
// next run retries); the rest were of types the shop ignores. A failure of
// the Events API fails the run with its counts; nothing is applied from a
// listing that did not finish, so the next run starts whole.
func (p *Payments) RunReplay(ctx context.Context, run *jobs.Run) error {
	if p.stripe == nil {
		return errors.New("STRIPE_SECRET_KEY is not set")
	}
	since := run.Options.Since
	if since.IsZero() {
		since = time.Now().Add(-ReplayWindow)
	}
	if time.Since(since) > maxReplayWindow {
		return fmt.Errorf("replay from %s is too far back: Stripe keeps events for 30 days", since.UTC().Format(time.RFC3339))
	}
	counts := &run.Counts

	params := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	iter := p.stripe.Events.List(params)
	var missed []*stripe.Event
	for iter.Next() {
		event := iter.Event()
		counts.Fetched++
		if _, handled := eventEffects[event.Type]; !handled {
			continue
		}
		if eventRecorded(p.app, event.ID) {
			counts.Skipped++
			continue
		}
		missed = append(missed, event)
	}
	if err := iter.Err(); err != nil {
		logStripeFailure(p.app, "list events", err, "job", JobStripeReplay)
		return fmt.Errorf("list Stripe's events: %w", err)
	}

	// Stripe lists newest first; they are applied as they happened.
	slices.SortStableFunc(missed, func(a, b *stripe.Event) int { return int(a.Created - b.Created) })
	for _, event := range missed {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if run.Options.DryRun {
			counts.Created++
			continue
		}
		p.replayOne(run, event)
	}
	if counts.Created > 0 || counts.Failed > 0 {
		run.Log.Warn("stripe events replayed", "since", since.UTC(), "applied", counts.Created, "failed", counts.Failed)
	}
	return nil
}

// replayOne applies one missed event and counts what became of it.
func (p *Payments) replayOne(run *jobs.Run, event *stripe.Event) {
	ctx := context.Background()
	if time.Since(time.Unix(event.Created, 0)) > liveEventAge {
		ctx = records.WithoutEmails(ctx)
	}
	result, err := applyEventOnce(ctx, p.app, *event)
	log := run.Log.With("event", event.ID, "type", string(event.Type))
	switch {
	case err != nil:
		// A claimed order or a busy database: the next run retries it.
		run.Counts.Failed++
		log.Warn("replayed event failed; the next run retries it", "error", err.Error())
	case result.status == "":
		run.Counts.Skipped++ // the webhook recorded it meanwhile
	case result.status == c.EventApplied:
		run.Counts.Created++
		log.Info("replayed event applied")
	case result.status == c.EventParked:
		run.Counts.Created++ // recorded, for its payment to apply
		log.Info("replayed refund parked until its payment reaches an order")
	default:
		run.Counts.Failed++
		p.alertRefusal(*event, result)
	}
}
