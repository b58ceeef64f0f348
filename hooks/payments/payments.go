// Package payments is the Stripe side of the shop: checkout, cancels with
// their refunds, the webhook and its once-only ledger, invoices and their
// import, the catalogue push, the nightly sync and the stale-orders job.
// Its routes are POST /api/v1/checkout, /api/v1/orders/{id}/cancel and
// /api/v1/stripe/webhook.
package payments

import (
	"context"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76/client"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/alerts"
	"shopdash/hooks/cache"
	"shopdash/hooks/metrics"
)

// The jobs of payments, by the names operators pause and run them by.
const (
	JobStripeSync  = "stripe_sync"
	JobStaleOrders = "stale_orders"
)

// StaleOrdersSchedule runs the stale-orders job every hour.
const StaleOrdersSchedule = "17 * * * *"

// Config is the Stripe part of the shop's configuration.
type Config struct {
	// StripeSecretKey is STRIPE_SECRET_KEY; empty disables payments.
	StripeSecretKey string
	// StripeWebhookSecrets are the signing secrets of STRIPE_WEBHOOK_SECRET;
	// several while a secret is rotated.
	StripeWebhookSecrets []string
	// StripeAPIBase is STRIPE_API_BASE, another Stripe API URL.
	StripeAPIBase string
	// StripeMaxRetries is how often stripe-go retries a failed request.
	StripeMaxRetries int64
	// AppURL is the public base of checkout return links.
	AppURL string
	// SyncBatch is how many records a sync transaction holds; 0 means
	// defaultSyncBatch.
	SyncBatch int
	// PushRetryDelays are the waits between catalogue push attempts; nil
	// means defaultPushRetryDelays.
	PushRetryDelays []time.Duration
}

// Payments holds the Stripe client and the catalogue pushes under way.
// stripe is nil without a secret key.
type Payments struct {
	app     core.App
	cfg     Config
	stripe  *client.API
	alerts  *alerts.Alerter
	answers *cache.Answers // the sync's bulk insert forgets its customers' answers
	metrics *metrics.Metrics
	// events applies the webhook's deliveries in group commits.
	events *eventBatcher

	// ctx ends with the app, cancelling background pushes.
	ctx        context.Context
	stopPushes context.CancelFunc

	// pushing holds the products whose push is running; a change during a
	// push marks it to run again instead of starting a second one.
	mu      sync.Mutex
	pushing map[string]bool
	wg      sync.WaitGroup
}

// defaultPushRetryDelays are the waits between catalogue push attempts;
// after the last the product is marked failed and the nightly sync
// retries it.
var defaultPushRetryDelays = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}

// Register binds the payment routes and the catalogue push to app. Its
// jobs are RunSync and CancelStaleOrders, which the wiring adds to the
// runner.
func Register(app core.App, cfg Config, alerter *alerts.Alerter, answers *cache.Answers, m *metrics.Metrics) *Payments {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Payments{app: app, cfg: cfg, stripe: newStripeClient(cfg), alerts: alerter, answers: answers, metrics: m,
		events: newEventBatcher(maxEventBatch, m.WebhookBatch), ctx: ctx, stopPushes: cancel, pushing: map[string]bool{}}
	if p.cfg.PushRetryDelays == nil {
		p.cfg.PushRetryDelays = defaultPushRetryDelays
	}

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se)
		g.POST("/checkout", p.checkout).Bind(access.SignedIn(), access.RequirePermission(c.PermCreateOrders))
		g.POST("/orders/{id}/cancel", p.cancelOrder).Bind(access.SignedIn(), access.RequirePermission(c.PermCancelOrders))
		g.POST("/orders/{id}/refund", p.refundOrderRoute).Bind(access.SignedIn(), access.RequirePermission(c.PermRefundOrders))
		g.POST("/products/{id}/push", p.pushAgain).Bind(access.SignedIn(), access.RequirePermission(c.PermUpdateProducts))
		// An event answered 200 is in the ledger (stripe_events) and in
		// /metrics; a request log line would be a write of its own per
		// event on the busiest path. Refusals and failures are logged.
		g.POST("/stripe/webhook", p.receiveWebhook).Bind(apis.SkipSuccessActivityLog())
		return se.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		p.stopPushes()
		p.wg.Wait()
		return e.Next()
	})
	registerCataloguePush(app, p)

	return p
}
