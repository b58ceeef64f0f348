package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
)

// DefaultSyncSchedule is when the Stripe sync runs without
// SHOPDASH_SYNC_SCHEDULE: five past midnight UTC.
const DefaultSyncSchedule = "5 0 * * *"

// staleOrdersSchedule runs the stale-order job every hour.
const staleOrdersSchedule = "17 * * * *"

// registerJobs schedules the jobs in serve and adds the superuser routes
// that show, run, pause and resume them.
func registerJobs(app core.App, cfg Config, jobs *Jobs) error {
	ctx, cancel := context.WithCancel(context.Background())
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		cancel()
		return e.Next()
	})
	scheduled := func(name string) func() {
		return func() {
			if _, err := jobs.Run(ctx, name, RunOptions{Trigger: "schedule"}); err != nil && !errors.Is(err, ErrJobPaused) {
				app.Logger().Error("scheduled job did not start", "job", name, "error", err.Error())
			}
		}
	}
	schedule := cfg.SyncSchedule
	if schedule == "" {
		schedule = DefaultSyncSchedule
	}
	if schedule != "off" {
		if err := app.Cron().Add("shopdash_"+JobStripeSync, schedule, scheduled(JobStripeSync)); err != nil {
			return fmt.Errorf("SHOPDASH_SYNC_SCHEDULE %q: %w", schedule, err)
		}
	}
	if err := app.Cron().Add("shopdash_"+JobStaleOrders, staleOrdersSchedule, scheduled(JobStaleOrders)); err != nil {
		return err
	}

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se).Group("/admin/jobs")
		g.Bind(apis.RequireSuperuserAuth())
		g.GET("", jobs.listJobs)
		g.POST("/{name}/run", func(e *core.RequestEvent) error { return jobs.runFromAdmin(ctx, e) })
		g.POST("/{name}/pause", func(e *core.RequestEvent) error { return jobs.pauseFromAdmin(e, true) })
		g.POST("/{name}/resume", func(e *core.RequestEvent) error { return jobs.pauseFromAdmin(e, false) })
		return se.Next()
	})
	return nil
}

// JobState is a job as `jobs list` and GET /api/v1/admin/jobs show it.
type JobState struct {
	Name     string           `json:"name"`
	Paused   bool             `json:"paused"`
	Running  bool             `json:"running"`
	LastRuns []map[string]any `json:"last_runs"`
}

// States returns every job with its switch and last five runs.
func (j *Jobs) States() ([]JobState, error) {
	var states []JobState
	for _, name := range JobNames {
		paused, err := jobPaused(j.app, name)
		if err != nil {
			return nil, err
		}
		runs, err := j.app.FindRecordsByFilter(c.JobRuns, "job = {:job}", "-started", 5, 0, dbx.Params{"job": name})
		if err != nil {
			return nil, err
		}
		state := JobState{Name: name, Paused: paused, LastRuns: []map[string]any{}}
		j.mu.Lock()
		_, state.Running = j.running[name]
		j.mu.Unlock()
		for _, r := range runs {
			state.LastRuns = append(state.LastRuns, r.PublicExport())
		}
		states = append(states, state)
	}
	return states, nil
}

func (j *Jobs) listJobs(e *core.RequestEvent) error {
	states, err := j.States()
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"items": states})
}

// runFromAdmin starts a run in the background and answers 202 at once; the
// run's outcome is in job_runs.
func (j *Jobs) runFromAdmin(ctx context.Context, e *core.RequestEvent) error {
	name := e.Request.PathValue("name")
	if err := j.checkRunnable(name); err != nil {
		return err
	}
	actor := audit.Actor(e.Auth)
	go func() {
		if _, err := j.Run(ctx, name, RunOptions{Trigger: "admin", Actor: actor}); err != nil {
			j.app.Logger().Error("job run from the admin API did not start", "job", name, "error", err.Error())
		}
	}()
	return e.JSON(http.StatusAccepted, map[string]any{"job": name, "started": true})
}

// checkRunnable answers 404 for an unknown job and 409 for a paused or
// running one.
func (j *Jobs) checkRunnable(name string) error {
	if !slices.Contains(JobNames, name) {
		return router.NewNotFoundError(fmt.Sprintf("No job %q: the jobs are %s.", name, strings.Join(JobNames, ", ")), nil)
	}
	if paused, err := jobPaused(j.app, name); err != nil {
		return err
	} else if paused {
		return router.NewApiError(http.StatusConflict, ErrJobPaused.Error(), nil)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, busy := j.running[name]; busy {
		return router.NewApiError(http.StatusConflict, ErrJobRunning.Error(), nil)
	}
	return nil
}

func (j *Jobs) pauseFromAdmin(e *core.RequestEvent, paused bool) error {
	name := e.Request.PathValue("name")
	if !slices.Contains(JobNames, name) {
		return e.NotFoundError(fmt.Sprintf("No job %q.", name), nil)
	}
	if err := j.SetPaused(name, paused, audit.Actor(e.Auth)); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"job": name, "paused": paused})
}
