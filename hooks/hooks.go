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
	registerUsers(app)
	registerProducts(app)
	registerOrders(app)
	registerOrderItems(app)
	registerListScoping(app)
	registerShop(app)
	payments := registerPayments(app, cfg)
	registerAccount(app)
	registerDashboard(app)
	registerPurchases(app)
	registerDownloads(app, cfg)
	outbox := registerEmails(app, cfg)
	registerPublicPage(app, public)
	jobs := newJobs(app, payments, outbox)
	return jobs, registerJobs(app, cfg, jobs)
}
