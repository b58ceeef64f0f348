package pb_migrations

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addOutgoingWebhooks, dropOutgoingWebhooks)
}

// webhookJob is the pause switch of the webhook deliveries' worker.
const webhookJob = "webhook_outbox"

// addOutgoingWebhooks creates the endpoints of the outgoing webhooks and
// their outbox (CONTRACT §8), both superusers only (no rules), and the
// worker's pause switch.
func addOutgoingWebhooks(app core.App) error {
	endpoints := core.NewBaseCollection(c.WebhookEndpoints)
	endpoints.Fields.Add(
		&core.URLField{Name: c.EndpointURL, Required: true, Presentable: true},
		&core.SelectField{Name: c.EndpointEvents, MaxSelect: 10, Values: []string{
			"order.created", "order.paid", "order.shipped", "order.delivered", "order.cancelled", "order.refunded",
			"product.created", "product.updated", "product.deleted", "customer.deleted"}},
		&core.TextField{Name: c.EndpointSecret, Max: 100, Hidden: true},
		&core.BoolField{Name: c.EndpointActive},
		&core.TextField{Name: c.EndpointDisabledReason, Max: 500},
		&core.TextField{Name: c.EndpointDescription, Max: 500},
		&core.TextField{Name: c.EndpointPreviousSecret, Max: 100, Hidden: true},
		&core.DateField{Name: c.EndpointPreviousSecretUntil, Hidden: true},
		&core.DateField{Name: c.EndpointFailingSince, Hidden: true},
	)
	autodates(endpoints, true)
	if err := app.Save(endpoints); err != nil {
		return err
	}

	deliveries := core.NewBaseCollection(c.WebhookDeliveries)
	deliveries.Fields.Add(
		&core.RelationField{Name: c.DeliveryEndpoint, CollectionId: endpoints.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		&core.TextField{Name: c.DeliveryEventID, Required: true, Max: 64, Presentable: true},
		&core.TextField{Name: c.DeliveryType, Required: true, Max: 64},
		&core.SelectField{Name: c.DeliveryStatus, Required: true, MaxSelect: 1, Values: []string{"pending", "delivered", "failed", "dead"}},
		&core.NumberField{Name: c.DeliveryAttempts, OnlyInt: true, Min: minimum(0)},
		&core.DateField{Name: c.DeliveryNextAttempt},
		&core.NumberField{Name: c.DeliveryLastStatus, OnlyInt: true, Min: minimum(0)},
		&core.TextField{Name: c.DeliveryLastError, Max: 500},
		&core.JSONField{Name: c.DeliveryPayload, MaxSize: 1 << 20},
		&core.TextField{Name: c.DeliveryResource, Max: 64},
		&core.DateField{Name: c.DeliveryDeliveredAt},
		&core.TextField{Name: c.DeliveryClaim, Max: 64, Hidden: true},
	)
	autodates(deliveries, true)
	// The worker's claim: an endpoint's due rows, oldest first.
	deliveries.AddIndex("idx_webhook_deliveries_endpoint_status_next", false, "endpoint, status, next_attempt", "")
	// The metrics: what waits, and since when.
	deliveries.AddIndex("idx_webhook_deliveries_status_created", false, "status, created", "")
	deliveries.AddIndex("idx_webhook_deliveries_event_id", false, c.DeliveryEventID, "")
	deliveries.AddIndex("idx_webhook_deliveries_resource", false, "resource, type", "")
	if err := app.Save(deliveries); err != nil {
		return err
	}

	jobs, err := app.FindCollectionByNameOrId(c.Jobs)
	if err != nil {
		return err
	}
	if n, err := app.CountRecords(c.Jobs, dbx.HashExp{c.JobName: webhookJob}); err != nil || n > 0 {
		return err
	}
	job := core.NewRecord(jobs)
	job.Set(c.JobName, webhookJob)
	return app.Save(job)
}

func dropOutgoingWebhooks(app core.App) error {
	if _, err := app.DB().Delete(c.Jobs, dbx.HashExp{c.JobName: webhookJob}).Execute(); err != nil {
		return err
	}
	for _, name := range []string{c.WebhookDeliveries, c.WebhookEndpoints} {
		col, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			continue
		}
		if err := app.Delete(col); err != nil {
			return err
		}
	}
	return nil
}
