package payments_test

import (
	"net/http"
	"strings"
	"testing"

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
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.SaveUser(t, rig.App, shop.Customer.ID, func(u *core.Record) {
		u.SetVerified(false)
		u.Set(c.UserName, "Your bank account is locked: call us at https://evil.example/reset")
	})
	status, out := stockCheckout(t, rig, shop.Customer, shop.PhysicalProduct, 1)
	if status != http.StatusForbidden || !strings.Contains(out["message"].(string), "Confirm your email address") {
		t.Fatalf("checkout of an unconfirmed account: %d %v, want 403 naming the reason", status, out)
	}
	if n := len(rig.Fake.Requests("POST /v1/checkout/sessions")); n != 0 {
		t.Fatalf("%d checkout sessions opened, want none", n)
	}
	// An order it has (say from before) changes status: no email is queued.
	if status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+shop.CustomerOrder+"/cancel", `{}`, shoptest.Headers(shop.Customer)); status != http.StatusOK {
		t.Fatalf("cancel: %d %s", status, body)
	}
	if jobs := shoptest.EmailJobs(t, rig.App, shop.CustomerOrder); len(jobs) != 0 {
		t.Fatalf("%d email jobs for an unconfirmed account's order, want none", len(jobs))
	}
}
