package pb_migrations

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addReplayJob, dropReplayJob)
}

// replayJob is the pause switch of the Stripe event replay (CONTRACT §6).
const replayJob = "stripe_replay"

// addReplayJob adds the replay's pause switch, running.
func addReplayJob(app core.App) error {
	jobs, err := app.FindCollectionByNameOrId(c.Jobs)
	if err != nil {
		return err
	}
	if n, err := app.CountRecords(c.Jobs, dbx.HashExp{c.JobName: replayJob}); err != nil || n > 0 {
		return err
	}
	job := core.NewRecord(jobs)
	job.Set(c.JobName, replayJob)
	return app.Save(job)
}

func dropReplayJob(app core.App) error {
	_, err := app.DB().Delete(c.Jobs, dbx.HashExp{c.JobName: replayJob}).Execute()
	return err
}
