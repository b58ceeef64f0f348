package apidoc_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"shopdash/hooks/apidoc"
	"shopdash/internal/shoptest"
)

// TestDocumentedRoutesAreServed compares the router's route table with the
// document: every route the shop serves under /api/v1/ is documented, and
// every documented /api/v1/ route is served.
func TestDocumentedRoutesAreServed(t *testing.T) {
	served := servedV1Routes(t)
	documented := documentedV1Routes(t)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in the API document: describe it in hooks/apidoc/routes_v1.go and run go test ./hooks/apidoc/ -run TestCommittedDocumentIsCurrent -update", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in the API document but not served", r)
		}
	}
	if len(served) < 15 {
		t.Fatalf("only %d routes found under /api/v1/: %v", len(served), served)
	}
}

// servedV1Routes is "METHOD /path" of every route the shop's router holds
// under /api/v1/, read from the router PocketBase builds its mux from.
func servedV1Routes(t *testing.T) []string {
	t.Helper()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	walkRoutes(t, reflect.ValueOf(r.RouterGroup), "", func(method, path string) {
		if strings.HasPrefix(path, "/api/v1/") {
			routes = append(routes, method+" "+path)
		}
	})
	slices.Sort(routes)
	return routes
}

// walkRoutes visits the routes of a router group and its subgroups. The
// group keeps them in an unexported field, read here through reflection:
// a PocketBase upgrade that renames it fails this test, not the shop.
func walkRoutes(t *testing.T, group reflect.Value, prefix string, visit func(method, path string)) {
	t.Helper()
	g := group.Elem()
	children := g.FieldByName("children")
	if !children.IsValid() {
		t.Fatal("router.RouterGroup has no children field any more: see how this PocketBase lists its routes")
	}
	prefix += g.FieldByName("Prefix").String()
	for i := range children.Len() {
		child := children.Index(i).Elem()
		switch child.Type() {
		case reflect.TypeFor[*router.RouterGroup[*core.RequestEvent]]():
			walkRoutes(t, child, prefix, visit)
		case reflect.TypeFor[*router.Route[*core.RequestEvent]]():
			route := child.Elem()
			visit(route.FieldByName("Method").String(), prefix+route.FieldByName("Path").String())
		default:
			t.Fatalf("unknown router child %s", child.Type())
		}
	}
}

// documentedV1Routes is "METHOD /path" of every /api/v1/ operation of
// the document.
func documentedV1Routes(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(apidoc.Document, &doc); err != nil {
		t.Fatal(err)
	}
	var routes []string
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range item {
			if method != "parameters" && method != "summary" && method != "description" {
				routes = append(routes, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(routes)
	return routes
}
