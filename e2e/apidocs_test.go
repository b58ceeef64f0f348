//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAPIReferenceInChromium opens /api/docs in Debian's Chromium: the
// reference lists the routes, with no console error or CSP violation.
// API_SCREENSHOT=path also writes the screenshot there (docs/api-reference.png).
func TestAPIReferenceInChromium(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is not installed at %s: run `make tools`", chromium)
	}
	artifacts, err := filepath.Abs(filepath.Join("..", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"CHROMIUM=" + chromium, "ARTIFACTS=" + artifacts}
	if shot := os.Getenv("API_SCREENSHOT"); shot != "" {
		env = append(env, "SCREENSHOT="+shot)
	}
	runNodeSuite(t, "apidocs.test.mjs", env...)
}
