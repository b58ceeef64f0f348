package apidoc_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"shopdash/hooks/apidoc"
	"shopdash/internal/shoptest"
)

func TestMain(m *testing.M) { shoptest.Main(m) }

var update = flag.Bool("update", false, "rewrite openapi.json from the code")

// shopVersion is the version at the top of CHANGELOG.md.
func shopVersion(t *testing.T) string {
	t.Helper()
	changelog, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## (\d+\.\d+\.\d+)`).FindSubmatch(changelog)
	if m == nil {
		t.Fatal("no version heading in CHANGELOG.md")
	}
	return string(m[1])
}

// TestCommittedDocumentIsCurrent: the committed openapi.json (embedded and
// served) is what the code builds from the routes and the collections.
// `go test ./hooks/apidoc/ -run TestCommittedDocumentIsCurrent -update`
// rewrites it.
func TestCommittedDocumentIsCurrent(t *testing.T) {
	app := shoptest.NewBareApp(t)
	defer app.Cleanup()
	built, err := apidoc.Build(app, shopVersion(t))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", built, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(built, apidoc.Document) {
		t.Fatal("hooks/apidoc/openapi.json is not what the code builds: run\n\tgo test ./hooks/apidoc/ -run TestCommittedDocumentIsCurrent -update\nand commit it")
	}
}

// TestDocumentIsValidOpenAPI31 loads the document with kin-openapi and
// validates it, examples and defaults included.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(apidoc.Document)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}
