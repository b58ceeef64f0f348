package emails

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
)

// emailRetryDelays are the waits after each failed attempt; a job that
// fails once more after the last is dead.
var emailRetryDelays = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour}

// Outbox tuning.
const (
	// emailLease is how long a claimed job is hidden from other passes. A
	// process that dies after sending but before recording it sends the
	// email again when the lease ends: delivery is at least once.
	emailLease     = 5 * time.Minute
	emailBatch     = 50
	emailSenders   = 4
	emailPollEvery = 2 * time.Second
	// outboxShutdownWait is how long shutdown waits for sends under way;
	// one cut off is sent again when its lease ends.
	outboxShutdownWait = 10 * time.Second
)

// Outbox sends queued order emails in the background.
type Outbox struct {
	app    core.App
	alerts *alerts.Alerter
	wake   chan struct{}
	now    func() time.Time
}

// nextEmailAttempt is when a job that has failed attempts times is tried
// again, and whether it has any tries left.
func nextEmailAttempt(now time.Time, attempts int) (time.Time, bool) {
	if attempts > len(emailRetryDelays) {
		return time.Time{}, false
	}
	return now.Add(emailRetryDelays[attempts-1]), true
}

func startOutbox(app core.App, alerter *alerts.Alerter) *Outbox {
	o := &Outbox{app: app, alerts: alerter, wake: make(chan struct{}, 1), now: time.Now}
	// A new job wakes the worker at once instead of at the next poll.
	app.OnRecordAfterCreateSuccess(c.EmailJobs).BindFunc(func(e *core.RecordEvent) error {
		o.nudge()
		return e.Next()
	})
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.run(ctx)
		}()
		se.App.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
			cancel()
			stopped := make(chan struct{})
			go func() {
				wg.Wait()
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(outboxShutdownWait):
				e.App.Logger().Warn("stopping with emails still being sent; they are sent again after their lease",
					"job", JobEmailOutbox)
			}
			return e.Next()
		})
		return se.Next()
	})
	return o
}

func (o *Outbox) nudge() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// run sends due emails until ctx ends, waking on new jobs and polling for
// retries that come due.
func (o *Outbox) run(ctx context.Context) {
	tick := time.NewTicker(emailPollEvery)
	defer tick.Stop()
	for {
		if paused, _ := jobs.Paused(o.app, JobEmailOutbox); !paused {
			if _, err := o.drain(ctx); err != nil {
				o.app.Logger().Error("email outbox pass failed", "job", JobEmailOutbox, "error", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-tick.C:
		}
	}
}

// RunPass is the email_outbox job: a pass that sends every email due now,
// as the worker does on its own.
func (o *Outbox) RunPass(ctx context.Context, run *jobs.Run) error {
	sent, err := o.drain(ctx)
	run.Counts.Fetched, run.Counts.Updated = sent, sent
	return err
}

// drain sends every job that is due now, emailSenders at a time, and
// reports how many were sent.
func (o *Outbox) drain(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		jobs, err := o.claim(emailBatch)
		if err != nil || len(jobs) == 0 {
			return sent, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		queue := make(chan *core.Record)
		for range emailSenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for job := range queue {
					if o.deliver(job) {
						mu.Lock()
						sent++
						mu.Unlock()
					}
				}
			}()
		}
		for _, job := range jobs {
			queue <- job
		}
		close(queue)
		wg.Wait()
	}
	return sent, nil
}

// claim takes up to limit due jobs and hides them behind a lease, in one
// transaction, so no other pass sends them meanwhile.
func (o *Outbox) claim(limit int) ([]*core.Record, error) {
	var jobs []*core.Record
	now := o.now().UTC()
	err := o.app.RunInTransaction(func(tx core.App) error {
		var err error
		jobs, err = tx.FindRecordsByFilter(c.EmailJobs,
			"(status = 'queued' || status = 'failed') && next_attempt <= {:now}", "next_attempt", limit, 0,
			dbx.Params{"now": records.Stamp(now).String()})
		if err != nil || len(jobs) == 0 {
			return err
		}
		ids := make([]any, len(jobs))
		for i, j := range jobs {
			ids[i] = j.Id
		}
		_, err = tx.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobNextAttempt: records.Stamp(now.Add(emailLease)).String()},
			dbx.In("id", ids...)).Execute()
		return err
	})
	return jobs, err
}

// deliver sends one job and records the outcome: sent, failed with the
// next attempt, or dead after the last. It reports whether it sent.
func (o *Outbox) deliver(job *core.Record) bool {
	log := o.app.Logger().With("job", JobEmailOutbox, "email", job.Id, "order", job.GetString(c.EmailJobOrder),
		"template", job.GetString(c.EmailJobTemplate))
	sendErr := o.send(job)
	now := o.now().UTC()
	attempts := job.GetInt(c.EmailJobAttempts) + 1
	job.Set(c.EmailJobAttempts, attempts)
	switch next, retry := nextEmailAttempt(now, attempts); {
	case sendErr == nil:
		job.Set(c.EmailJobStatus, c.EmailSent)
		job.Set(c.EmailJobSentAt, records.Stamp(now))
		job.Set(c.EmailJobLastError, "")
	case retry:
		job.Set(c.EmailJobStatus, c.EmailFailed)
		job.Set(c.EmailJobNextAttempt, records.Stamp(next))
		job.Set(c.EmailJobLastError, c.Truncate(sendErr.Error(), 2000))
		log.Warn("email failed; will retry", "attempts", attempts, "next_attempt", next, "error", alerts.MailError(sendErr))
	default:
		job.Set(c.EmailJobStatus, c.EmailDead)
		job.Set(c.EmailJobLastError, c.Truncate(sendErr.Error(), 2000))
		o.alerts.Alert("an order email is dead",
			fmt.Sprintf("Email %s (%s of order %s) failed %d times and will not be retried (%s). Fix the mail settings, then run `shopdash emails retry --dead`.",
				job.Id, job.GetString(c.EmailJobTemplate), job.GetString(c.EmailJobOrder), attempts, alerts.MailError(sendErr)),
			"job", JobEmailOutbox, "email", job.Id)
	}
	if err := o.app.Save(job); err != nil {
		// The lease runs out and the job is tried again: at least once.
		log.Error("could not record the email's outcome", "error", err.Error())
	}
	if sendErr == nil {
		log.Info("email sent", "attempts", attempts)
	}
	return sendErr == nil
}

// send renders and sends one job's email.
func (o *Outbox) send(job *core.Record) error {
	msg, err := renderOrderEmail(o.app, job)
	if err != nil {
		return err
	}
	return o.app.NewMailClient().Send(msg)
}

// RetryEmails puts failed jobs, and dead ones when dead is set, back in
// the queue with a fresh count of attempts; it reports how many.
func RetryEmails(app core.App, dead bool) (int64, error) {
	statuses := []any{c.EmailFailed}
	if dead {
		statuses = append(statuses, c.EmailDead)
	}
	res, err := app.DB().Update(c.EmailJobs, dbx.Params{
		c.EmailJobStatus: c.EmailQueued, c.EmailJobAttempts: 0,
		c.EmailJobNextAttempt: types.NowDateTime().String(), c.EmailJobUpdated: types.NowDateTime().String(),
	}, dbx.In(c.EmailJobStatus, statuses...)).Execute()
	if err != nil {
		return 0, fmt.Errorf("retry emails: %w", err)
	}
	return res.RowsAffected()
}
