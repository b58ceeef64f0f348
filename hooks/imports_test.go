package hooks_test

import (
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// packageLayers orders the shop's packages: a package imports only
// packages of a lower layer. The wiring (hooks) imports the capabilities,
// capabilities import the shared parts, shared parts import collections,
// and no package imports one of its own layer (docs/architecture.md).
var packageLayers = map[string]int{
	"shopdash/collections":          0,
	"shopdash/internal/prepared":    0, // kept SQL statements; imports only PocketBase
	"shopdash/internal/groupcommit": 0, // batches for the one writer; imports only the standard library
	"shopdash/hooks/access":         1,
	"shopdash/hooks/alerts":         1,
	"shopdash/hooks/audit":          1,
	"shopdash/hooks/cache":          1,
	"shopdash/hooks/metrics":        1,
	"shopdash/hooks/realtime":       1,
	"shopdash/hooks/jobs":           2,
	"shopdash/hooks/records":        2,
	"shopdash/hooks/sessions":       2,
	"shopdash/hooks/customer":       3,
	"shopdash/hooks/emails":         3,
	"shopdash/hooks/webhooks":       3,
	"shopdash/hooks/payments":       3,
	"shopdash/hooks/backups":        3,
	"shopdash/hooks/staff":          3,
	"shopdash/hooks/apidoc":         3,
	"shopdash/hooks":                4,
}

// TestImportsRunOneWay reads the imports of every package under hooks/
// (tests aside) and fails on one that points sideways or up, or on a
// package missing from packageLayers.
func TestImportsRunOneWay(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case !d.IsDir():
			return nil
		case d.Name() == "testdata" || d.Name() == "templates":
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		switch {
		case errors.As(err, &noGo):
			return nil // embedded files only (a page, scripts)
		case err != nil:
			return err
		}
		name := "shopdash/" + filepath.ToSlash(filepath.Join("hooks", path))
		checkImports(t, name, pkg.Imports)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	collections, err := build.ImportDir("../collections", 0)
	if err != nil {
		t.Fatal(err)
	}
	checkImports(t, "shopdash/collections", collections.Imports)
	prepared, err := build.ImportDir("../internal/prepared", 0)
	if err != nil {
		t.Fatal(err)
	}
	checkImports(t, "shopdash/internal/prepared", prepared.Imports)
}

func checkImports(t *testing.T, name string, imports []string) {
	t.Helper()
	layer, known := packageLayers[name]
	if !known {
		t.Errorf("package %s has no layer in packageLayers: place it", name)
		return
	}
	for _, imp := range imports {
		if !strings.HasPrefix(imp, "shopdash/") {
			continue
		}
		below, known := packageLayers[imp]
		switch {
		case !known:
			t.Errorf("%s imports %s, which has no layer", name, imp)
		case below >= layer:
			t.Errorf("%s (layer %d) imports %s (layer %d): imports run from the wiring to capabilities to shared parts to collections",
				name, layer, imp, below)
		}
	}
}
