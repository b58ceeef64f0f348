package jobs

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// Paused reads a job's pause switch, a row of the jobs collection, so
// that `shopdash jobs pause` in another process stops this one's run.
func Paused(app core.App, name string) (bool, error) {
	var paused bool
	err := app.DB().Select(c.JobPaused).From(c.Jobs).Where(dbx.HashExp{c.JobName: name}).Row(&paused)
	if err != nil {
		return false, fmt.Errorf("read pause switch of %s: %w", name, err)
	}
	return paused, nil
}

// SetPaused flips a job's switch, cancels its run if it pauses, and audits
// it when a person did it.
func (j *Jobs) SetPaused(name string, paused bool, actor string) error {
	if _, ok := j.funcs[name]; !ok {
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
