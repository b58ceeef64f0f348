//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStaffPageInChromium drives the staff console at /staff/ in Debian's
// Chromium as support, store and a customer, checks what it did through the
// JS SDK, and leaves screenshots in artifacts/ (and the staff guide's
// pictures in $STAFF_SCREENSHOTS when set, as `make staff-screenshots` does).
func TestStaffPageInChromium(t *testing.T) {
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
	runNodeSuite(t, "staff.test.mjs", "CHROMIUM="+chromium, "ARTIFACTS="+artifacts)
}
