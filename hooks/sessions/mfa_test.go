package sessions_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"shopdash/hooks"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

// otpCode waits for the one-time code PocketBase mails to email.
func (s *served) otpCode(email string) string {
	s.t.Helper()
	code := regexp.MustCompile(`\b\d{8}\b`)
	for range 200 {
		for _, m := range s.app.TestMailer.Messages() {
			if len(m.To) > 0 && m.To[0].Address == email {
				if found := code.FindString(m.HTML); found != "" {
					return found
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("no code mailed to %s", email)
	return ""
}

// TestStaffSignInNeedsTheEmailedCode: support's password alone answers
// PocketBase's mfaId; a wrong code is refused and audited; the mailed code
// completes the sign-in, audited too. A customer is not asked.
func TestStaffSignInNeedsTheEmailedCode(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{})
	shop := shoptest.Shop()
	s.signIn(shop.Customer.Email) // no second factor

	status, out := s.call(http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]string{"identity": shop.Support.Email, "password": seed.DemoPassword})
	mfaID, _ := out["mfaId"].(string)
	if status != http.StatusUnauthorized || mfaID == "" || out["token"] != nil {
		t.Fatalf("password step: %d %v, want 401 with an mfaId", status, out)
	}
	status, out = s.call(http.MethodPost, "/api/collections/users/request-otp", "", map[string]string{"email": shop.Support.Email})
	otpID, _ := out["otpId"].(string)
	if status != http.StatusOK || otpID == "" {
		t.Fatalf("request-otp: %d %v", status, out)
	}
	code := s.otpCode(shop.Support.Email)

	if status, out := s.call(http.MethodPost, "/api/collections/users/auth-with-otp", "",
		map[string]string{"otpId": otpID, "password": "00000000", "mfaId": mfaID}); status != http.StatusBadRequest {
		t.Fatalf("a wrong code: %d %v", status, out)
	}
	status, out = s.call(http.MethodPost, "/api/collections/users/auth-with-otp", "",
		map[string]string{"otpId": otpID, "password": code, "mfaId": mfaID})
	token, _ := out["token"].(string)
	if status != http.StatusOK || token == "" {
		t.Fatalf("code step: %d %v", status, out)
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", token, nil); status != http.StatusOK {
		t.Fatalf("signed in with the code: %d", status)
	}
	for action, want := range map[string]int{"user.second_factor_failed": 1, "user.sign_in": 1} {
		n, err := s.app.CountRecords("audit_log", dbxActionIs(action, shop.Support.ID))
		if err != nil || int(n) != want {
			t.Errorf("audit %s of support: %d (%v), want %d", action, n, err, want)
		}
	}
	if n, _ := s.app.CountRecords("audit_log", dbxActionIs("user.sign_in", shop.Customer.ID)); n != 0 {
		t.Errorf("a customer's sign-in audited: %d", n)
	}
}

// TestStaffMFAOffSignsInWithThePassword: SHOPDASH_STAFF_MFA=off.
func TestStaffMFAOffSignsInWithThePassword(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{StaffMFAOff: true})
	s.signIn(shoptest.Shop().Store.Email)
	if n, _ := s.app.CountRecords("audit_log", dbxActionIs("user.sign_in", shoptest.Shop().Store.ID)); n != 1 {
		t.Errorf("store's sign-in audited %d times", n)
	}
}
