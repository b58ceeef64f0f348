// Package hooks holds the shop's business logic: one file per capability,
// each registering its PocketBase hooks, routes and jobs.
package hooks

import (
	"io/fs"

	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/access"
	"shopdash/hooks/alerts"
	"shopdash/hooks/cache"
	"shopdash/hooks/customer"
	"shopdash/hooks/records"
)

// Register binds every capability of the shop to app and returns its
// background jobs, which the commands run too. public is the customer web
// page served at /; cfg is read from the environment by main and set
// directly by tests.
func Register(app core.App, public fs.FS, cfg Config) (*Jobs, error) {
	cache.RegisterAuth(app, cfg.cacheTTL())
	answers := cache.RegisterAnswers(app, cfg.cacheTTL())
	records.Register(app)
	useAppURL(app, cfg.AppURL)
	access.RegisterRecordsGuard(app, recordsAPIReadSlots(), cfg.RecordsReadTimeout)
	access.RegisterRealtimeGuard(app)
	access.RegisterListScoping(app)
	alerter := alerts.New(app, cfg.AlertEmail)
	payments := registerPayments(app, cfg, alerter)
	customer.Register(app, public, cfg.AppURL, answers)
	registerMailDeadlines(app, cfg.SMTPTimeout)
	outbox := registerEmails(app, cfg, alerter)
	registerProfiling(app)
	jobs := newJobs(app, payments, outbox, alerter, answers)
	return jobs, registerJobs(app, cfg, jobs)
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
