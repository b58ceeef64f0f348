package records_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"shopdash/internal/shoptest"
)

// TestSignUpSendsTheVerificationLink: a new account is sent the link
// that confirms its address, in the background.
func TestSignUpSendsTheVerificationLink(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	status, body := rig.Send(t, http.MethodPost, "/api/collections/users/records",
		`{"email":"new.buyer@example.com","password":"a-long-password-1","passwordConfirm":"a-long-password-1","name":"New Buyer"}`, nil)
	if status != http.StatusOK {
		t.Fatalf("sign-up: %d %s", status, body)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, m := range rig.App.TestMailer.Messages() {
			if len(m.To) == 1 && m.To[0].Address == "new.buyer@example.com" && strings.Contains(m.HTML, "confirm-verification") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification email among %d sent", rig.App.TestMailer.TotalSend())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
