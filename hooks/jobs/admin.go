package jobs

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
)

// bindRoutes adds the superuser routes that show, run, pause and resume
// the jobs.
func (j *Jobs) bindRoutes() {
	j.app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se).Group("/admin/jobs")
		g.Bind(apis.RequireSuperuserAuth())
		g.GET("", j.listJobs)
		g.POST("/{name}/run", j.runFromAdmin)
		g.POST("/{name}/pause", func(e *core.RequestEvent) error { return j.pauseFromAdmin(e, true) })
		g.POST("/{name}/resume", func(e *core.RequestEvent) error { return j.pauseFromAdmin(e, false) })
		return se.Next()
	})
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
	for _, name := range j.names {
		paused, err := Paused(j.app, name)
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
func (j *Jobs) runFromAdmin(e *core.RequestEvent) error {
	name := e.Request.PathValue("name")
	if err := j.checkRunnable(name); err != nil {
		return err
	}
	actor := audit.Actor(e.Auth)
	go func() {
		if _, err := j.Run(j.ctx, name, RunOptions{Trigger: "admin", Actor: actor}); err != nil {
			j.app.Logger().Error("job run from the admin API did not start", "job", name, "error", err.Error())
		}
	}()
	return e.JSON(http.StatusAccepted, map[string]any{"job": name, "started": true})
}

// checkRunnable answers 404 for an unknown job and 409 for a paused or
// running one.
func (j *Jobs) checkRunnable(name string) error {
	if _, ok := j.funcs[name]; !ok {
		return router.NewNotFoundError(fmt.Sprintf("No job %q: the jobs are %s.", name, strings.Join(j.names, ", ")), nil)
	}
	if paused, err := Paused(j.app, name); err != nil {
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
	if _, ok := j.funcs[name]; !ok {
		return e.NotFoundError(fmt.Sprintf("No job %q.", name), nil)
	}
	if err := j.SetPaused(name, paused, audit.Actor(e.Auth)); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{"job": name, "paused": paused})
}
