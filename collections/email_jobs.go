package collections

// EmailJobs is the outbox of order emails, one row per order and template
// (and, for a partial refund, per amount refunded by then).
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
	// EmailJobRefund is the amount of the refund a partial-refund email
	// tells of, in the order's minor units; 0 for other emails.
	EmailJobRefund = "refund"
	// EmailJobRefundedAmount is the order's refunded_amount after that
	// refund: with order and template, it keeps one email per refund.
	EmailJobRefundedAmount = "refunded_amount"
	EmailJobCreated        = "created"
	EmailJobUpdated        = "updated"
)

// Order email templates.
const (
	TemplateOrderPaid      = "order_paid"
	TemplateOrderShipped   = "order_shipped"
	TemplateOrderCancelled = "order_cancelled"
	TemplateOrderRefunded  = "order_refunded"
	// TemplateOrderPartlyRefunded tells of a refund of a part of an order
	// whose status stays (support's partial refund, or one made in Stripe's
	// dashboard); order_refunded goes when nothing remains.
	TemplateOrderPartlyRefunded = "order_partly_refunded"
)

// EmailTemplates lists every order email template.
var EmailTemplates = []string{TemplateOrderPaid, TemplateOrderShipped, TemplateOrderCancelled, TemplateOrderRefunded, TemplateOrderPartlyRefunded}

// Values of email_jobs.status.
const (
	EmailQueued = "queued"
	EmailSent   = "sent"
	EmailFailed = "failed"
	EmailDead   = "dead"
)
