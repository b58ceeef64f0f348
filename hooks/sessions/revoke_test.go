package sessions_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

const revokeURL = "/api/v1/me/sessions/revoke"

// TestRevokeEndsEverySession: no password 400, a wrong one 401, the right
// one 204; then both of the customer's tokens are refused on /api/v1, the
// records API (a refresh) and realtime, even though the auth cache held
// them; the other customer is untouched; the revoke is audited.
func TestRevokeEndsEverySession(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{})
	shop := shoptest.Shop()
	phone, laptop := s.signIn(shop.Customer.Email), s.signIn(shop.Customer.Email)
	other := s.signIn(shop.Customer2.Email)
	for _, tok := range []string{phone, laptop, other} { // into the auth cache
		if status, _ := s.call(http.MethodGet, "/api/v1/me", tok, nil); status != http.StatusOK {
			t.Fatalf("before: %d", status)
		}
	}
	server := httptest.NewServer(s.handler)
	t.Cleanup(server.Close)
	stream := shoptest.OpenStream(t, server.URL)
	stream.Subscribe(t, server.URL, laptop, "orders/*")
	s.moveArrival(shop.CustomerOrder, 3)
	if heard := stream.Heard(); len(heard) == 0 {
		t.Fatal("realtime before the revoke heard nothing")
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"no password", map[string]string{}, http.StatusBadRequest},
		{"a wrong password", map[string]string{"password": "not-the-password"}, http.StatusUnauthorized},
		{"another account's password", map[string]string{"password": "admin-password-123"}, http.StatusUnauthorized},
		{"the password", map[string]string{"password": seed.DemoPassword}, http.StatusNoContent},
	} {
		if status, out := s.call(http.MethodPost, revokeURL, phone, tc.body); status != tc.status {
			t.Fatalf("%s: %d %v, want %d", tc.name, status, out, tc.status)
		}
	}
	for _, tok := range []string{phone, laptop} {
		if status, _ := s.call(http.MethodGet, "/api/v1/me", tok, nil); status != http.StatusUnauthorized {
			t.Errorf("/api/v1/me after the revoke: %d", status)
		}
		if _, status, _ := s.refresh(tok); status != http.StatusUnauthorized {
			t.Errorf("auth-refresh after the revoke: %d", status)
		}
		if status, _ := s.call(http.MethodPost, revokeURL, tok, map[string]string{"password": seed.DemoPassword}); status != http.StatusUnauthorized {
			t.Errorf("revoke again with the old token: %d", status)
		}
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", other, nil); status != http.StatusOK {
		t.Errorf("the other customer: %d", status)
	}
	// The realtime connection signed in on the laptop hears no more of
	// the customer's orders.
	s.moveArrival(shop.CustomerOrder, 4)
	if heard := stream.Heard(); len(heard) != 0 {
		t.Errorf("realtime after the revoke heard %v", heard)
	}
	if n, _ := s.app.CountRecords("audit_log", dbxActionIs("user.sessions_revoke", shop.Customer.ID)); n != 1 {
		t.Errorf("revoke audited %d times", n)
	}
	// A new sign-in works.
	if status, _ := s.call(http.MethodGet, "/api/v1/me", s.signIn(shop.Customer.Email), nil); status != http.StatusOK {
		t.Errorf("a new sign-in: %d", status)
	}
}

// TestSensitiveChangesNeedARecentSignIn: more than 10 minutes after the
// password, deleting the account and asking for an email change answer 401
// reauth_required without the password and go through with it; within 10
// minutes they need no password.
func TestSensitiveChangesNeedARecentSignIn(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{})
	shop := shoptest.Shop()
	emailChange := "/api/collections/users/request-email-change"
	token := s.signIn(shop.Customer.Email)
	s.clock.advance(10 * time.Minute)
	for _, tc := range []struct {
		method, path string
		body         map[string]string
	}{
		{http.MethodDelete, "/api/v1/me", map[string]string{}},
		{http.MethodPost, emailChange, map[string]string{"newEmail": "new-address@example.com"}},
	} {
		status, out := s.call(tc.method, tc.path, token, tc.body)
		if status != http.StatusUnauthorized || fieldCode(out, "password") != "reauth_required" {
			t.Errorf("%s %s: %d %v, want 401 reauth_required", tc.method, tc.path, status, out)
		}
	}
	withPassword := map[string]string{"newEmail": "new-address@example.com", "password": seed.DemoPassword}
	if status, out := s.call(http.MethodPost, emailChange, token, withPassword); status != http.StatusNoContent {
		t.Errorf("email change with the password: %d %v", status, out)
	}
	withWrong := map[string]string{"newEmail": "new-address@example.com", "password": "not-the-password"}
	if status, _ := s.call(http.MethodPost, emailChange, token, withWrong); status != http.StatusForbidden {
		t.Errorf("email change with a wrong password: %d", status)
	}

	s = serve(t, hooks.Config{}) // email change requests are rate limited
	recent := s.signIn(shop.Customer2.Email)
	s.clock.advance(9 * time.Minute)
	if status, out := s.call(http.MethodPost, emailChange, recent, map[string]string{"newEmail": "other-address@example.com"}); status != http.StatusNoContent {
		t.Errorf("email change 9 minutes after the sign-in: %d %v", status, out)
	}
	if status, out := s.call(http.MethodDelete, "/api/v1/me", recent, map[string]string{}); status != http.StatusNoContent {
		t.Errorf("delete 9 minutes after the sign-in: %d %v", status, out)
	}
}

// TestPasswordChangeEndsTheOtherSessions: PocketBase gives the account a
// new token key with the new password.
func TestPasswordChangeEndsTheOtherSessions(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{})
	shop := shoptest.Shop()
	here, elsewhere := s.signIn(shop.Customer.Email), s.signIn(shop.Customer.Email)
	status, out := s.call(http.MethodPatch, "/api/collections/users/records/"+shop.Customer.ID, here, map[string]string{
		"oldPassword": seed.DemoPassword, "password": "a-new-password-123", "passwordConfirm": "a-new-password-123",
	})
	if status != http.StatusOK {
		t.Fatalf("password change: %d %v", status, out)
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", elsewhere, nil); status != http.StatusUnauthorized {
		t.Errorf("the other session after a password change: %d", status)
	}
}

// TestSuperuserRevokesAnyAccount: 204 and the staff member's token is
// refused; a customer asking is refused; an unknown account is 404.
func TestSuperuserRevokesAnyAccount(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{StaffMFAOff: true})
	shop := shoptest.Shop()
	support := s.signIn(shop.Support.Email)
	url := "/api/v1/admin/users/" + shop.Support.ID + "/sessions/revoke"
	for _, tc := range []struct {
		name, url, token string
		status           int
	}{
		{"a guest", url, "", http.StatusUnauthorized},
		{"a customer", url, shop.Customer.Token, http.StatusForbidden},
		{"an unknown account", "/api/v1/admin/users/nosuchaccount12/sessions/revoke", shop.Superuser.Token, http.StatusNotFound},
		{"a superuser", url, shop.Superuser.Token, http.StatusNoContent},
	} {
		if status, out := s.call(http.MethodPost, tc.url, tc.token, nil); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, out, tc.status)
		}
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", support, nil); status != http.StatusUnauthorized {
		t.Errorf("support after the revoke: %d", status)
	}
	entry, err := s.app.FindFirstRecordByData("audit_log", "action", "user.sessions_revoke")
	if err != nil || entry.GetString("actor") != c.AuditRef(core.CollectionNameSuperusers, shop.Superuser.ID) {
		t.Errorf("audit entry %v (%v), want the superuser as actor", entry, err)
	}
}
