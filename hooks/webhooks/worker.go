package webhooks

import (
	"context"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
)

// claimedDelivery is a delivery a worker holds for one attempt.
type claimedDelivery struct {
	ID       string `db:"id"`
	EventID  string `db:"event_id"`
	Type     string `db:"type"`
	Attempts int    `db:"attempts"`
	Payload  string `db:"payload"`
	Claim    string `db:"claim"`
}

// lease is how long a claimed delivery is hidden from other workers: an
// attempt's whole time, with room. A worker that dies holding one leaves
// it to be sent again when the lease ends, under the same webhook-id.
func (w *Webhooks) lease() time.Duration { return 4*w.cfg.Timeout + 30*time.Second }

// startWorker runs the worker while the app serves. Terminating cancels
// the attempts under way and waits for them shutdownWait at most.
func (w *Webhooks) startWorker() {
	// A delivery written by another process (a replay command) is found
	// by the poll.
	w.app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.run(ctx, &wg)
		}()
		se.App.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
			cancel()
			stopped := make(chan struct{})
			go func() {
				<-done
				wg.Wait()
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(shutdownWait):
				e.App.Logger().Warn("stopping with webhook attempts still under way; they are sent again after their lease",
					"job", JobWebhookOutbox)
			}
			return e.Next()
		})
		return se.Next()
	})
}

func (w *Webhooks) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run starts the due attempts until ctx ends, waking on new deliveries,
// on finished attempts and on the poll.
func (w *Webhooks) run(ctx context.Context, wg *sync.WaitGroup) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var pruned time.Time
	for {
		if paused, _ := jobs.Paused(w.app, JobWebhookOutbox); !paused {
			w.dispatch(ctx, wg)
			if time.Since(pruned) >= pruneEvery {
				pruned = time.Now()
				w.pruneDeliveries()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// RunPass is the webhook_outbox job: it sends every delivery due now, and
// the retries that come due while it runs, until none is left, and prunes
// the old ones.
func (w *Webhooks) RunPass(ctx context.Context, run *jobs.Run) error {
	w.pruneDeliveries()
	for ctx.Err() == nil {
		var wg sync.WaitGroup
		started := w.dispatch(ctx, &wg)
		wg.Wait()
		run.Counts.Fetched += started
		if started == 0 {
			break
		}
	}
	return ctx.Err()
}

// dispatch claims what the free slots allow, endpoint by endpoint, and
// starts an attempt for each; it reports how many it started.
func (w *Webhooks) dispatch(ctx context.Context, wg *sync.WaitGroup) int {
	endpoints, err := w.endpoints.active(w.app)
	if err != nil {
		w.app.Logger().Error("webhook worker: read the endpoints", "job", JobWebhookOutbox, "error", err.Error())
		return 0
	}
	started := 0
	for _, ep := range endpoints {
		free := w.takeSlots(ep.Id)
		if free == 0 {
			continue
		}
		claimed, err := w.claim(ep.Id, free)
		if err != nil {
			w.app.Logger().Error("webhook worker: claim deliveries", "job", JobWebhookOutbox, "endpoint", ep.Id, "error", err.Error())
		}
		w.giveSlots(ep.Id, free-len(claimed))
		for _, d := range claimed {
			started++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.nudge()
				defer w.giveSlots(ep.Id, 1)
				w.attempt(ctx, ep, d)
			}()
		}
	}
	return started
}

// takeSlots reserves what is free for an endpoint: its own bound less its
// attempts under way, within what is free in all.
func (w *Webhooks) takeSlots(endpoint string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	free := min(w.cfg.PerEndpoint-w.inFlight[endpoint], w.cfg.Total-w.total)
	if free <= 0 {
		return 0
	}
	w.inFlight[endpoint] += free
	w.total += free
	return free
}

func (w *Webhooks) giveSlots(endpoint string, n int) {
	if n == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight[endpoint] -= n
	w.total -= n
	if w.inFlight[endpoint] <= 0 {
		delete(w.inFlight, endpoint)
	}
}

// claim takes up to limit of an endpoint's due deliveries, oldest first,
// in one statement that stamps them with a fresh claim token and moves
// their next attempt to the end of the lease: two workers, in this process
// or another, can never take the same attempt, and a claim whose worker
// died runs out and is taken again.
func (w *Webhooks) claim(endpoint string, limit int) ([]claimedDelivery, error) {
	now := w.now().UTC()
	token := security.RandomString(20)
	var claimed []claimedDelivery
	err := w.app.NonconcurrentDB().NewQuery(
		"UPDATE {{" + c.WebhookDeliveries + "}} SET [[claim]] = {:claim}, [[next_attempt]] = {:lease}, [[updated]] = {:now}" +
			" WHERE [[id]] IN (SELECT [[id]] FROM {{" + c.WebhookDeliveries + "}} WHERE [[endpoint]] = {:endpoint}" +
			" AND [[status]] IN ('pending', 'failed') AND [[next_attempt]] <= {:now} ORDER BY [[next_attempt]] LIMIT {:limit})" +
			// A payload can only be missing from a row not written by the
			// shop; read as empty, it fails its own attempt instead of the
			// claim of every delivery taken with it.
			" RETURNING [[id]], [[event_id]], [[type]], [[attempts]], COALESCE([[payload]], '') AS [[payload]], [[claim]]").
		Bind(dbx.Params{
			"claim": token, "lease": records.Stamp(now.Add(w.lease())).String(), "now": records.Stamp(now).String(),
			"endpoint": endpoint, "limit": limit,
		}).All(&claimed)
	return claimed, err
}

// pruneDeliveries deletes the delivered and dead deliveries last changed
// more than DeliveryRetention ago: the outbox is not an archive, and its
// payloads hold customers' data.
func (w *Webhooks) pruneDeliveries() {
	before := records.Stamp(w.now().UTC().Add(-DeliveryRetention)).String()
	res, err := w.app.NonconcurrentDB().Delete(c.WebhookDeliveries, dbx.And(
		dbx.In(c.DeliveryStatus, c.DeliveryDelivered, c.DeliveryDead),
		dbx.NewExp("[["+c.DeliveryUpdated+"]] < {:before}", dbx.Params{"before": before}),
	)).Execute()
	if err != nil {
		w.app.Logger().Error("could not prune old webhook deliveries", "job", JobWebhookOutbox, "error", err.Error())
		return
	}
	if n, _ := res.RowsAffected(); n > 0 {
		w.app.Logger().Info("pruned old webhook deliveries", "job", JobWebhookOutbox, "deleted", n)
	}
}
