package collections

// EmailJobs is the outbox of order emails, one row per order and template.
// Superusers only.
const EmailJobs = "email_jobs"

// Fields of email_jobs.
const (
	EmailJobOrder       = "order"
	EmailJobUser        = "user"
	EmailJobRecipient   = "recipient"
	EmailJobTemplate    = "template"
	EmailJobLanguage    = "language"
	EmailJobStatus      = "status"
	EmailJobAttempts    = "attempts"
	EmailJobNextAttempt = "next_attempt"
	EmailJobLastError   = "last_error"
	EmailJobSentAt      = "sent_at"
	EmailJobCreated     = "created"
	EmailJobUpdated     = "updated"
)

// Order email templates.
const (
	TemplateOrderPaid      = "order_paid"
	TemplateOrderShipped   = "order_shipped"
	TemplateOrderCancelled = "order_cancelled"
	TemplateOrderRefunded  = "order_refunded"
)

// EmailTemplates lists every order email template.
var EmailTemplates = []string{TemplateOrderPaid, TemplateOrderShipped, TemplateOrderCancelled, TemplateOrderRefunded}

// Values of email_jobs.status.
const (
	EmailQueued = "queued"
	EmailSent   = "sent"
	EmailFailed = "failed"
	EmailDead   = "dead"
)
