package hooks

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// The background jobs, by the names operators pause and run them by.
const (
	JobStripeSync  = "stripe_sync"
	JobEmailOutbox = "email_outbox"
	JobStaleOrders = "stale_orders"
)

// JobNames lists every job.
var JobNames = []string{JobStripeSync, JobEmailOutbox, JobStaleOrders}

// jobPaused reads a job's pause switch.
func jobPaused(app core.App, name string) (bool, error) {
	var paused bool
	err := app.DB().Select(c.JobPaused).From(c.Jobs).Where(dbx.HashExp{c.JobName: name}).Row(&paused)
	if err != nil {
		return false, fmt.Errorf("read pause switch of %s: %w", name, err)
	}
	return paused, nil
}
