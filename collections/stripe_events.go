package collections

// StripeEvents is the ledger of applied Stripe webhook events: a row is
// written in the same transaction as the event's effect, so an event id
// present here has been applied exactly once. Superusers only.
const StripeEvents = "stripe_events"

// Fields of stripe_events. status says what became of the event: applied,
// or refused for good (a payment that is not its order's, content the shop
// can never apply) with the reason; a refused event is answered 200 so that
// Stripe stops sending it, and the operator is alerted (docs/stripe.md).
const (
	StripeEventID      = "event_id"
	StripeEventType    = "type"
	StripeEventObject  = "object_id"
	StripeEventStatus  = "status"
	StripeEventReason  = "reason"
	StripeEventCreated = "created"
	// StripeEventPaymentIntent and StripeEventRefund are set on a parked
	// refund: the payment intent it waits for, and the refund (charge,
	// amount refunded so far, whole or not, refund id).
	StripeEventPaymentIntent = "payment_intent"
	StripeEventRefund        = "refund"
)

// The statuses of a ledger row.
const (
	EventApplied    = "applied"
	EventMismatched = "mismatched"
	EventFailed     = "failed"
	// EventParked is a charge.refunded that came before the payment of
	// its payment intent: applied when an order gains that payment intent.
	EventParked = "parked"
)
