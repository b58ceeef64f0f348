package hooks

import (
	"context"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76/client"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/alerts"
)

// payments is the Stripe side of the shop: checkout, webhooks, cancels
// with refunds and the catalogue push. stripe is nil without a secret key.
type payments struct {
	app    core.App
	cfg    Config
	stripe *client.API
	alerts *alerts.Alerter

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

func registerPayments(app core.App, cfg Config, alerter *alerts.Alerter) *payments {
	ctx, cancel := context.WithCancel(context.Background())
	p := &payments{app: app, cfg: cfg, stripe: newStripeClient(cfg), alerts: alerter, ctx: ctx, stopPushes: cancel, pushing: map[string]bool{}}
	if p.cfg.PushRetryDelays == nil {
		p.cfg.PushRetryDelays = defaultPushRetryDelays
	}

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se)
		g.POST("/checkout", p.checkout).Bind(access.SignedIn(), access.RequirePermission(c.PermCreateOrders))
		g.POST("/orders/{id}/cancel", p.cancelOrder).Bind(access.SignedIn(), access.RequirePermission(c.PermCancelOrders))
		g.POST("/stripe/webhook", p.receiveWebhook)
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
