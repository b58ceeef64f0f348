package customer

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
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

// pageCSP lets the pages run only their own files: no inline script or
// style, API and realtime calls to this origin only, images from this
// origin (product images, thumbnails) and data: (the empty favicon), no
// framing, no plugins, forms posting here only. The checkout leaves for
// Stripe by navigation, which CSP does not restrict.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// pageSecurityHeaders sets the headers every page carries, on top of the
// ones PocketBase sets on every answer (X-Content-Type-Options and
// X-Frame-Options among them).
func pageSecurityHeaders(e *core.RequestEvent) error {
	h := e.Response.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
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
