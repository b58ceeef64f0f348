package hooks_test

import (
	"net/http"
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
		},
		{
			Name:            "a page path falls back to index.html",
			Method:          http.MethodGet,
			URL:             "/orders/123",
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{"<title>shopdash</title>"},
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
