package access_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// subscribe registers a realtime client signed in as the user (nil: a
// guest) and subscribed to the topics.
func subscribe(t *testing.T, app core.App, userID string, topics ...string) subscriptions.Client {
	t.Helper()
	client := subscriptions.NewDefaultClient()
	if userID != "" {
		user, err := app.FindRecordById(c.Users, userID)
		if err != nil {
			t.Fatal(err)
		}
		client.Set(apis.RealtimeClientAuthKey, user)
	}
	client.Subscribe(topics...)
	app.SubscriptionsBroker().Register(client)
	return client
}

// receivedOrders drains the client's messages and returns the ids of the
// orders they carried.
func receivedOrders(t *testing.T, client subscriptions.Client) []string {
	t.Helper()
	var ids []string
	for {
		select {
		case msg := <-client.Channel():
			var body struct {
				Record struct {
					ID string `json:"id"`
				} `json:"record"`
			}
			if err := json.Unmarshal(msg.Data, &body); err != nil {
				t.Fatalf("message %s: %v", msg.Data, err)
			}
			ids = append(ids, body.Record.ID)
		case <-time.After(200 * time.Millisecond):
			slices.Sort(ids)
			return ids
		}
	}
}

// TestRealtimeDeliversOnlyOwnOrders changes one order of each customer
// and checks who hears of which: the list rule applies to orders/* and
// the view rule to orders/ID.
func TestRealtimeDeliversOnlyOwnOrders(t *testing.T) {
	shop := shoptest.Shop()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	if _, err := apis.NewRouter(app); err != nil { // binds the realtime broadcasts
		t.Fatal(err)
	}

	customer := subscribe(t, app, shop.Customer.ID, "orders/*")
	customerOnOther := subscribe(t, app, shop.Customer.ID, "orders/"+shop.Customer2Order)
	customer2 := subscribe(t, app, shop.Customer2.ID, "orders/*")
	support := subscribe(t, app, shop.Support.ID, "orders/*")
	store := subscribe(t, app, shop.Store.ID, "orders/*")
	guest := subscribe(t, app, "", "orders/*")

	for _, id := range []string{shop.CustomerOrder, shop.Customer2Order} {
		order, err := app.FindRecordById(c.Orders, id)
		if err != nil {
			t.Fatal(err)
		}
		order.Set(c.OrderStatusField, string(c.StatusPaid))
		if err := app.Save(order); err != nil {
			t.Fatal(err)
		}
	}

	both := []string{shop.CustomerOrder, shop.Customer2Order}
	slices.Sort(both)
	cases := []struct {
		name   string
		client subscriptions.Client
		want   []string
	}{
		{"customer on orders/*", customer, []string{shop.CustomerOrder}},
		{"customer on the other customer's order", customerOnOther, nil},
		{"customer2 on orders/*", customer2, []string{shop.Customer2Order}},
		{"support on orders/*", support, both},
		{"store on orders/*", store, nil},
		{"guest on orders/*", guest, nil},
	}
	for _, tc := range cases {
		if got := receivedOrders(t, tc.client); !slices.Equal(got, tc.want) {
			t.Errorf("%s received %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRealtimeCarriesSupportChanges ships an order through the records API
// as support (an audited, transactional write) and checks that its customer
// hears of it and the other customer does not.
func TestRealtimeCarriesSupportChanges(t *testing.T) {
	shop := shoptest.Shop()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	handler := shoptest.ServeShop(t, app)
	shoptest.SetStatus(t, app, shop.CustomerOrder, c.StatusPaid)

	customer := subscribe(t, app, shop.Customer.ID, "orders/*")
	other := subscribe(t, app, shop.Customer2.ID, "orders/*")

	req := httptest.NewRequest(http.MethodPatch, "/api/collections/orders/records/"+shop.CustomerOrder, strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`))
	req.Header.Set("Authorization", shop.Support.Token)
	req.Header.Set("Content-Type", "application/json")
	res := httptest.NewRecorder()
	handler.ServeHTTP(res, req)
	if res.Code != http.StatusOK {
		t.Fatalf("support ships: %d %s", res.Code, res.Body)
	}
	if got := receivedOrders(t, customer); !slices.Equal(got, []string{shop.CustomerOrder}) {
		t.Errorf("customer received %v, want their order", got)
	}
	if got := receivedOrders(t, other); len(got) != 0 {
		t.Errorf("the other customer received %v", got)
	}
}
