// Package apidoc is the shop's API contract: the OpenAPI 3.1 document of
// the /api/v1 routes and the records API (built by Build, committed as
// openapi.json, served at /api/v1/openapi.json) and the reference page at
// /api/docs (docs/decisions/0010-api-document.md).
package apidoc

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/access"
)

// DocumentPath is where the document is served.
const DocumentPath = "/api/v1/openapi.json"

// Document is the committed document, as Build wrote it
// (TestCommittedDocumentIsCurrent).
//
//go:embed openapi.json
var Document []byte

// documentETag is the document's strong validator.
var documentETag = func() string {
	sum := sha256.Sum256(Document)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// Register serves the document and its reference page.
func Register(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		access.V1(se).GET("/openapi.json", serveDocument)
		registerReference(se)
		return se.Next()
	})
}

// serveDocument answers the document, or 304 when the client holds it.
func serveDocument(e *core.RequestEvent) error {
	h := e.Response.Header()
	h.Set("ETag", documentETag)
	h.Set("Cache-Control", "public, max-age=300")
	if match := e.Request.Header.Get("If-None-Match"); match != "" && etagMatches(match, documentETag) {
		return e.NoContent(http.StatusNotModified)
	}
	return e.Blob(http.StatusOK, "application/json", Document)
}

// etagMatches reports whether an If-None-Match header names etag: a list
// of tags, weak ones compared weakly as RFC 9110 asks, or "*".
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
