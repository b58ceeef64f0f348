// Package hooks holds the shop's business logic: one file per capability,
// each registering its PocketBase hooks, routes and jobs.
package hooks

import (
	"io/fs"

	"github.com/pocketbase/pocketbase/core"
)

// Register binds every capability of the shop to app. public is the
// customer web page served at /.
func Register(app core.App, public fs.FS) {
	registerUsers(app)
	registerProducts(app)
	registerOrders(app)
	registerOrderItems(app)
	registerListScoping(app)
	registerShop(app)
	registerPublicPage(app, public)
}
