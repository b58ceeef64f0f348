// Package hooks wires the shop: it reads the configuration (Config) and
// registers every capability of the shop on a PocketBase app, in the
// order of the layers below (docs/architecture.md):
//
//	collections/          names and typed views of the schema
//	hooks/access, alerts, audit, cache, metrics, realtime
//	                      cross-cutting parts: permissions and the records
//	                      API's guards, operator alerts, the audit log, the
//	                      caches, the Prometheus metrics, realtime delivery
//	hooks/records, jobs, sessions
//	                      the collections' record hooks and the order
//	                      operations several entry points share; the job
//	                      runner; the session policy
//	hooks/payments, emails, webhooks, customer, staff, apidoc
//	                      capabilities: Stripe, the order emails, the
//	                      outgoing webhooks, the customer's routes and
//	                      page, support's timeline, the API document and
//	                      its reference page
//	hooks                 this wiring
//
// A package imports only packages of a lower layer (imports_test.go).
package hooks

import (
	"fmt"
	"io/fs"

	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/access"
	"shopdash/hooks/alerts"
	"shopdash/hooks/apidoc"
	"shopdash/hooks/cache"
	"shopdash/hooks/customer"
	"shopdash/hooks/emails"
	"shopdash/hooks/jobs"
	"shopdash/hooks/metrics"
	"shopdash/hooks/payments"
	"shopdash/hooks/realtime"
	"shopdash/hooks/records"
	"shopdash/hooks/sessions"
	"shopdash/hooks/staff"
	"shopdash/hooks/webhooks"
)

// Register binds every capability of the shop to app and returns its
// background jobs, which the commands run too. public is the customer web
// page served at /; cfg is read from the environment by main and set
// directly by tests.
//
// The order of the calls is not load-bearing: hooks whose order matters
// say so with their handler's Priority (the caches and guards run first,
// the SMTP deadline last).
func Register(app core.App, public fs.FS, cfg Config) (*jobs.Jobs, error) {
	useAppURL(app, cfg.AppURL)
	registerProfiling(app)

	// Shared parts.
	m := metrics.Register(app, cfg.metrics())
	signIns := cache.RegisterAuth(app, cfg.cacheTTL())
	answers := cache.RegisterAnswers(app, cfg.cacheTTL())
	m.CacheLookups("auth", signIns.Counts)
	m.CacheLookups("answers", answers.Lookups().Counts)
	access.RegisterRecordsGuard(app, recordsAPIReadSlots(), cfg.RecordsReadTimeout)
	access.RegisterRealtimeGuard(app)
	realtime.Register(app)
	access.RegisterListScoping(app)
	alerter := alerts.New(app, cfg.AlertEmail)
	records.Register(app)
	policy := sessions.Register(app, cfg.sessions())
	runner := jobs.Register(app, m)

	// Capabilities.
	pay := payments.Register(app, cfg.payments(), alerter, answers, m)
	outbox := emails.Register(app, cfg.emails(), alerter)
	outgoing := webhooks.Register(app, cfg.webhooks(), alerter, m)
	customer.Register(app, public, cfg.AppURL, answers, policy)
	staff.Register(app)
	apidoc.Register(app)

	// Jobs, in the order `shopdash jobs list` shows them.
	if err := runner.Add(payments.JobStripeSync, cfg.syncSchedule(), pay.RunSync); err != nil {
		return nil, fmt.Errorf("SHOPDASH_SYNC_SCHEDULE %q: %w", cfg.SyncSchedule, err)
	}
	if err := runner.Add(emails.JobEmailOutbox, "", outbox.RunPass); err != nil {
		return nil, err
	}
	if err := runner.Add(payments.JobStaleOrders, payments.StaleOrdersSchedule, pay.CancelStaleOrders); err != nil {
		return nil, err
	}
	if err := runner.Add(payments.JobStripeReplay, cfg.replaySchedule(), pay.RunReplay); err != nil {
		return nil, fmt.Errorf("SHOPDASH_REPLAY_SCHEDULE %q: %w", cfg.ReplaySchedule, err)
	}
	if err := runner.Add(webhooks.JobWebhookOutbox, "", outgoing.RunPass); err != nil {
		return nil, err
	}
	return runner, nil
}

// useAppURL makes SHOPDASH_APP_URL PocketBase's application URL too, at
// start and after every settings save: the links of PocketBase's own
// emails (the address confirmation every customer needs before ordering)
// must point at the shop, not at localhost.
func useAppURL(app core.App, url string) {
	app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		e.App.Settings().Meta.AppURL = url
		return nil
	})
}
