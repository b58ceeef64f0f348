package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// stream is a realtime connection over HTTP, as the SDK opens it.
type stream struct {
	id     string
	events chan string
	close  context.CancelFunc
}

// openStream connects to the shop's realtime endpoint, reads the client id
// of PB_CONNECT and passes the names of later events on.
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/realtime", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{events: make(chan string, 16), close: func() { cancel(); res.Body.Close() }}
	t.Cleanup(s.close)
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data:"); ok {
			var connect struct {
				ClientID string `json:"clientId"`
			}
			if err := json.Unmarshal([]byte(data), &connect); err != nil {
				t.Fatal(err)
			}
			s.id = connect.ClientID
			break
		}
	}
	go func() {
		for lines.Scan() {
			if name, ok := strings.CutPrefix(lines.Text(), "event:"); ok {
				s.events <- name
			}
		}
		close(s.events)
	}()
	return s
}

func (s *stream) subscribe(t *testing.T, url string, account shoptest.Account, topics ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"clientId": s.id, "subscriptions": topics})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/realtime", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", account.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("subscribe %v: %d", topics, res.StatusCode)
	}
}

// heard is the names of the events that arrive within a short while.
func (s *stream) heard() []string {
	var names []string
	for {
		select {
		case name, ok := <-s.events:
			if !ok {
				return names
			}
			names = append(names, name)
		case <-time.After(300 * time.Millisecond):
			return names
		}
	}
}

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

	customer := openStream(t, server.URL)
	customer.subscribe(t, server.URL, shop.Customer, "orders/*")
	other := openStream(t, server.URL)
	other.subscribe(t, server.URL, shop.Customer2, "orders/*")
	superuser := openStream(t, server.URL)
	superuser.subscribe(t, server.URL, shop.Superuser, "orders/*")
	// Subscribing again finds the connection as the first time did.
	customer.subscribe(t, server.URL, shop.Customer, "orders/*", "products/*")

	if n := rig.App.SubscriptionsBroker().TotalClients(); n != 1 {
		t.Errorf("PocketBase's broker holds %d clients, want the superuser's only", n)
	}
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	if got := customer.heard(); len(got) != 1 || got[0] != "orders/*" {
		t.Errorf("the customer heard %v, want their order once", got)
	}
	if got := other.heard(); len(got) != 0 {
		t.Errorf("the other customer heard %v", got)
	}
	if got := superuser.heard(); len(got) != 1 {
		t.Errorf("the superuser heard %v, want the order once", got)
	}

	// A new password (a new token key) ends the stream's signed-in state,
	// as PocketBase does for the clients it holds.
	shoptest.SaveUser(t, rig.App, shop.Customer.ID, func(u *core.Record) { u.SetPassword("a-new-long-password") })
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)
	if got := customer.heard(); len(got) != 0 {
		t.Errorf("after a password change the customer's stream heard %v", got)
	}

	customer.close()
	superuser.close()
	deadline := time.Now().Add(5 * time.Second)
	for rig.App.SubscriptionsBroker().TotalClients() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("PocketBase's broker still holds %d clients after the streams closed", rig.App.SubscriptionsBroker().TotalClients())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
