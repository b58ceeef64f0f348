package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(createJobs, dropJobs)
}

// createJobs adds the pause switches of the background jobs, one record
// each, all running.
func createJobs(app core.App) error {
	jobs := core.NewBaseCollection(c.Jobs)
	jobs.Fields.Add(
		&core.TextField{Name: c.JobName, Required: true, Max: 100, Presentable: true},
		&core.BoolField{Name: c.JobPaused},
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
	jobs.AddIndex("idx_jobs_name", true, c.JobName, "")
	if err := app.Save(jobs); err != nil {
		return err
	}
	for _, name := range []string{"stripe_sync", "email_outbox", "stale_orders"} {
		job := core.NewRecord(jobs)
		job.Set(c.JobName, name)
		if err := app.Save(job); err != nil {
			return err
		}
	}
	return nil
}

func dropJobs(app core.App) error {
	jobs, err := app.FindCollectionByNameOrId(c.Jobs)
	if err != nil {
		return nil
	}
	return app.Delete(jobs)
}
