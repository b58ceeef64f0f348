package cache_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// meRole is the role GET /api/v1/me answers for token, or "" with the
// status when it is not 200.
func meRole(t *testing.T, handler http.Handler, token string) (string, int) {
	t.Helper()
	var me struct {
		Role string `json:"role"`
	}
	code := shoptest.CacheGet(t, handler, "/api/v1/me", token, &me)
	return me.Role, code
}

// TestCachedSignInFollowsAccountChanges: a token verified once is served
// from memory afterwards, yet a role change (which ends the account's
// sessions: it signs in again under its new role's rules), a new password
// or a deleted account applies to the very next request.
func TestCachedSignInFollowsAccountChanges(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, handler := shoptest.ServedShop(t)
	for _, who := range []shoptest.Account{shop.Customer, shop.Customer2, shop.Store} {
		for range 2 { // the second answer comes from the cache
			if _, code := meRole(t, handler, who.Token); code != http.StatusOK {
				t.Fatalf("%s before: %d, want 200", who.Email, code)
			}
		}
	}

	shoptest.SaveUser(t, app, shop.Customer.ID, func(u *core.Record) { u.Set(c.UserRole, string(c.RoleSupport)) })
	if _, code := meRole(t, handler, shop.Customer.Token); code != http.StatusUnauthorized {
		t.Fatalf("old token after the role change: %d, want 401", code)
	}

	shoptest.SaveUser(t, app, shop.Customer2.ID, func(u *core.Record) { u.SetPassword("a-brand-new-password") })
	if _, code := meRole(t, handler, shop.Customer2.Token); code != http.StatusUnauthorized {
		t.Fatalf("old token after a password change: %d, want 401", code)
	}

	user, err := app.FindRecordById(c.Users, shop.Store.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(user); err != nil {
		t.Fatal(err)
	}
	if _, code := meRole(t, handler, shop.Store.Token); code != http.StatusUnauthorized {
		t.Fatalf("token of a deleted account: %d, want 401", code)
	}
}

// TestCachedSignInIsServedFromMemory: a role changed past the hooks
// (another process writing SQL) is unseen while the sign-in is cached,
// which shows the cache answered; with the caches off it is seen at once.
func TestCachedSignInIsServedFromMemory(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name     string
		ttl      time.Duration
		wantRole c.Role
	}{
		{"cache on", 0, c.RoleCustomer},
		{"cache off", -1, c.RoleSupport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := shoptest.NewAppWith(t, hooks.Config{AppURL: shoptest.AppURL, CacheTTL: tc.ttl})
			defer app.Cleanup()
			handler := shoptest.ServeShop(t, app)
			if role, code := meRole(t, handler, shop.Customer.Token); code != http.StatusOK || role != string(c.RoleCustomer) {
				t.Fatalf("first request: %d %q", code, role)
			}
			if _, err := app.DB().Update(c.Users, dbx.Params{c.UserRole: string(c.RoleSupport)},
				dbx.HashExp{"id": shop.Customer.ID}).Execute(); err != nil {
				t.Fatal(err)
			}
			if role, code := meRole(t, handler, shop.Customer.Token); code != http.StatusOK || role != string(tc.wantRole) {
				t.Fatalf("after an SQL role change: %d %q, want 200 %s", code, role, tc.wantRole)
			}
		})
	}
}

// TestCachedSignInRefusesForgedAndExpiredTokens: with a customer's token
// remembered, the same claims under another signature are refused, and a
// remembered token stops working when it expires.
func TestCachedSignInRefusesForgedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, handler := shoptest.ServedShop(t)

	if _, code := meRole(t, handler, shop.Customer.Token); code != http.StatusOK {
		t.Fatalf("valid token: %d", code)
	}
	parts := strings.Split(shop.Customer.Token, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if _, code := meRole(t, handler, forged); code != http.StatusUnauthorized {
		t.Fatalf("forged signature: %d, want 401", code)
	}

	user, err := app.FindRecordById(c.Users, shop.Customer2.ID)
	if err != nil {
		t.Fatal(err)
	}
	short, err := user.NewStaticAuthToken(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, code := meRole(t, handler, short); code != http.StatusOK {
		t.Fatalf("short token while valid: %d", code)
	}
	// JWT expiry has a resolution of a second.
	time.Sleep(2100 * time.Millisecond)
	if _, code := meRole(t, handler, short); code != http.StatusUnauthorized {
		t.Fatalf("short token after its expiry: %d, want 401", code)
	}
}
