//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runNodeSuite runs one node:test file of e2e/js against a fresh shop
// (with stripe-mock as Stripe), from the repository root so that
// node_modules resolves. The suite reaches the shop through checkedURL:
// every answer it gets must be what the API document describes.
func runNodeSuite(t *testing.T, file string, env ...string) {
	t.Helper()
	runNodeSuiteWith(t, file, nil, env...)
}

// runNodeSuiteWith is runNodeSuite with more of the shop's environment.
func runNodeSuiteWith(t *testing.T, file string, shopEnv []string, env ...string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed")
	}
	stripeURL := startStripeMock(t)
	s := startShop(t, append([]string{"STRIPE_SECRET_KEY=sk_test_e2e", "STRIPE_API_BASE=" + stripeURL, "STRIPE_WEBHOOK_SECRET=" + webhookSecret}, shopEnv...)...)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "--test", "--test-reporter=spec", filepath.Join("e2e", "js", file))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), append(env,
		"SHOP_URL="+checkedURL(t, s.url),
		"STRIPE_WEBHOOK_SECRET="+webhookSecret,
		"SUPERUSER_EMAIL="+superuserEmail,
		"SUPERUSER_PASSWORD="+superuserPassword,
	)...)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test %s:\n%s", file, out)
	if err != nil {
		t.Fatalf("%s failed: %v", file, err)
	}
}

// TestJSSDK exercises every custom route and the records API under the
// roles table through the official PocketBase JS SDK, realtime included.
func TestJSSDK(t *testing.T) {
	runNodeSuite(t, "sdk.test.mjs")
}

// TestCustomerPageInChromium drives the embedded page in Debian's Chromium
// with playwright-core and leaves screenshots in artifacts/.
func TestCustomerPageInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	artifacts, err := filepath.Abs(filepath.Join("..", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	runNodeSuite(t, "browser.test.mjs", "CHROMIUM="+chromium, "ARTIFACTS="+artifacts)
}

// chromiumPath is $CHROMIUM or Debian's Chromium, which must be installed.
func chromiumPath(t *testing.T) string {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is not installed at %s: run `make tools`", chromium)
	}
	return chromium
}
