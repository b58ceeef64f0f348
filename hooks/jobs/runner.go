// Package jobs runs the shop's background jobs: a job is a name, a cron
// schedule and a function, added by the capability it belongs to
// (Jobs.Add). The runner runs one run per job at a time, records each in
// job_runs, cancels it when its pause switch is flipped (by this process
// or another) or the app ends, and serves the superuser routes and the
// commands that list, run, pause and resume them. It knows no job.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/audit"
	"shopdash/hooks/metrics"
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
	// Since overrides the start of the window a job reads (the sync's
	// watermark).
	Since time.Time
	// DryRun fetches and counts without writing.
	DryRun bool
}

// RunCounts are the counts of a run, as job_runs stores them.
type RunCounts struct {
	Fetched, Created, Updated, Skipped, Failed int
}

// Run is one run under way, as its job's function sees it.
type Run struct {
	ID      string
	Options RunOptions
	Log     *slog.Logger
	// Counts is what the job did so far; the runner records it however the
	// run ends.
	Counts RunCounts
	// Watermark is where the next run may start reading; the runner keeps
	// it only when the run succeeds and wrote (not a dry run).
	Watermark time.Time
}

// RunFunc does the work of one run. An error fails the run; one that
// follows the cancel of ctx cancels it instead.
type RunFunc func(ctx context.Context, run *Run) error

// JobRun is a finished run.
type JobRun struct {
	ID     string
	Status string
	RunCounts
	Err error
}

// Jobs runs the jobs added to it.
type Jobs struct {
	app     core.App
	metrics *metrics.Metrics
	// ctx ends with the app, cancelling scheduled and admin-started runs.
	ctx   context.Context
	names []string
	funcs map[string]RunFunc

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

// Register returns an empty runner for app and binds its superuser routes
// under /api/v1/admin/jobs. Every run is counted in m, with its duration.
func Register(app core.App, m *metrics.Metrics) *Jobs {
	ctx, cancel := context.WithCancel(context.Background())
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		cancel()
		return e.Next()
	})
	j := &Jobs{app: app, metrics: m, ctx: ctx, funcs: map[string]RunFunc{}, running: map[string]context.CancelFunc{}}
	j.bindRoutes()
	return j
}

// Add adds a job. A schedule is a cron expression of when serve runs it;
// "" runs it only on demand (the commands, the admin routes).
func (j *Jobs) Add(name, schedule string, run RunFunc) error {
	if _, dup := j.funcs[name]; dup {
		return fmt.Errorf("job %s added twice", name)
	}
	if schedule != "" {
		err := j.app.Cron().Add("shopdash_"+name, schedule, func() {
			if _, err := j.Run(j.ctx, name, RunOptions{Trigger: "schedule"}); err != nil && !errors.Is(err, ErrJobPaused) {
				j.app.Logger().Error("scheduled job did not start", "job", name, "error", err.Error())
			}
		})
		if err != nil {
			return err
		}
	}
	j.names = append(j.names, name)
	j.funcs[name] = run
	return nil
}

// Names lists the jobs in the order they were added.
func (j *Jobs) Names() []string { return slices.Clone(j.names) }

// Cancelled tells whether a run that ended with err was cancelled (paused,
// or the app ending) rather than failed.
func Cancelled(ctx context.Context, err error) bool {
	return err != nil && (ctx.Err() != nil || errors.Is(err, errJobCancelled) || errors.Is(err, context.Canceled))
}

// Run runs a job now and waits for it.
func (j *Jobs) Run(ctx context.Context, name string, opts RunOptions) (JobRun, error) {
	work, ok := j.funcs[name]
	if !ok {
		return JobRun{}, ErrUnknownJob
	}
	paused, err := Paused(j.app, name)
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
	row, err := j.startRun(name, opts.Trigger)
	if err != nil {
		return JobRun{}, err
	}
	run := &Run{ID: row.Id, Options: opts, Log: j.app.Logger().With("job", name, "run", row.Id)}
	run.Log.Info("job started", "trigger", opts.Trigger, "dry_run", opts.DryRun)

	started := time.Now()
	err = work(ctx, run)
	if Cancelled(ctx, err) {
		err = errors.Join(errJobCancelled, err)
	}
	result := j.finishRun(row, run, err)
	j.metrics.JobRun(name, result.Status, time.Since(started))
	counts := run.Counts
	if result.Err != nil {
		run.Log.Error("job ended", "status", result.Status, "error", result.Err.Error(), "fetched", counts.Fetched,
			"created", counts.Created, "updated", counts.Updated, "failed", counts.Failed)
	} else {
		run.Log.Info("job ended", "status", result.Status, "fetched", counts.Fetched, "created", counts.Created,
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
			if paused, err := Paused(j.app, name); err == nil && paused {
				cancel()
				return
			}
		}
	}
}

func (j *Jobs) startRun(name, trigger string) (*core.Record, error) {
	col, err := j.app.FindCachedCollectionByNameOrId(c.JobRuns)
	if err != nil {
		return nil, err
	}
	row := core.NewRecord(col)
	row.Set(c.JobRunJob, name)
	row.Set(c.JobRunStatus, c.JobRunning)
	row.Set(c.JobRunTrigger, trigger)
	row.Set(c.JobRunStarted, types.NowDateTime())
	return row, j.app.Save(row)
}

// finishRun records how a run ended. Only a successful run that wrote its
// data moves the watermark on.
func (j *Jobs) finishRun(row *core.Record, run *Run, err error) JobRun {
	status := c.JobSucceeded
	switch {
	case errors.Is(err, errJobCancelled):
		status = c.JobCancelled
	case err != nil:
		status = c.JobFailed
	}
	counts := run.Counts
	row.Set(c.JobRunStatus, status)
	row.Set(c.JobRunFinished, types.NowDateTime())
	row.Set(c.JobRunFetched, counts.Fetched)
	row.Set(c.JobRunCreated, counts.Created)
	row.Set(c.JobRunUpdated, counts.Updated)
	row.Set(c.JobRunSkipped, counts.Skipped)
	row.Set(c.JobRunFailed, counts.Failed)
	if err != nil {
		row.Set(c.JobRunError, c.Truncate(err.Error(), 2000))
	}
	if status == c.JobSucceeded && !run.Watermark.IsZero() && !run.Options.DryRun {
		watermark, _ := types.ParseDateTime(run.Watermark)
		row.Set(c.JobRunWatermark, watermark)
	}
	if saveErr := j.app.Save(row); saveErr != nil {
		err = errors.Join(err, saveErr)
	}
	return JobRun{ID: row.Id, Status: status, RunCounts: counts, Err: err}
}

// LastWatermark is the watermark of the job's last successful run.
func LastWatermark(app core.App, name string) (time.Time, error) {
	runs, err := app.FindRecordsByFilter(c.JobRuns, "job = {:job} && status = 'succeeded' && watermark != ''",
		"-started", 1, 0, dbx.Params{"job": name})
	if err != nil || len(runs) == 0 {
		return time.Time{}, err
	}
	return runs[0].GetDateTime(c.JobRunWatermark).Time(), nil
}
