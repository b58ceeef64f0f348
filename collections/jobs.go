package collections

// Jobs holds one record per background job with its pause switch, so a
// pause survives restarts. Superusers only.
const Jobs = "jobs"

// Fields of jobs.
const (
	JobName    = "name"
	JobPaused  = "paused"
	JobUpdated = "updated"
)
