package apidoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Build writes the shop's OpenAPI 3.1 document: the /api/v1 routes as
// described in routes.go, and the records API and record shapes generated
// from the app's collections. version is the shop's (CHANGELOG.md).
func Build(app core.App, version string) ([]byte, error) {
	cols, err := shopCollections(app)
	if err != nil {
		return nil, err
	}
	schemas := errorSchemas()
	byName := map[string]*core.Collection{}
	for _, col := range cols {
		schemas[schemaName(col.Name)] = recordSchema(col)
		byName[col.Name] = col
	}
	for name, schema := range routeSchemas(byName) {
		schemas[name] = schema
	}
	paths := recordsPaths(cols)
	for path, item := range v1Paths() {
		paths[path] = item
	}
	for path, item := range authPaths() {
		paths[path] = item
	}
	doc := object{
		"openapi": "3.1.0",
		"info": object{
			"title":       "shopdash",
			"version":     version,
			"description": strings.TrimSpace(overview) + "\n\n" + realtimeProse(cols),
			"license":     object{"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
		},
		"servers":  []any{object{"url": "/", "description": "This shop."}},
		"security": []any{object{}, object{"pocketbaseToken": []any{}}},
		"tags":     tags(cols),
		"paths":    paths,
		"webhooks": webhooks(byName),
		"components": object{
			"schemas": schemas,
			"securitySchemes": object{"pocketbaseToken": object{
				"type": "apiKey", "in": "header", "name": "Authorization",
				"description": "PocketBase's auth token, as `POST /api/collections/users/auth-with-password` answers it (no `Bearer` prefix needed). The JS SDK's authStore sends it.",
			}},
		},
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode the document: %w", err)
	}
	return out.Bytes(), nil
}

const overview = `
The shop's API: PocketBase's records API on the shop's collections, under the
record rules of the roles table (customer, support, store; guests list active
products only), and the shop's own routes under ` + "`/api/v1/`" + `.

Auth: PocketBase's token in the ` + "`Authorization`" + ` header. Every ` + "`/api/v1/`" + `
route answers a guest 401 (but the Stripe webhook, the document itself and a
download link that carries its own token), and a signed-in user whose role
lacks the permission 403; someone else's record is 404.

Money is an integer number of minor units with a lower-case ISO 4217
currency. Times are UTC strings as PocketBase writes them.

Errors have PocketBase's shape (schema ApiError), which the JS SDK's
ClientResponseError reads: ` + "`{status, message, data: {field: {code, message}}}`" + `;
FieldError lists every code with its meaning.

Any answer takes PocketBase's ` + "`fields`" + ` query parameter, which trims it to the
fields named.`

// operation is one operation of a path item. Bodies and parameters may be
// nil.
func operation(tags []string, summary, id, description string, parameters []any, body object, responses object) object {
	op := object{"tags": tags, "summary": summary, "operationId": id, "responses": responses}
	if description != "" {
		op["description"] = description
	}
	if len(parameters) > 0 {
		op["parameters"] = parameters
	}
	if body != nil {
		op["requestBody"] = body
	}
	return op
}

func queryParameter(name, description string, schema object) object {
	return object{"name": name, "in": "query", "description": description, "schema": schema}
}

func pathParameter(name, description string) object {
	return object{"name": name, "in": "path", "required": true, "description": description, "schema": object{"type": "string"}}
}

// tags groups the operations for the reference page.
func tags(cols []*core.Collection) []any {
	out := []any{
		object{"name": "account", "description": "The signed-in user's own account."},
		object{"name": "shopping", "description": "Customers' dashboard, purchases, checkout and downloads."},
		object{"name": "orders", "description": "Cancels and refunds."},
		object{"name": "staff", "description": "Support's and store's routes."},
		object{"name": "admin", "description": "Superusers: the background jobs."},
		object{"name": "stripe", "description": "For Stripe only."},
		object{"name": "meta", "description": "This document."},
		object{"name": "auth", "description": "PocketBase's sign-in, for the token."},
	}
	for _, col := range cols {
		if col.ListRule != nil || col.ViewRule != nil || col.CreateRule != nil || col.UpdateRule != nil || col.DeleteRule != nil {
			out = append(out, object{"name": "records: " + col.Name, "description": "PocketBase's records API on `" + col.Name + "`."})
		}
	}
	return out
}
