package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"testing"
)

// TestPageSDKIsThePinnedNpmPackage: the JS SDK the pages load is committed
// (a plain go build embeds it), and it is byte for byte the file of the
// npm package at the version package-lock.json pins. `make unit` installs
// the package and sets SHOPDASH_SDK_CHECK, so there the check cannot be
// skipped.
func TestPageSDKIsThePinnedNpmPackage(t *testing.T) {
	committed, err := os.ReadFile("pb_public/vendor/pocketbase.umd.js")
	if err != nil {
		t.Fatalf("the page's SDK is not committed: %v", err)
	}
	embedded, err := fs.ReadFile(publicFiles, "pb_public/vendor/pocketbase.umd.js")
	if err != nil || !bytes.Equal(embedded, committed) {
		t.Fatalf("the binary does not embed the committed SDK: %v", err)
	}

	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	raw, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	pinned := lock.Packages["node_modules/pocketbase"].Version
	if pinned == "" {
		t.Fatal("package-lock.json pins no pocketbase package")
	}

	npm, err := os.ReadFile("node_modules/pocketbase/dist/pocketbase.umd.js")
	if err != nil {
		if os.Getenv("SHOPDASH_SDK_CHECK") != "" {
			t.Fatalf("the npm package is not installed: %v (make unit runs npm ci)", err)
		}
		t.Skip("node_modules/pocketbase is not installed: `make unit` installs it and runs this check")
	}
	var installed struct {
		Version string `json:"version"`
	}
	raw, err = os.ReadFile("node_modules/pocketbase/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &installed); err != nil || installed.Version != pinned {
		t.Fatalf("node_modules holds pocketbase %q, package-lock.json pins %q: run npm ci", installed.Version, pinned)
	}
	if !bytes.Equal(committed, npm) {
		t.Fatalf("pb_public/vendor/pocketbase.umd.js is not pocketbase %s's dist/pocketbase.umd.js: run make sdk", pinned)
	}
}
