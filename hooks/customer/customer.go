// Package customer is what a customer's page and client use besides the
// records API: the account routes (profile, export, deletion), the
// dashboard, the purchases table, the downloads, and the page itself at /.
package customer

import (
	"io/fs"

	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/cache"
	"shopdash/hooks/sessions"
	"shopdash/internal/prepared"
)

// Register binds the customer routes and the page. public is the page's
// files; appURL the shop's public base, for download links; answers the
// cache of the read routes; policy the session policy, which the
// account's deletion asks for a recent sign-in.
func Register(app core.App, public fs.FS, appURL string, answers *cache.Answers, policy *sessions.Policy) {
	registerAccount(app, policy)
	// The routes' reads run as kept statements (prepared.Statements).
	stmts := &prepared.Statements{}
	registerDashboard(app, answers, stmts)
	registerPurchases(app, answers, stmts)
	registerDownloads(app, appURL)
	registerPublicPage(app, public)
}
