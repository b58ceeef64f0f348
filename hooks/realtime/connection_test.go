package realtime_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/realtime"
	"shopdash/internal/shoptest"
)

// TestConnectionsLiveOutsidePocketBasesBroker: over real connections, a
// customer's stream is not in PocketBase's broker (whose broadcast walks
// every client it holds on every write), yet subscribes, hears their own
// order, and stops hearing it once their password changes; a superuser's
// stream is in the broker and hears through PocketBase.
func TestConnectionsLiveOutsidePocketBasesBroker(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	server := httptest.NewServer(rig.Mux)
	t.Cleanup(server.Close) // after the streams, which close first

	customer := shoptest.OpenStream(t, server.URL)
	customer.Subscribe(t, server.URL, shop.Customer.Token, "orders/*")
	other := shoptest.OpenStream(t, server.URL)
	other.Subscribe(t, server.URL, shop.Customer2.Token, "orders/*")
	superuser := shoptest.OpenStream(t, server.URL)
	superuser.Subscribe(t, server.URL, shop.Superuser.Token, "orders/*")
	// Subscribing again finds the connection as the first time did.
	customer.Subscribe(t, server.URL, shop.Customer.Token, "orders/*", "products/*")

	if n := rig.App.SubscriptionsBroker().TotalClients(); n != 1 {
		t.Errorf("PocketBase's broker holds %d clients, want the superuser's only", n)
	}
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	if got := customer.Heard(); len(got) != 1 || got[0] != "orders/*" {
		t.Errorf("the customer heard %v, want their order once", got)
	}
	if got := other.Heard(); len(got) != 0 {
		t.Errorf("the other customer heard %v", got)
	}
	if got := superuser.Heard(); len(got) != 1 {
		t.Errorf("the superuser heard %v, want the order once", got)
	}

	// A new password (a new token key) ends the stream's signed-in state,
	// as PocketBase does for the clients it holds.
	shoptest.SaveUser(t, rig.App, shop.Customer.ID, func(u *core.Record) { u.SetPassword("a-new-long-password") })
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)
	if got := customer.Heard(); len(got) != 0 {
		t.Errorf("after a password change the customer's stream heard %v", got)
	}

	customer.Close()
	superuser.Close()
	deadline := time.Now().Add(5 * time.Second)
	for rig.App.SubscriptionsBroker().TotalClients() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("PocketBase's broker still holds %d clients after the streams closed", rig.App.SubscriptionsBroker().TotalClients())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAnotherProcesssNewTokenKeyEndsTheStreamsSignIn: a sign-out
// everywhere made by another process on the same database (`shopdash
// sessions revoke`, which gives the account a new token key) ends the
// sign-in of the account's open streams within the recheck, though no
// hook of the serving process saw the change; another customer's stream
// is untouched.
func TestAnotherProcesssNewTokenKeyEndsTheStreamsSignIn(t *testing.T) {
	shop := shoptest.Shop()
	rig, server, customer := customerHearingTheirOrder(t)
	other := shoptest.OpenStream(t, server.URL)
	other.Subscribe(t, server.URL, shop.Customer2.Token, "orders/*")

	command := core.NewBaseApp(core.BaseAppConfig{DataDir: rig.App.DataDir()})
	if err := command.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	shoptest.SaveUser(t, command, shop.Customer.ID, func(u *core.Record) { u.RefreshTokenKey() })
	if err := command.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a few rechecks

	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)
	if got := customer.Heard(); len(got) != 0 {
		t.Errorf("after another process's revoke the customer's stream heard %v", got)
	}
	saveStatus(t, rig.App, shop.Customer2Order, c.StatusPaid)
	if got := other.Heard(); len(got) != 1 {
		t.Errorf("the other customer heard %v, want their order once", got)
	}
}

// TestANewTokenSecretEndsTheStreamsSignIn: a new token secret of the users
// collection (which ends every users token) ends the sign-in of the
// streams kept out of PocketBase's broker within the recheck, as
// PocketBase ends those of the clients it holds at once.
func TestANewTokenSecretEndsTheStreamsSignIn(t *testing.T) {
	shop := shoptest.Shop()
	rig, _, customer := customerHearingTheirOrder(t)

	users, err := rig.App.FindCollectionByNameOrId(c.Users)
	if err != nil {
		t.Fatal(err)
	}
	users.AuthToken.Secret = "a-new-secret-of-at-least-thirty-characters"
	if err := rig.App.Save(users); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a few rechecks

	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)
	if got := customer.Heard(); len(got) != 0 {
		t.Errorf("after a new token secret the customer's stream heard %v", got)
	}
}

// customerHearingTheirOrder serves a shop whose streams' sign-ins are
// checked again every 50 ms, with the customer's stream subscribed to
// their orders; it has heard their order paid.
func customerHearingTheirOrder(t *testing.T) (*shoptest.WebhookRig, *httptest.Server, *shoptest.Stream) {
	t.Helper()
	realtime.RecheckAuthEvery(t, 50*time.Millisecond)
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	server := httptest.NewServer(rig.Mux)
	t.Cleanup(server.Close)
	customer := shoptest.OpenStream(t, server.URL)
	customer.Subscribe(t, server.URL, shop.Customer.Token, "orders/*")
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	if got := customer.Heard(); len(got) != 1 {
		t.Fatalf("before: the customer heard %v, want their order once", got)
	}
	return rig, server, customer
}
