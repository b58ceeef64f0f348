package apidoc_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/hooks/apidoc"
	"shopdash/internal/shoptest"
)

func TestDocumentIsServed(t *testing.T) {
	_, handler := shoptest.ServedShop(t)
	get := func(header map[string]string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, apidoc.DocumentPath, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Result()
	}

	res := get(nil)
	etag := res.Header.Get("ETag")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(etag, `"`) || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("a guest's GET: %d, ETag %q, Cache-Control %q", res.StatusCode, etag, res.Header.Get("Cache-Control"))
	}
	var body bytes.Buffer
	body.ReadFrom(res.Body)
	if !bytes.Equal(body.Bytes(), apidoc.Document) {
		t.Fatal("the served document is not the committed one")
	}
	for _, match := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if res := get(map[string]string{"If-None-Match": match}); res.StatusCode != http.StatusNotModified || res.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, want 304 with the ETag", match, res.StatusCode)
		}
	}
	if res := get(map[string]string{"If-None-Match": `"stale"`}); res.StatusCode != http.StatusOK {
		t.Errorf("a stale ETag: %d, want 200", res.StatusCode)
	}
}

func TestReferencePageIsServedUnderThePagesPolicy(t *testing.T) {
	scenarios := []tests.ApiScenario{
		{
			Name: "the page", Method: http.MethodGet, URL: apidoc.ReferencePath,
			ExpectedStatus: 200,
			ExpectedContent: []string{`<div id="reference">`, `<script src="/vendor/scalar-api-reference.js">`,
				`<script src="/api/docs/init.js">`},
			NotExpectedContent: []string{"<style", "style=", "<script>"},
			AfterTestFunc: func(t testing.TB, _ *tests.TestApp, res *http.Response) {
				csp := res.Header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") ||
					!strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
					t.Fatalf("policy %q", csp)
				}
			},
		},
		{
			Name: "its start script", Method: http.MethodGet, URL: apidoc.ReferencePath + "/init.js",
			ExpectedStatus: 200, ExpectedContent: []string{`createApiReference("#reference"`, apidoc.DocumentPath},
		},
		{
			Name: "nothing else there", Method: http.MethodGet, URL: apidoc.ReferencePath + "/index.html",
			ExpectedStatus: 404, ExpectedContent: []string{`"status":404`},
		},
	}
	shoptest.RunScenarios(t, scenarios)
}

// TestReferenceRendererIsThePinnedNpmPackage: the renderer the page loads
// is committed (a plain go build embeds it) and is byte for byte the
// standalone bundle of the @scalar/api-reference version package-lock.json
// pins. `make unit` sets SHOPDASH_SDK_CHECK, so there it cannot be skipped.
func TestReferenceRendererIsThePinnedNpmPackage(t *testing.T) {
	committed, err := os.ReadFile("../../pb_public/vendor/scalar-api-reference.js")
	if err != nil {
		t.Fatalf("the renderer is not committed: %v", err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	raw, err := os.ReadFile("../../package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	pinned := lock.Packages["node_modules/@scalar/api-reference"].Version
	if pinned == "" {
		t.Fatal("package-lock.json pins no @scalar/api-reference")
	}
	npm, err := os.ReadFile("../../node_modules/@scalar/api-reference/dist/browser/standalone.js")
	if err != nil {
		if os.Getenv("SHOPDASH_SDK_CHECK") != "" {
			t.Fatalf("the npm package is not installed: %v (make unit runs npm ci)", err)
		}
		t.Skip("node_modules/@scalar/api-reference is not installed: `make unit` installs it and runs this check")
	}
	var installed struct {
		Version string `json:"version"`
	}
	raw, err = os.ReadFile("../../node_modules/@scalar/api-reference/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &installed); err != nil || installed.Version != pinned {
		t.Fatalf("node_modules holds @scalar/api-reference %q, package-lock.json pins %q: run npm ci", installed.Version, pinned)
	}
	if !bytes.Equal(committed, npm) {
		t.Fatalf("pb_public/vendor/scalar-api-reference.js is not @scalar/api-reference %s's dist/browser/standalone.js: copy it", pinned)
	}
}

// TestDocumentPassesAnIndependentValidator runs
// @seriousme/openapi-schema-validator (not kin-openapi) on the document,
// through e2e/js/validate-openapi.mjs.
func TestDocumentPassesAnIndependentValidator(t *testing.T) {
	if _, err := os.Stat("../../node_modules/@seriousme/openapi-schema-validator"); err != nil {
		if os.Getenv("SHOPDASH_SDK_CHECK") != "" {
			t.Fatalf("the validator is not installed: %v (make unit runs npm ci)", err)
		}
		t.Skip("node_modules is not installed: `make unit` installs it and runs this check")
	}
	cmd := exec.Command("node", "e2e/js/validate-openapi.mjs", "hooks/apidoc/openapi.json")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"valid":true`) {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("%s", out)
}
