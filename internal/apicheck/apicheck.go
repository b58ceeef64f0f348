// Package apicheck validates the shop's answers against its OpenAPI
// document (hooks/apidoc): the API tests check every answer they get
// through it, and so does the end-to-end suite.
package apicheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/apidoc"
)

// Checker validates answers against one loaded document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads the document the binary embeds.
func New() (*Checker, error) {
	return Load(apidoc.Document)
}

// Load loads a document.
func Load(document []byte) (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("load the document: %w", err)
	}
	// Its one server is the shop itself ("/"): routes match on any host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the document: %w", err)
	}
	return &Checker{doc: doc, router: router}, nil
}

// Checked reports whether the document speaks for a request's path: the
// shop's own routes (all of them) and the records API and sign-in paths it
// documents. Realtime, files, health and PocketBase's other routes are
// PocketBase's own.
//
// Records-API answers to superusers are not checked: they show hidden
// fields, which the document leaves out on purpose.
func (c *Checker) Checked(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/v1/") {
		return true
	}
	if _, _, err := c.router.FindRoute(c.routable(r)); err != nil {
		return false
	}
	return !superuserToken(r.Header.Get("Authorization"))
}

// superusersID is the id PocketBase gives its _superusers collection:
// "pbc_" and the CRC-32 of its type and name.
var superusersID = "pbc_" + strconv.FormatInt(int64(crc32.ChecksumIEEE([]byte(core.CollectionTypeAuth+core.CollectionNameSuperusers))), 10)

// superuserToken reports whether an auth token is a superuser's, from its
// claims (not verified: the shop does that; this only picks what to check).
func superuserToken(token string) bool {
	parts := strings.Split(strings.TrimPrefix(token, "Bearer "), ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		CollectionID string `json:"collectionId"`
	}
	return json.Unmarshal(payload, &claims) == nil && claims.CollectionID == superusersID
}

// Check validates one answer: the request's route and method must be in
// the document (for the shop's own routes), and the status, headers and
// body of the answer what it says. A request with PocketBase's fields
// parameter is not checked beyond its route: it trims any answer.
func (c *Checker) Check(r *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(c.routable(r))
	if err != nil {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			return fmt.Errorf("%s %s is not in the API document (hooks/apidoc/routes_v1.go): %w", r.Method, r.URL.Path, err)
		}
		return nil
	}
	if r.URL.Query().Has("fields") {
		return nil
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s %s answered %d, which the API document does not describe: %w\nbody: %.600s", r.Method, r.URL.Path, status, err, body)
	}
	return nil
}

// routable is the request as the router matches it: a HEAD as the GET it
// is served by.
func (c *Checker) routable(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	out := r.Clone(context.Background())
	out.Method = http.MethodGet
	out.URL = &url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	return out
}

// CheckWebhook validates the body of an outgoing webhook delivery against
// the document's webhooks section: its type must be there, and the body
// the schema of that type's delivery.
func (c *Checker) CheckWebhook(body []byte) error {
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		return fmt.Errorf("a webhook body that is not JSON: %w", err)
	}
	kind, _ := payload["type"].(string)
	item := c.doc.Webhooks[kind]
	if item == nil || item.Post == nil || item.Post.RequestBody == nil {
		return fmt.Errorf("webhook type %q is not in the API document's webhooks", kind)
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	if err := schema.VisitJSON(payload, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("a %s delivery the API document does not describe: %w\nbody: %.600s", kind, err, body)
	}
	return nil
}
