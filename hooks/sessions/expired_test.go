package sessions_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

// usersToken is a users auth token of the account as the shop makes them,
// signed in at signedIn and expiring at expires, signed with the account's
// key or, when key is not "", with that one.
func usersToken(t *testing.T, account shoptest.Account, signedIn, expires time.Time, refreshable bool, key string) string {
	t.Helper()
	user := shoptest.SeededRecord(t, c.Users, account.ID)
	if key == "" {
		key = user.TokenKey() + user.Collection().AuthToken.Secret
	}
	claims := jwt.MapClaims{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           user.Id,
		core.TokenClaimCollectionId: user.Collection().Id,
		core.TokenClaimRefreshable:  refreshable,
		"exp":                       expires.Unix(),
	}
	if refreshable {
		claims["auth_time"] = signedIn.Unix()
	}
	token, err := security.NewJWT(claims, key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestAnEndedSessionsTokenSaysSo: the shop caps a token's expiry at the
// end of its session, so once a session ends its token has expired too,
// and PocketBase no longer takes it. Every request with it still answers
// 401 session_expired (the REST routes, the records API, a refresh, a
// realtime subscription), for customers and staff alike; its sign-in
// routes treat it as a guest's. A token whose session has not ended but
// that expired unrefreshed, a forged token (the same claims under another
// key: a guessed key, or one a revoke replaced), and an expired
// impersonation token get the plain 401 and learn nothing.
func TestAnEndedSessionsTokenSaysSo(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	now := time.Now()
	day := 24 * time.Hour
	// As the shop made them: the expiry is the session's end.
	customerEnded := usersToken(t, shop.Customer, now.Add(-31*day), now.Add(-day), true, "")
	staffEnded := usersToken(t, shop.Support, now.Add(-13*time.Hour), now.Add(-time.Hour), true, "")
	forged := usersToken(t, shop.Customer, now.Add(-31*day), now.Add(-day), true, "a-guessed-key")
	unrefreshed := usersToken(t, shop.Customer, now.Add(-8*day), now.Add(-day), true, "")
	impersonation := usersToken(t, shop.Customer, time.Time{}, now.Add(-time.Minute), false, "")

	expired := []string{`"status":401`, `"session_expired"`}
	plain := []string{`"status":401`}
	told := []string{"session_expired", "session"}
	subscribe := `{"clientId":"anyclient","subscriptions":["orders/*"]}`
	var scenarios []tests.ApiScenario
	for _, tc := range []struct {
		name, method, url, body, token string
		status                         int
		want, notWant                  []string
	}{
		{"customer's ended session: /api/v1/me", http.MethodGet, "/api/v1/me", "", customerEnded, 401, expired, nil},
		{"customer's ended session: dashboard", http.MethodGet, "/api/v1/dashboard", "", customerEnded, 401, expired, nil},
		{"customer's ended session: records API", http.MethodGet, "/api/collections/orders/records", "", customerEnded, 401, expired, nil},
		{"customer's ended session: refresh", http.MethodPost, "/api/collections/users/auth-refresh", "", customerEnded, 401, expired, nil},
		{"customer's ended session: realtime", http.MethodPost, "/api/realtime", subscribe, customerEnded, 401, expired, nil},
		{"staff's ended session: /api/v1/me", http.MethodGet, "/api/v1/me", "", staffEnded, 401, expired, nil},
		{"staff's ended session: records API", http.MethodGet, "/api/collections/order_notes/records", "", staffEnded, 401, expired, nil},
		{"ended session, new sign-in", http.MethodPost, "/api/collections/users/auth-with-password",
			`{"identity":"` + shop.Customer.Email + `","password":"` + seed.DemoPassword + `"}`, customerEnded, 200, []string{`"token"`}, told},
		{"forged: /api/v1/me", http.MethodGet, "/api/v1/me", "", forged, 401, plain, told},
		{"forged: refresh", http.MethodPost, "/api/collections/users/auth-refresh", "", forged, 401, plain, told},
		{"forged: records API", http.MethodGet, "/api/collections/orders/records", "", forged, 200, []string{`"items":[]`}, told},
		{"unrefreshed, session alive: /api/v1/me", http.MethodGet, "/api/v1/me", "", unrefreshed, 401, plain, told},
		{"expired impersonation: /api/v1/me", http.MethodGet, "/api/v1/me", "", impersonation, 401, plain, told},
	} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: tc.name, Method: tc.method, URL: tc.url, Body: strings.NewReader(tc.body),
			Headers:            map[string]string{"Authorization": tc.token, "Content-Type": "application/json"},
			ExpectedStatus:     tc.status,
			ExpectedContent:    tc.want,
			NotExpectedContent: tc.notWant,
		})
	}
	shoptest.RunScenarios(t, scenarios)
}
