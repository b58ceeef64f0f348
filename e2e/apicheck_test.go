//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"shopdash/internal/apicheck"
)

// checkedURL puts a proxy in front of the shop at shopURL that validates
// every answer the document speaks for against it (the same check the API
// tests make, internal/apicheck): the test fails, when it ends, on any
// route, status, header, field or error code the document does not
// describe. Event streams pass through untouched.
func checkedURL(t *testing.T, shopURL string) string {
	t.Helper()
	checker, err := apicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(shopURL)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		checked  int
		failures []string
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	proxy.ModifyResponse = func(res *http.Response) error {
		if !checker.Checked(res.Request) || strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			return nil
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		err = checker.Check(res.Request, res.StatusCode, res.Header, body)
		mu.Lock()
		defer mu.Unlock()
		checked++
		if err != nil {
			failures = append(failures, err.Error())
		}
		return nil
	}
	server := httptest.NewServer(proxy)
	t.Cleanup(func() {
		server.Close()
		mu.Lock()
		defer mu.Unlock()
		t.Logf("API document: %d answers checked, %d not described", checked, len(failures))
		for _, f := range failures {
			t.Errorf("API document: %s", f)
		}
	})
	return server.URL
}
