package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shopdash/internal/shoptest"
)

// TestProfilesAreForSuperusersOnly: /debug/pprof answers a guest 401, a
// shop user 403 and a superuser the profile.
func TestProfilesAreForSuperusersOnly(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	_, handler := shoptest.ServedShop(t)
	for _, tc := range []struct {
		name    string
		account shoptest.Account
		want    int
	}{
		{"guest", shoptest.Account{}, http.StatusUnauthorized},
		{"customer", shop.Customer, http.StatusForbidden},
		{"support", shop.Support, http.StatusForbidden},
		{"store", shop.Store, http.StatusForbidden},
		{"superuser", shop.Superuser, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/debug/pprof/heap?debug=1", nil)
		if tc.account.Token != "" {
			req.Header.Set("Authorization", tc.account.Token)
		}
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.Code, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(res.Body.String(), "heap profile") {
			t.Errorf("%s: no heap profile in %.100s", tc.name, res.Body)
		}
	}
}
