package customer

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/access"
)

// registerPublicPage serves the embedded customer page at / and replaces
// PocketBase's first-run installer link, which would print a superuser
// token to the terminal, with the command that creates a superuser.
func registerPublicPage(app core.App, public fs.FS) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.InstallerFunc = nil
		se.Router.GET("/{path...}", apis.Static(public, true)).BindFunc(noCacheForPage, pageSecurityHeaders)
		if err := printSuperuserHint(se.App); err != nil {
			return err
		}
		return se.Next()
	})
}

// noCacheForPage makes browsers revalidate the page after an upgrade.
func noCacheForPage(e *core.RequestEvent) error {
	e.Response.Header().Set("Cache-Control", "no-cache")
	return e.Next()
}

// pageSecurityHeaders sets the pages' policy and headers
// (access.SetPageHeaders).
func pageSecurityHeaders(e *core.RequestEvent) error {
	access.SetPageHeaders(e.Response.Header(), access.PageCSP)
	return e.Next()
}

func printSuperuserHint(app core.App) error {
	total, err := app.CountRecords(core.CollectionNameSuperusers,
		dbx.Not(dbx.HashExp{core.FieldNameEmail: core.DefaultInstallerEmail}))
	if err != nil {
		return fmt.Errorf("count superusers: %w", err)
	}
	if total == 0 {
		fmt.Fprintln(os.Stderr, "No superuser yet. Create one for the dashboard at /_/ with:\n  ./shopdash superuser upsert admin@example.com 'a-long-password'")
	}
	return nil
}
