package apidoc

import (
	"embed"
	"net/http"
	"path"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/access"
)

// ReferencePath is the rendered reference of the document.
const ReferencePath = "/api/docs"

//go:embed reference
var referenceFiles embed.FS

// referenceCSP is the pages' policy with one difference: styles may be
// inline. The renderer (Scalar) writes its stylesheets into <style>
// elements, only the first of which takes a nonce, and sets style
// attributes, which no nonce can allow (docs/decisions/0010-api-document.md).
// Scripts stay files of this origin, without eval.
var referenceCSP = strings.Replace(access.PageCSP, "style-src 'self'", "style-src 'self' 'unsafe-inline'", 1)

// registerReference serves the reference page (/api/docs) and its two
// small scripts (/api/docs/*.js); the renderer is pb_public/vendor's.
func registerReference(se *core.ServeEvent) {
	se.Router.GET(ReferencePath, func(e *core.RequestEvent) error {
		return servePageFile(e, "index.html", referenceCSP)
	})
	se.Router.GET(ReferencePath+"/{file}", func(e *core.RequestEvent) error {
		name := e.Request.PathValue("file")
		if !strings.HasSuffix(name, ".js") {
			return e.NotFoundError("", nil)
		}
		return servePageFile(e, name, access.PageCSP)
	})
}

// servePageFile answers a file of reference/ with the headers of a page
// and the policy given.
func servePageFile(e *core.RequestEvent, name, csp string) error {
	body, err := referenceFiles.ReadFile(path.Join("reference", name))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	access.SetPageHeaders(e.Response.Header(), csp)
	e.Response.Header().Set("Cache-Control", "no-cache")
	contentType := "text/html; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		contentType = "text/javascript; charset=utf-8"
	}
	return e.Blob(http.StatusOK, contentType, body)
}
