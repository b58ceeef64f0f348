package collections

// StripeEvents is the ledger of applied Stripe webhook events: a row is
// written in the same transaction as the event's effect, so an event id
// present here has been applied exactly once. Superusers only.
const StripeEvents = "stripe_events"

// Fields of stripe_events.
const (
	StripeEventID      = "event_id"
	StripeEventType    = "type"
	StripeEventObject  = "object_id"
	StripeEventCreated = "created"
)
