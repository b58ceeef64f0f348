package metrics

import (
	"context"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
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

// webhookOutboxCollector reads webhook_deliveries at scrape time, as the
// email outbox's collector does.
type webhookOutboxCollector struct {
	app                 core.App
	depth, dead, oldest *prometheus.Desc
}

func newWebhookOutboxCollector(app core.App) *webhookOutboxCollector {
	return &webhookOutboxCollector{
		app: app,
		depth: prometheus.NewDesc("shopdash_webhook_queue_depth",
			"Outgoing webhook deliveries waiting to be sent: pending, or failed with a retry to come.", nil, nil),
		dead: prometheus.NewDesc("shopdash_webhook_dead",
			"Outgoing webhook deliveries given up on (status dead).", nil, nil),
		oldest: prometheus.NewDesc("shopdash_webhook_oldest_pending_age_seconds",
			"Age of the oldest outgoing webhook delivery waiting to be sent, 0 when none waits.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (o *webhookOutboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.depth
	ch <- o.dead
	ch <- o.oldest
}

// Collect implements prometheus.Collector.
func (o *webhookOutboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeQueryTimeout)
	defer cancel()
	var rows []struct {
		Status string `db:"status"`
		Count  int    `db:"n"`
		Oldest string `db:"oldest"`
	}
	err := o.app.DB().Select(c.DeliveryStatus, "COUNT(*) AS n", "MIN("+c.DeliveryCreated+") AS oldest").
		From(c.WebhookDeliveries).
		Where(dbx.In(c.DeliveryStatus, c.DeliveryPending, c.DeliveryFailed, c.DeliveryDead)).
		GroupBy(c.DeliveryStatus).
		WithContext(ctx).
		All(&rows)
	if err != nil {
		o.app.Logger().Error("metrics: read the webhook outbox", "error", err.Error())
		for _, desc := range []*prometheus.Desc{o.depth, o.dead, o.oldest} {
			ch <- prometheus.NewInvalidMetric(desc, err)
		}
		return
	}
	var depth, dead int
	var oldest string
	for _, row := range rows {
		if row.Status == c.DeliveryDead {
			dead += row.Count
			continue
		}
		depth += row.Count
		if oldest == "" || row.Oldest < oldest {
			oldest = row.Oldest
		}
	}
	var age float64
	if created, err := types.ParseDateTime(oldest); err == nil && !created.IsZero() {
		age = max(0, time.Since(created.Time()).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(o.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(o.dead, prometheus.GaugeValue, float64(dead))
	ch <- prometheus.MustNewConstMetric(o.oldest, prometheus.GaugeValue, age)
}
