package hooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestUnverifiedAccountCannotOrderOrBeMailed: anyone can sign up with
// anyone's address, so an account whose address is not confirmed cannot
// start a checkout (403 naming why) and its orders send no email: a
// sign-up as victim@ named "Your bank account is locked…" mails nobody.
func TestUnverifiedAccountCannotOrderOrBeMailed(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	saveUser(t, rig.app, shop.Customer.ID, func(u *core.Record) {
		u.SetVerified(false)
		u.Set(c.UserName, "Your bank account is locked: call us at https://evil.example/reset")
	})
	status, out := stockCheckout(t, rig, shop.Customer, shop.PhysicalProduct, 1)
	if status != http.StatusForbidden || !strings.Contains(out["message"].(string), "Confirm your email address") {
		t.Fatalf("checkout of an unconfirmed account: %d %v, want 403 naming the reason", status, out)
	}
	if n := len(rig.fake.Requests("POST /v1/checkout/sessions")); n != 0 {
		t.Fatalf("%d checkout sessions opened, want none", n)
	}
	// An order it has (say from before) changes status: no email is queued.
	if status, body := rig.send(t, http.MethodPost, "/api/v1/orders/"+shop.CustomerOrder+"/cancel", `{}`, shoptest.Headers(shop.Customer)); status != http.StatusOK {
		t.Fatalf("cancel: %d %s", status, body)
	}
	if jobs := emailJobs(t, rig.app, shop.CustomerOrder); len(jobs) != 0 {
		t.Fatalf("%d email jobs for an unconfirmed account's order, want none", len(jobs))
	}
}

// TestSignUpSendsTheVerificationLink: a new account is sent the link
// that confirms its address, in the background.
func TestSignUpSendsTheVerificationLink(t *testing.T) {
	t.Parallel()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	status, body := rig.send(t, http.MethodPost, "/api/collections/users/records",
		`{"email":"new.buyer@example.com","password":"a-long-password-1","passwordConfirm":"a-long-password-1","name":"New Buyer"}`, nil)
	if status != http.StatusOK {
		t.Fatalf("sign-up: %d %s", status, body)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, m := range rig.app.TestMailer.Messages() {
			if len(m.To) == 1 && m.To[0].Address == "new.buyer@example.com" && strings.Contains(m.HTML, "confirm-verification") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verification email among %d sent", rig.app.TestMailer.TotalSend())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConfirmationLinksPointAtTheShop: SHOPDASH_APP_URL is PocketBase's
// application URL too, so the links of its emails (the confirmation every
// customer needs) point at the shop rather than at localhost.
func TestConfirmationLinksPointAtTheShop(t *testing.T) {
	t.Parallel()
	rig := newWebhookRig(t, shoptest.StripeConfig)
	if err := rig.app.Save(rig.app.Settings()); err != nil {
		t.Fatal(err)
	}
	if got := rig.app.Settings().Meta.AppURL; got != shoptest.AppURL {
		t.Fatalf("application URL %q, want %q", got, shoptest.AppURL)
	}
}
