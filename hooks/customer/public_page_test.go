package customer_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/shoptest"
)

func TestPublicPageAndHealth(t *testing.T) {
	scenarios := []tests.ApiScenario{
		{
			Name:            "the embedded page at /",
			Method:          http.MethodGet,
			URL:             "/",
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{"<title>shopdash</title>"},
			AfterTestFunc:   expectPageHeaders,
		},
		{
			Name:            "a page path falls back to index.html",
			Method:          http.MethodGet,
			URL:             "/orders/123",
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{"<title>shopdash</title>"},
			AfterTestFunc:   expectPageHeaders,
		},
		{
			Name:            "health",
			Method:          http.MethodGet,
			URL:             "/api/health",
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{"API is healthy"},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = shoptest.Factory
		s.Test(t)
	}
}

// expectPageHeaders checks the security headers of a page: a policy that
// allows no inline script and no framing, and no referrer to other sites.
func expectPageHeaders(t testing.TB, app *tests.TestApp, res *http.Response) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline code", csp)
	}
	for header, want := range map[string]string{
		"Referrer-Policy":        "strict-origin-when-cross-origin",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
}
