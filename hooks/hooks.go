// Package hooks holds the shop's business logic: one file per capability,
// each registering its PocketBase hooks, routes and jobs.
package hooks

import (
	"io/fs"

	"github.com/pocketbase/pocketbase/core"
)

// Register binds every capability of the shop to app and returns its
// background jobs, which the commands run too. public is the customer web
// page served at /; cfg is read from the environment by main and set
// directly by tests.
func Register(app core.App, public fs.FS, cfg Config) (*Jobs, error) {
	registerAuthCache(app, cfg.cacheTTL())
	answers := registerAnswerCache(app, cfg.cacheTTL())
	registerUsers(app)
	registerProducts(app)
	registerTextFields(app)
	registerOrders(app)
	registerOrderItems(app)
	registerRecordsGuard(app, cfg.RecordsReadTimeout)
	registerRealtimeGuard(app)
	registerListScoping(app)
	registerShop(app)
	alerts := &alerter{app: app, to: cfg.AlertEmail}
	payments := registerPayments(app, cfg, alerts)
	registerAccount(app)
	registerDashboard(app, answers)
	registerPurchases(app, answers)
	registerDownloads(app, cfg)
	registerMailDeadlines(app, cfg.SMTPTimeout)
	outbox := registerEmails(app, cfg, alerts)
	registerPublicPage(app, public)
	registerProfiling(app)
	jobs := newJobs(app, payments, outbox, alerts, answers)
	return jobs, registerJobs(app, cfg, jobs)
}
