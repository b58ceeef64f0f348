package hooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/audit"
	"shopdash/hooks/cache"
	"shopdash/hooks/records"
)

// Errors of job control.
var (
	ErrUnknownJob   = errors.New("unknown job")
	ErrJobPaused    = errors.New("the job is paused: resume it first")
	ErrJobRunning   = errors.New("the job is running already")
	errJobCancelled = errors.New("cancelled")
)

// pauseCheckEvery is how often a running job looks at its pause switch,
// which may be flipped by another process (`shopdash jobs pause`).
const pauseCheckEvery = 250 * time.Millisecond

// RunOptions tune one run of a job.
type RunOptions struct {
	// Trigger says who started it: schedule, cli, admin.
	Trigger string
	// Actor is who to audit for a run started by a person.
	Actor string
	// Since overrides the sync's watermark.
	Since time.Time
	// DryRun fetches and counts without writing.
	DryRun bool
}

// RunCounts are the counts of a run, as job_runs stores them.
type RunCounts struct {
	Fetched, Created, Updated, Skipped, Failed int
}

func (rc *RunCounts) add(o upsertOutcome) {
	switch o {
	case created:
		rc.Created++
	case updated:
		rc.Updated++
	default:
		rc.Skipped++
	}
}

// JobRun is a finished run.
type JobRun struct {
	ID     string
	Status string
	RunCounts
	Err error
}

// Jobs runs the shop's background jobs: one run per job at a time, each
// recorded in job_runs, cancelled by its pause switch or by shutdown.
type Jobs struct {
	app      core.App
	payments *payments
	outbox   *outbox
	alerts   *alerts.Alerter
	answers  *cache.Answers // the sync's bulk insert forgets its customers' answers

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

func newJobs(app core.App, p *payments, o *outbox, a *alerts.Alerter, answers *cache.Answers) *Jobs {
	return &Jobs{app: app, payments: p, outbox: o, alerts: a, answers: answers, running: map[string]context.CancelFunc{}}
}

// Run runs a job now and waits for it.
func (j *Jobs) Run(ctx context.Context, name string, opts RunOptions) (JobRun, error) {
	if !slices.Contains(JobNames, name) {
		return JobRun{}, ErrUnknownJob
	}
	paused, err := jobPaused(j.app, name)
	if err != nil {
		return JobRun{}, err
	}
	if paused {
		return JobRun{}, ErrJobPaused
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	j.mu.Lock()
	if _, busy := j.running[name]; busy {
		j.mu.Unlock()
		return JobRun{}, ErrJobRunning
	}
	j.running[name] = cancel
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.running, name)
		j.mu.Unlock()
	}()
	go j.watchPause(ctx, name, cancel)

	if opts.Actor != "" {
		if err := audit.Write(j.app, opts.Actor, "job.run", "jobs/"+name, map[string]any{"dry_run": opts.DryRun}); err != nil {
			return JobRun{}, err
		}
	}
	run, err := j.startRun(name, opts.Trigger)
	if err != nil {
		return JobRun{}, err
	}
	log := j.app.Logger().With("job", name, "run", run.Id)
	log.Info("job started", "trigger", opts.Trigger, "dry_run", opts.DryRun)

	var counts RunCounts
	var watermark time.Time
	switch name {
	case JobStripeSync:
		watermark, err = j.syncStripe(ctx, log, opts, &counts)
	case JobStaleOrders:
		err = j.cancelStaleOrders(ctx, &counts)
	case JobEmailOutbox:
		var sent int
		sent, err = j.outbox.drain(ctx)
		counts.Fetched, counts.Updated = sent, sent
	}
	if ctx.Err() != nil && err != nil {
		err = errors.Join(errJobCancelled, err)
	}
	result := j.finishRun(run, counts, watermark, err, opts.DryRun)
	if result.Status == c.JobFailed && name == JobStripeSync {
		j.alerts.Alert("the Stripe sync failed",
			fmt.Sprintf("Run %s of the Stripe sync failed after %d records (%d created, %d updated): %v. Its watermark stays; rerun it with `shopdash sync stripe` when the cause is fixed.",
				run.Id, counts.Fetched, counts.Created, counts.Updated, result.Err), "job", name, "run", run.Id)
	}
	if result.Err != nil {
		log.Error("job ended", "status", result.Status, "error", result.Err.Error(), "fetched", counts.Fetched,
			"created", counts.Created, "updated", counts.Updated, "failed", counts.Failed)
	} else {
		log.Info("job ended", "status", result.Status, "fetched", counts.Fetched, "created", counts.Created,
			"updated", counts.Updated, "skipped", counts.Skipped, "failed", counts.Failed)
	}
	return result, nil
}

// watchPause cancels a running job within pauseCheckEvery of its switch
// being flipped, by this process or another.
func (j *Jobs) watchPause(ctx context.Context, name string, cancel context.CancelFunc) {
	tick := time.NewTicker(pauseCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if paused, err := jobPaused(j.app, name); err == nil && paused {
				cancel()
				return
			}
		}
	}
}

// SetPaused flips a job's switch, cancels its run if it pauses, and audits
// it when a person did it.
func (j *Jobs) SetPaused(name string, paused bool, actor string) error {
	if !slices.Contains(JobNames, name) {
		return ErrUnknownJob
	}
	err := j.app.RunInTransaction(func(tx core.App) error {
		_, err := tx.DB().Update(c.Jobs, dbx.Params{c.JobPaused: paused, c.JobUpdated: types.NowDateTime().String()},
			dbx.HashExp{c.JobName: name}).Execute()
		if err != nil || actor == "" {
			return err
		}
		action := "job.resume"
		if paused {
			action = "job.pause"
		}
		return audit.Write(tx, actor, action, "jobs/"+name, map[string]any{})
	})
	if err != nil {
		return fmt.Errorf("pause switch of %s: %w", name, err)
	}
	if paused {
		j.mu.Lock()
		if cancel, ok := j.running[name]; ok {
			cancel()
		}
		j.mu.Unlock()
	}
	return nil
}

func (j *Jobs) startRun(name, trigger string) (*core.Record, error) {
	col, err := j.app.FindCachedCollectionByNameOrId(c.JobRuns)
	if err != nil {
		return nil, err
	}
	run := core.NewRecord(col)
	run.Set(c.JobRunJob, name)
	run.Set(c.JobRunStatus, c.JobRunning)
	run.Set(c.JobRunTrigger, trigger)
	run.Set(c.JobRunStarted, types.NowDateTime())
	return run, j.app.Save(run)
}

// finishRun records how a run ended. Only a successful run that wrote its
// data moves the watermark on.
func (j *Jobs) finishRun(run *core.Record, counts RunCounts, watermark time.Time, err error, dryRun bool) JobRun {
	status := c.JobSucceeded
	switch {
	case errors.Is(err, errJobCancelled) || errors.Is(err, context.Canceled):
		status = c.JobCancelled
	case err != nil:
		status = c.JobFailed
	}
	run.Set(c.JobRunStatus, status)
	run.Set(c.JobRunFinished, types.NowDateTime())
	run.Set(c.JobRunFetched, counts.Fetched)
	run.Set(c.JobRunCreated, counts.Created)
	run.Set(c.JobRunUpdated, counts.Updated)
	run.Set(c.JobRunSkipped, counts.Skipped)
	run.Set(c.JobRunFailed, counts.Failed)
	if err != nil {
		run.Set(c.JobRunError, truncate(err.Error(), 2000))
	}
	if status == c.JobSucceeded && !watermark.IsZero() && !dryRun {
		run.Set(c.JobRunWatermark, records.Stamp(watermark))
	}
	if saveErr := j.app.Save(run); saveErr != nil {
		err = errors.Join(err, saveErr)
	}
	return JobRun{ID: run.Id, Status: status, RunCounts: counts, Err: err}
}

// lastWatermark is the watermark of the job's last successful run.
func lastWatermark(app core.App, name string) (time.Time, error) {
	runs, err := app.FindRecordsByFilter(c.JobRuns, "job = {:job} && status = 'succeeded' && watermark != ''",
		"-started", 1, 0, dbx.Params{"job": name})
	if err != nil || len(runs) == 0 {
		return time.Time{}, err
	}
	return runs[0].GetDateTime(c.JobRunWatermark).Time(), nil
}
