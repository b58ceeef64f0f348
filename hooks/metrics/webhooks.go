package metrics

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"

	c "shopdash/collections"
)

// WebhookDelivery counts one recorded attempt of an outgoing webhook: the
// endpoint's id (never its URL, which may carry a token) and what became
// of the delivery (delivered, failed, dead, gone).
func (m *Metrics) WebhookDelivery(endpoint, outcome string) {
	m.webhookDeliveries.WithLabelValues(endpoint, outcome).Inc()
}

// WebhookOutbox adds the outgoing webhooks' outbox, read at each scrape:
// what waits and since when.
func (m *Metrics) WebhookOutbox(app core.App) {
	m.registry.MustRegister(newWebhookOutboxCollector(app))
}

func newWebhookDeliveries() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shopdash_webhook_deliveries_total",
		Help: "Attempts of outgoing webhooks by endpoint id and outcome: delivered, failed (a retry to come), dead (the last attempt failed), gone (410: the endpoint is disabled).",
	}, []string{"endpoint", "outcome"})
}

// newWebhookOutboxCollector reads webhook_deliveries at scrape time, as
// the email outbox's collector does.
func newWebhookOutboxCollector(app core.App) *outboxCollector {
	return &outboxCollector{
		app: app,
		outbox: outbox{name: "webhook", table: c.WebhookDeliveries, status: c.DeliveryStatus, created: c.DeliveryCreated,
			waiting: []any{c.DeliveryPending, c.DeliveryFailed}, dead: c.DeliveryDead},
		depth: prometheus.NewDesc("shopdash_webhook_queue_depth",
			"Outgoing webhook deliveries waiting to be sent: pending, or failed with a retry to come.", nil, nil),
		dead: prometheus.NewDesc("shopdash_webhook_dead",
			"Outgoing webhook deliveries given up on (status dead).", nil, nil),
		oldest: prometheus.NewDesc("shopdash_webhook_oldest_pending_age_seconds",
			"Age of the oldest outgoing webhook delivery waiting to be sent, 0 when none waits.", nil, nil),
	}
}
