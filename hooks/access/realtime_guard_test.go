package access_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"shopdash/internal/shoptest"
)

// realtimeSubscribe asks, through the realtime API, for a client's topics
// and returns the answer's status.
func realtimeSubscribe(t *testing.T, rig *shoptest.WebhookRig, client subscriptions.Client, account shoptest.Account, topics ...string) int {
	t.Helper()
	body, err := json.Marshal(map[string]any{"clientId": client.Id(), "subscriptions": topics})
	if err != nil {
		t.Fatal(err)
	}
	status, _ := rig.Send(t, http.MethodPost, "/api/realtime", string(body), shoptest.Headers(account))
	return status
}

// realtimeClient registers a connected realtime client, as the SSE
// connection does, from the address of httptest's requests.
func realtimeClient(rig *shoptest.WebhookRig) subscriptions.Client {
	client := subscriptions.NewDefaultClient()
	client.Set(apis.RealtimeClientIPKey, "192.0.2.1")
	rig.App.SubscriptionsBroker().Register(client)
	return client
}

// TestRealtimeIsBoundedForGuestsAndConnections: a guest follows products
// and nothing else, no connection holds more than a few topics (1,000
// subscriptions each made every save slow), and one account holds a few
// connections.
func TestRealtimeIsBoundedForGuestsAndConnections(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	guest := shoptest.Account{}

	for _, tc := range []struct {
		name    string
		account shoptest.Account
		topics  []string
		want    int
	}{
		{"a guest on orders", guest, []string{"orders/*"}, http.StatusForbidden},
		{"a guest on order items", guest, []string{"order_items/*"}, http.StatusForbidden},
		{"a guest on products and an order", guest, []string{"products/*", "orders/" + shop.CustomerOrder}, http.StatusForbidden},
		{"a guest on products", guest, []string{"products/*", "products/" + shop.PhysicalProduct + "?options={}"}, http.StatusNoContent},
		{"a customer on their orders", shop.Customer, []string{"orders/*", "products/*"}, http.StatusNoContent},
		{"a guest with 1,000 topics", guest, manyTopics(1000), http.StatusBadRequest},
		{"a customer with 21 topics", shop.Customer, manyTopics(21), http.StatusBadRequest},
		{"a customer with 20 topics", shop.Customer, manyTopics(20), http.StatusNoContent},
		// a subscription's filter runs after every save: the guard's limits
		{"a customer's costly subscription filter", shop.Customer, []string{"users/*?options=" + url.QueryEscape(
			`{"query":{"filter":"orders_via_user.order_items_via_order.product.order_items_via_product.product_name ?~ '%q%z'"}}`)},
			http.StatusBadRequest},
		{"a guest's costly product filter", guest, []string{"products/*?options=" + url.QueryEscape(
			`{"query":{"filter":"order_items_via_product.order.order_items_via_order.product_name ~ 'x'"}}`)},
			http.StatusBadRequest},
		{"a plain subscription filter", shop.Customer, []string{"orders/*?options=" + url.QueryEscape(
			`{"query":{"filter":"status = 'paid'"}}`)}, http.StatusNoContent},
	} {
		client := realtimeClient(rig)
		if got := realtimeSubscribe(t, rig, client, tc.account, tc.topics...); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
		rig.App.SubscriptionsBroker().Unregister(client.Id())
	}

	// Ten connections of one account are enough; the eleventh is refused.
	for i := range 11 {
		client := realtimeClient(rig)
		want := http.StatusNoContent
		if i == 10 {
			want = http.StatusTooManyRequests
		}
		if got := realtimeSubscribe(t, rig, client, shop.Customer2, "orders/*"); got != want {
			t.Fatalf("connection %d of one account: %d, want %d", i+1, got, want)
		}
	}
}

func manyTopics(n int) []string {
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf("products/p%014d", i)
	}
	return topics
}

// TestRealtimeConnectionsPerAddressAreBounded: one address holds at most
// fifty realtime connections; the next one is refused before it opens,
// and one more may open once one of the fifty has closed.
func TestRealtimeConnectionsPerAddressAreBounded(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	server := httptest.NewServer(rig.Mux)
	defer server.Close()

	// open starts a connection and returns its status once the shop has
	// answered (a stream: at its first event) and the func that closes it.
	open := func() (int, context.CancelFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL+"/api/realtime", nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusOK {
			if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		return res.StatusCode, func() { cancel(); res.Body.Close() }
	}
	var closers []context.CancelFunc
	defer func() {
		for _, close := range closers {
			close()
		}
	}()
	for i := range 50 {
		status, close := open()
		closers = append(closers, close)
		if status != http.StatusOK {
			t.Fatalf("connection %d: %d", i+1, status)
		}
	}
	status, close := open()
	close()
	if status != http.StatusTooManyRequests {
		t.Fatalf("the 51st connection: %d, want 429", status)
	}
	closers[0]()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, close := open()
		closers = append(closers, close)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of fifty closed, a new connection still got %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
