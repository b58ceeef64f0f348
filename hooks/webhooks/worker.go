package webhooks

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
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

// lease is how long a claimed delivery is hidden from other workers: the
// wait of the last one a slot holds back, and its own attempt, with room.
// A worker that dies holding one leaves it to be sent again when the lease
// ends, under the same webhook-id.
func (w *Webhooks) lease() time.Duration {
	return time.Duration(perSlot+1)*w.cfg.Timeout + 30*time.Second
}

// perSlot is how many due deliveries a claim takes for each slot it was
// given: one to send, one held back for when that attempt ends, so that a
// busy endpoint's writes to the outbox are a claim per two attempts. A
// claim is worked by the slots it was given (a slot goes on while its
// endpoint holds deliveries back), so none waits past its lease however
// few slots were free. More held back would save claims and lengthen the
// lease, which is how long a crash leaves a claimed delivery unsent.
const perSlot = 2

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
			w.releaseHeld("")
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
		paused, _ := jobs.Paused(w.app, JobWebhookOutbox)
		w.paused.Store(paused)
		if paused {
			w.releaseHeld("")
		} else {
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
	defer w.releaseHeld("")
	for ctx.Err() == nil {
		var wg sync.WaitGroup
		before := w.attempts.Load()
		started := w.dispatch(ctx, &wg)
		wg.Wait()
		run.Counts.Fetched += int(w.attempts.Load() - before)
		if started == 0 {
			break
		}
	}
	return ctx.Err()
}

// dispatch starts an attempt in each free slot, endpoint by endpoint,
// from the deliveries the endpoint's last claim held back or from a new
// claim; each attempt, when it ends, goes on with those held back while
// there are. It reports how many attempts it started, those that follow
// one another in a slot counted in full.
func (w *Webhooks) dispatch(ctx context.Context, wg *sync.WaitGroup) int {
	// Outside any transaction: compile what the outbox's writes asked for.
	if err := w.stmts.Prepare(w.app); err != nil {
		w.app.Logger().Warn("webhook outbox statements could not be prepared; they run compiled per call", "job", JobWebhookOutbox, "error", err.Error())
	}
	endpoints, err := w.endpoints.active(w.app)
	if err != nil {
		w.app.Logger().Error("webhook worker: read the endpoints", "job", JobWebhookOutbox, "error", err.Error())
		return 0
	}
	w.releaseInactive(endpoints)
	started := 0
	// Each pass starts one endpoint further: the first endpoints do not
	// take every free slot each time.
	first := w.turn.Add(1)
	for i := range endpoints {
		ep := endpoints[(first+uint64(i))%uint64(len(endpoints))]
		free := w.takeSlots(ep.Id)
		if free == 0 {
			continue
		}
		next := w.takeHeld(ep.Id, free)
		if len(next) == 0 {
			claimed, err := w.claim(ep.Id, perSlot*free)
			if err != nil {
				w.app.Logger().Error("webhook worker: claim deliveries", "job", JobWebhookOutbox, "endpoint", ep.Id, "error", err.Error())
			}
			next = claimed[:min(free, len(claimed))]
			w.holdBack(ep.Id, claimed[len(next):])
		}
		w.giveSlots(ep.Id, free-len(next))
		for _, d := range next {
			started++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.nudge()
				defer w.giveSlots(ep.Id, 1)
				for {
					w.attempt(ctx, ep, d)
					if ctx.Err() != nil || w.paused.Load() {
						return
					}
					held := w.takeHeld(ep.Id, 1)
					if len(held) == 0 {
						return
					}
					d = held[0]
				}
			}()
		}
	}
	return started
}

// takeHeld takes up to n of the deliveries an endpoint's claim held back.
func (w *Webhooks) takeHeld(endpoint string, n int) []claimedDelivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	held := w.held[endpoint]
	n = min(n, len(held))
	taken := held[:n:n]
	if w.held[endpoint] = held[n:]; len(w.held[endpoint]) == 0 {
		delete(w.held, endpoint)
	}
	return taken
}

// holdBack keeps claimed deliveries for the endpoint's next free slots.
func (w *Webhooks) holdBack(endpoint string, ds []claimedDelivery) {
	if len(ds) == 0 {
		return
	}
	w.mu.Lock()
	w.held[endpoint] = append(w.held[endpoint], ds...)
	w.mu.Unlock()
}

// releaseInactive gives back what is held for endpoints no longer active
// (disabled, deleted): their deliveries wait in the outbox.
func (w *Webhooks) releaseInactive(active []*c.WebhookEndpoint) {
	w.mu.Lock()
	var gone []string
	for endpoint := range w.held {
		if !slices.ContainsFunc(active, func(ep *c.WebhookEndpoint) bool { return ep.Id == endpoint }) {
			gone = append(gone, endpoint)
		}
	}
	w.mu.Unlock()
	for _, endpoint := range gone {
		w.releaseHeld(endpoint)
	}
}

// releaseHeld gives back, untried, what is held for the endpoint, or for
// every endpoint when it is empty: the worker pauses or stops.
func (w *Webhooks) releaseHeld(endpoint string) {
	w.mu.Lock()
	var ds []claimedDelivery
	for ep, held := range w.held {
		if endpoint == "" || ep == endpoint {
			ds = append(ds, held...)
			delete(w.held, ep)
		}
	}
	w.mu.Unlock()
	if len(ds) > 0 {
		w.release(ds...)
	}
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
	now := records.Stamp(w.now().UTC()).String()
	// Most wakes find nothing due for most endpoints: a read on the
	// reading pool says so without taking the writer.
	due := false
	if err := w.stmts.Query(w.app, selectDue, []any{endpoint, now}, func(*sql.Rows) error {
		due = true
		return nil
	}); err != nil || !due {
		return nil, err
	}
	token := security.RandomString(20)
	lease := records.Stamp(w.now().UTC().Add(w.lease())).String()
	var claimed []claimedDelivery
	err := w.app.RunInTransaction(func(tx core.App) error {
		return w.stmts.Query(tx, claimDue(limit), []any{token, lease, now, endpoint, now}, func(rows *sql.Rows) error {
			var d claimedDelivery
			if err := rows.Scan(&d.ID, &d.EventID, &d.Type, &d.Attempts, &d.Payload, &d.Claim); err != nil {
				return err
			}
			claimed = append(claimed, d)
			return nil
		})
	})
	return claimed, err
}

// whereDue picks an endpoint's deliveries whose next attempt is due: the
// endpoint, then the time.
var whereDue = prepared.QuoteName(c.DeliveryEndpoint) + " = ? AND " + prepared.QuoteName(c.DeliveryStatus) +
	" IN ('" + c.DeliveryPending + "', '" + c.DeliveryFailed + "') AND " + prepared.QuoteName(c.DeliveryNextAttempt) + " <= ?"

// selectDue says whether an endpoint has a delivery due: the endpoint,
// then the time.
var selectDue = "SELECT 1 FROM " + prepared.QuoteName(c.WebhookDeliveries) + " WHERE " + whereDue + " LIMIT 1"

// claimDue takes up to limit of an endpoint's due deliveries, oldest
// first: the claim, the lease's end, the time (updated), the endpoint,
// the time. The limit is in the text: SQLite compiles a statement again
// for each new value of a LIMIT parameter.
// A payload can only be missing from a row not written by the shop; read
// as empty, it fails its own attempt instead of the claim of every
// delivery taken with it.
func claimDue(limit int) string {
	return claimDueHead + strconv.Itoa(limit) + claimDueTail
}

var claimDueHead = "UPDATE " + prepared.QuoteName(c.WebhookDeliveries) + " SET " + prepared.QuoteName(c.DeliveryClaim) + " = ?, " +
	prepared.QuoteName(c.DeliveryNextAttempt) + " = ?, " + prepared.QuoteName(c.DeliveryUpdated) + " = ?" +
	" WHERE " + prepared.QuoteName("id") + " IN (SELECT " + prepared.QuoteName("id") + " FROM " + prepared.QuoteName(c.WebhookDeliveries) +
	" WHERE " + whereDue + " ORDER BY " + prepared.QuoteName(c.DeliveryNextAttempt) + " LIMIT "

var claimDueTail = ")" +
	" RETURNING " + strings.Join(quoteNames("id", c.DeliveryEventID, c.DeliveryType, c.DeliveryAttempts), ", ") +
	", COALESCE(" + prepared.QuoteName(c.DeliveryPayload) + ", ''), " + prepared.QuoteName(c.DeliveryClaim)

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
