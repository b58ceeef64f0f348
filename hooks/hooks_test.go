package hooks_test

import (
	"testing"

	"shopdash/internal/shoptest"
)

// TestConfirmationLinksPointAtTheShop: SHOPDASH_APP_URL is PocketBase's
// application URL too, so the links of its emails (the confirmation every
// customer needs) point at the shop rather than at localhost.
func TestConfirmationLinksPointAtTheShop(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	if err := rig.App.Save(rig.App.Settings()); err != nil {
		t.Fatal(err)
	}
	if got := rig.App.Settings().Meta.AppURL; got != shoptest.AppURL {
		t.Fatalf("application URL %q, want %q", got, shoptest.AppURL)
	}
}
