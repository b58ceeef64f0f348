package collections

import (
	"slices"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// WebhookEndpoints are the receivers of the shop's outgoing webhooks
// (CONTRACT §8). Superusers only.
const WebhookEndpoints = "webhook_endpoints"

// Fields of webhook_endpoints. events is the event types the endpoint
// takes, none meaning all. secret is its whsec_ signing secret;
// previous_secret (hidden) is the one a rotation replaced, which deliveries
// are also signed with until previous_secret_until. failing_since (hidden)
// is when the endpoint began to fail every attempt, cleared by a success:
// after WebhookFailingLimit of it the endpoint is disabled.
const (
	EndpointURL                 = "url"
	EndpointEvents              = "events"
	EndpointSecret              = "secret"
	EndpointActive              = "active"
	EndpointDisabledReason      = "disabled_reason"
	EndpointDescription         = "description"
	EndpointPreviousSecret      = "previous_secret"
	EndpointPreviousSecretUntil = "previous_secret_until"
	EndpointFailingSince        = "failing_since"
	EndpointCreated             = "created"
	EndpointUpdated             = "updated"
)

// WebhookSecretPrefix starts every endpoint secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// WebhookSecretOverlap is how long a rotated secret still signs deliveries.
const WebhookSecretOverlap = 24 * time.Hour

// WebhookFailingLimit is how long an endpoint may fail every attempt
// before it is disabled.
const WebhookFailingLimit = 5 * 24 * time.Hour

// Event types of the outgoing webhooks.
const (
	EventOrderCreated    = "order.created"
	EventOrderPaid       = "order.paid"
	EventOrderShipped    = "order.shipped"
	EventOrderDelivered  = "order.delivered"
	EventOrderCancelled  = "order.cancelled"
	EventOrderRefunded   = "order.refunded"
	EventProductCreated  = "product.created"
	EventProductUpdated  = "product.updated"
	EventProductDeleted  = "product.deleted"
	EventCustomerDeleted = "customer.deleted"
)

// WebhookEventTypes lists every event type, in the catalogue's order.
var WebhookEventTypes = []string{
	EventOrderCreated, EventOrderPaid, EventOrderShipped, EventOrderDelivered, EventOrderCancelled, EventOrderRefunded,
	EventProductCreated, EventProductUpdated, EventProductDeleted, EventCustomerDeleted,
}

// WebhookEndpoint is a typed view of a webhook_endpoints record.
type WebhookEndpoint struct{ *core.Record }

// NewWebhookEndpoint wraps a webhook_endpoints record.
func NewWebhookEndpoint(r *core.Record) *WebhookEndpoint { return &WebhookEndpoint{r} }

// URL is where deliveries are posted.
func (e *WebhookEndpoint) URL() string { return e.GetString(EndpointURL) }

// Events is the event types the endpoint takes; empty means all.
func (e *WebhookEndpoint) Events() []string { return e.GetStringSlice(EndpointEvents) }

// Takes tells whether the endpoint takes events of the type.
func (e *WebhookEndpoint) Takes(eventType string) bool {
	events := e.Events()
	return len(events) == 0 || slices.Contains(events, eventType)
}

// Secret is the current signing secret.
func (e *WebhookEndpoint) Secret() string { return e.GetString(EndpointSecret) }

// Active tells whether deliveries are sent to the endpoint.
func (e *WebhookEndpoint) Active() bool { return e.GetBool(EndpointActive) }

// SigningSecrets are the secrets a delivery at now is signed with: the
// current one, and the one it replaced while the overlap lasts.
func (e *WebhookEndpoint) SigningSecrets(now time.Time) []string {
	secrets := []string{e.Secret()}
	if prev := e.GetString(EndpointPreviousSecret); prev != "" && now.Before(e.GetDateTime(EndpointPreviousSecretUntil).Time()) {
		secrets = append(secrets, prev)
	}
	return secrets
}
