package collections

// JobRuns records each run of a background job with its counts. Superusers only.
const JobRuns = "job_runs"

// Fields of job_runs.
const (
	JobRunJob       = "job"
	JobRunStatus    = "status"
	JobRunTrigger   = "trigger"
	JobRunStarted   = "started"
	JobRunFinished  = "finished"
	JobRunFetched   = "fetched"
	JobRunCreated   = "created"
	JobRunUpdated   = "updated"
	JobRunSkipped   = "skipped"
	JobRunFailed    = "failed"
	JobRunWatermark = "watermark"
	JobRunError     = "error"
)

// Values of job_runs.status.
const (
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)
