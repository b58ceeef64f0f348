//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPlainGoBuildServesPagesThatWork is CONTRACT §6's "a plain go build
// gives a binary whose pages work": a fresh clone of the committed tree,
// `go build -o x .` with no make step and no npm, `./x serve`: the pages
// and their SDK are served, the customer signs in through the page in
// Chromium, and `./x --version` names the changelog's release. The commit
// comes from the build info, which go build stamps only where VCS stamping
// is on (machines may set GOFLAGS=-buildvcs=false; make build asks for
// -buildvcs=auto): the binary `make build` made must name HEAD.
func TestPlainGoBuildServesPagesThatWork(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clone := filepath.Join(dir, "shopdash")
	run := func(dir string, env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run(root, nil, "git", "clone", "--quiet", "--no-hardlinks", root, clone)
	if _, err := os.Stat(filepath.Join(clone, "node_modules")); err == nil {
		t.Fatal("the clone has node_modules")
	}
	run(clone, []string{"GOTOOLCHAIN=auto"}, "go", "build", "-o", "x", ".")
	bin := filepath.Join(clone, "x")

	release := regexp.MustCompile(`(?m)^## (\d+\.\d+\.\d+)`).FindStringSubmatch(run(clone, nil, "cat", "CHANGELOG.md"))
	if release == nil {
		t.Fatal("CHANGELOG.md has no release heading")
	}
	// The release, marked "+unreleased" under an Unreleased section.
	if version := run(clone, nil, bin, "--version"); !strings.HasPrefix(version, "shopdash "+release[1]+" (commit ") &&
		!strings.HasPrefix(version, "shopdash "+release[1]+"+unreleased (commit ") {
		t.Fatalf("the plain build's --version printed %q, want release %s", version, release[1])
	}
	repoHead := strings.TrimSpace(run(root, nil, "git", "rev-parse", "HEAD"))
	if version := run(root, nil, binary, "--version"); !strings.Contains(version, "(commit "+repoHead[:12]) {
		t.Fatalf("make build's --version printed %q, want commit %s", version, repoHead[:12])
	}

	data := filepath.Join(dir, "data")
	run(clone, nil, bin, "seed", "--dir", data)
	addr := freeAddr(t)
	// Staff sign in with the password alone here, as in `make run`: the
	// emailed second step has its own suite (sessions_test.go).
	start(t, []string{"SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off", "SHOPDASH_APP_URL=http://" + addr,
		"SHOPDASH_STAFF_MFA=off"}, bin, "serve", "--dir", data, "--http", addr)
	base := "http://" + addr
	waitFor(t, base+"/api/health")

	get := func(path string) []byte {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return body
	}
	committed, err := os.ReadFile(filepath.Join(root, "pb_public", "vendor", "pocketbase.umd.js"))
	if err != nil {
		t.Fatal(err)
	}
	if sdk := get("/vendor/pocketbase.umd.js"); !bytes.Equal(sdk, committed) {
		t.Fatalf("the served SDK (%d bytes) is not the committed one (%d bytes)", len(sdk), len(committed))
	}
	for _, page := range []string{"/", "/staff/"} {
		if html := get(page); !bytes.Contains(html, []byte(`src="/vendor/pocketbase.umd.js"`)) {
			t.Fatalf("%s does not load the SDK", page)
		}
	}

	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	cmd := exec.Command("node", "--test", "--test-reporter=spec", filepath.Join("e2e", "js", "standalone.test.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SHOP_URL="+base, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test standalone.test.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the pages of the plain build: %v", err)
	}
}
