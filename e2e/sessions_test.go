//go:build e2e

package e2e

import (
	"net/http"
	"regexp"
	"testing"
)

// otpFromMailpit reads the one-time code of the newest sign-in code email
// to the address.
func otpFromMailpit(t *testing.T, api, to string) string {
	t.Helper()
	msg := waitForEmail(t, api, to, "OTP")
	code := regexp.MustCompile(`\b\d{8}\b`).FindString(msg.Text + " " + msg.HTML)
	if code == "" {
		t.Fatalf("no code in the email %q:\n%s", msg.Subject, msg.Text)
	}
	return code
}

// TestStaffSignInWithTheEmailedCodeThenRevoke, against the binary with
// Mailpit as the SMTP server: support's password answers PocketBase's
// mfaId, the code mailed by request-otp completes the sign-in; a revoke
// with the password ends that session on /api/v1 and the records API.
func TestStaffSignInWithTheEmailedCodeThenRevoke(t *testing.T) {
	smtpURL, mailpit := startMailpit(t)
	s := startShop(t, "SHOPDASH_SMTP_URL="+smtpURL, "SHOPDASH_STAFF_MFA=on")
	const email = "support@example.com"

	status, out := s.call(http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]string{"identity": email, "password": "shopdash-demo"})
	mfaID, _ := out["mfaId"].(string)
	if status != http.StatusUnauthorized || mfaID == "" {
		t.Fatalf("password step: %d %v, want 401 with an mfaId", status, out)
	}
	t.Logf("password step: %d mfaId=%s", status, mfaID)
	status, out = s.call(http.MethodPost, "/api/collections/users/request-otp", "", map[string]string{"email": email})
	otpID, _ := out["otpId"].(string)
	if status != http.StatusOK || otpID == "" {
		t.Fatalf("request-otp: %d %v", status, out)
	}
	code := otpFromMailpit(t, mailpit, email)
	t.Logf("Mailpit delivered the code (%d digits)", len(code))
	status, out = s.call(http.MethodPost, "/api/collections/users/auth-with-otp", "",
		map[string]string{"otpId": otpID, "password": code, "mfaId": mfaID})
	token, _ := out["token"].(string)
	if status != http.StatusOK || token == "" {
		t.Fatalf("code step: %d %v", status, out)
	}
	if status, out := s.call(http.MethodGet, "/api/v1/me", token, nil); status != http.StatusOK || out["role"] != "support" {
		t.Fatalf("signed in with the code: %d %v", status, out)
	}

	for _, tc := range []struct {
		body   map[string]string
		status int
	}{
		{map[string]string{}, http.StatusBadRequest},
		{map[string]string{"password": "not-the-password"}, http.StatusUnauthorized},
		{map[string]string{"password": "shopdash-demo"}, http.StatusNoContent},
	} {
		if status, out := s.call(http.MethodPost, "/api/v1/me/sessions/revoke", token, tc.body); status != tc.status {
			t.Fatalf("revoke %v: %d %v, want %d", tc.body, status, out, tc.status)
		}
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", token, nil); status != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after the revoke: %d", status)
	}
	if status, _ := s.call(http.MethodPost, "/api/collections/users/auth-refresh", token, nil); status != http.StatusUnauthorized {
		t.Errorf("auth-refresh after the revoke: %d", status)
	}
	t.Log("after the revoke: /api/v1/me and auth-refresh answer 401")
}

// TestSessionsInChromium: support signs in on the staff page with the code
// read from Mailpit; a customer signed in in two browser contexts signs
// out of all devices in one, and the other is signed out.
func TestSessionsInChromium(t *testing.T) {
	smtpURL, mailpit := startMailpit(t)
	runNodeSuiteWith(t, "sessions.test.mjs", []string{"SHOPDASH_SMTP_URL=" + smtpURL, "SHOPDASH_STAFF_MFA=on"},
		"CHROMIUM="+chromiumPath(t), "MAILPIT_API="+mailpit)
}
