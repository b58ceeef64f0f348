package realtime_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	c "shopdash/collections"
	"shopdash/hooks/audit"
	"shopdash/hooks/realtime"
	"shopdash/internal/shoptest"
)

func TestMain(m *testing.M) { shoptest.Main(m) }

// address is where the test's realtime clients connect from: httptest's
// requests come from it too.
const address = "192.0.2.1"

// follow opens a realtime client for the account (a zero Account: a
// guest) and subscribes it to the topics through the realtime API, as
// the JS SDK does; it fails unless the shop answers 204.
func follow(t *testing.T, rig *shoptest.WebhookRig, account shoptest.Account, topics ...string) subscriptions.Client {
	t.Helper()
	client := connect(rig)
	if status, body := subscribe(t, rig, client, account, topics...); status != http.StatusNoContent {
		t.Fatalf("subscribe %v: %d %s", topics, status, body)
	}
	return client
}

// connect registers a connected client, as the SSE connection does.
func connect(rig *shoptest.WebhookRig) subscriptions.Client {
	client := subscriptions.NewDefaultClient()
	client.Set(apis.RealtimeClientIPKey, address)
	rig.App.SubscriptionsBroker().Register(client)
	return client
}

func subscribe(t *testing.T, rig *shoptest.WebhookRig, client subscriptions.Client, account shoptest.Account, topics ...string) (int, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"clientId": client.Id(), "subscriptions": topics})
	if err != nil {
		t.Fatal(err)
	}
	return rig.Send(t, http.MethodPost, "/api/realtime", string(body), shoptest.Headers(account))
}

// event is one message a client received.
type event struct {
	Topic  string
	Action string
	Record map[string]any
}

// received drains what the client was sent until nothing more comes.
func received(t *testing.T, client subscriptions.Client) []event {
	t.Helper()
	var events []event
	for {
		select {
		case msg := <-client.Channel():
			var body struct {
				Action string         `json:"action"`
				Record map[string]any `json:"record"`
			}
			if err := json.Unmarshal(msg.Data, &body); err != nil {
				t.Fatalf("message %s: %v", msg.Data, err)
			}
			events = append(events, event{Topic: msg.Name, Action: body.Action, Record: body.Record})
		case <-time.After(150 * time.Millisecond):
			return events
		}
	}
}

// ids are the record ids of the events, sorted, once each.
func ids(events []event) []string {
	var out []string
	for _, e := range events {
		out = append(out, fmt.Sprint(e.Record["id"]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func saveStatus(t *testing.T, app core.App, id string, status c.OrderStatus) {
	t.Helper()
	order, err := app.FindRecordById(c.Orders, id)
	if err != nil {
		t.Fatal(err)
	}
	order.Set(c.OrderStatusField, string(status))
	if err := app.Save(order); err != nil {
		t.Fatal(err)
	}
}

func options(query string) string {
	return "?options=" + url.QueryEscape(`{"query":`+query+`}`)
}

// TestCustomersHearOnlyTheirOwnOrders changes one order of each customer
// and checks who hears of which, on every kind of topic the realtime API
// takes: the whole collection, one record, the old bare name, by
// collection id, with options.
func TestCustomersHearOnlyTheirOwnOrders(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	orders, err := rig.App.FindCachedCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	fieldsTopic := "orders/*" + options(`{"fields":"id,status"}`)
	paidTopic := "orders/*" + options(`{"filter":"status = 'paid'"}`)

	customer := follow(t, rig, shop.Customer, "orders/*", "orders/"+shop.Customer2Order, fieldsTopic)
	customerByID := follow(t, rig, shop.Customer, orders.Id+"/*", "orders")
	customerOnPaid := follow(t, rig, shop.Customer, paidTopic)
	customer2 := follow(t, rig, shop.Customer2, "orders/*")
	customer2OnOther := follow(t, rig, shop.Customer2, "orders/"+shop.CustomerOrder)
	support := follow(t, rig, shop.Support, "orders/*", "orders/"+shop.CustomerOrder)
	store := follow(t, rig, shop.Store, "orders/*")

	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	saveStatus(t, rig.App, shop.Customer2Order, c.StatusPaid)
	saveStatus(t, rig.App, shop.CustomerOrder, c.StatusCancelled)

	both := []string{shop.CustomerOrder, shop.Customer2Order}
	slices.Sort(both)
	for _, tc := range []struct {
		name   string
		client subscriptions.Client
		want   []string
		events int
	}{
		// two updates of their order, on orders/* and on the fields topic
		{"customer", customer, []string{shop.CustomerOrder}, 4},
		{"customer by collection id and bare name", customerByID, []string{shop.CustomerOrder}, 4},
		// the filter lets the paid update through, not the cancelled one
		{"customer on paid orders", customerOnPaid, []string{shop.CustomerOrder}, 1},
		{"customer2", customer2, []string{shop.Customer2Order}, 1},
		{"customer2 on the customer's order", customer2OnOther, nil, 0},
		{"support", support, both, 5},
		{"store", store, nil, 0},
	} {
		got := received(t, tc.client)
		if !slices.Equal(ids(got), tc.want) || len(got) != tc.events {
			t.Errorf("%s received %d events of %v, want %d of %v", tc.name, len(got), ids(got), tc.events, tc.want)
		}
		for _, e := range got {
			if e.Topic == fieldsTopic && len(e.Record) != 2 {
				t.Errorf("%s: the fields topic carried %v, want id and status only", tc.name, e.Record)
			}
			if _, hidden := e.Record[c.OrderClaim]; hidden {
				t.Errorf("%s: an event carried the hidden claim field", tc.name)
			}
		}
	}
}

// TestSupportChangesReachTheCustomer ships an order through the records
// API as support (an audited, transactional write): its customer hears of
// it, the other customer does not.
func TestSupportChangesReachTheCustomer(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.SetStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	customer := follow(t, rig, shop.Customer, "orders/*")
	other := follow(t, rig, shop.Customer2, "orders/*")

	status, body := rig.Send(t, http.MethodPatch, "/api/collections/orders/records/"+shop.CustomerOrder,
		`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`, shoptest.Headers(shop.Support))
	if status != http.StatusOK {
		t.Fatalf("support ships: %d %s", status, body)
	}
	got := received(t, customer)
	if len(got) != 1 || got[0].Record["id"] != shop.CustomerOrder || got[0].Record["status"] != "shipped" || got[0].Action != "update" {
		t.Errorf("customer received %+v, want their order shipped", got)
	}
	if got := received(t, other); len(got) != 0 {
		t.Errorf("the other customer received %+v", got)
	}
}

// TestNotesAndItemsFollowTheirRules: notes reach support only; an order's
// items reach its customer and support; a customer's profile reaches
// them (with their email) and support, never the other customer.
func TestNotesAndItemsFollowTheirRules(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	topics := []string{"order_notes/*", "order_items/*", "users/*", "audit_log/*"}
	customer := follow(t, rig, shop.Customer, topics...)
	customer2 := follow(t, rig, shop.Customer2, topics...)
	support := follow(t, rig, shop.Support, topics...)
	store := follow(t, rig, shop.Store, topics...)

	notes, err := rig.App.FindCollectionByNameOrId(c.OrderNotes)
	if err != nil {
		t.Fatal(err)
	}
	note := core.NewRecord(notes)
	note.Set(c.NoteOrder, shop.CustomerOrder)
	note.Set(c.NoteAuthor, shop.Support.ID)
	note.Set(c.NoteBody, "customer asked for a gift wrap")
	if err := rig.App.Save(note); err != nil {
		t.Fatal(err)
	}
	item, err := rig.App.FindRecordById(c.OrderItems, shop.CustomerItem)
	if err != nil {
		t.Fatal(err)
	}
	item.Set(c.ItemEstimatedArrival, time.Now().AddDate(0, 0, 9))
	if err := rig.App.Save(item); err != nil {
		t.Fatal(err)
	}
	shoptest.SaveUser(t, rig.App, shop.Customer.ID, func(u *core.Record) { u.Set(c.UserName, "Renamed Customer") })
	if err := audit.Write(rig.App, "users/"+shop.Support.ID, "test", "orders/"+shop.CustomerOrder, nil); err != nil {
		t.Fatal(err)
	}

	byCollection := func(events []event) map[string]int {
		n := map[string]int{}
		for _, e := range events {
			n[strings.SplitN(e.Topic, "/", 2)[0]]++
		}
		return n
	}
	for _, tc := range []struct {
		name   string
		client subscriptions.Client
		want   map[string]int
	}{
		{"customer", customer, map[string]int{"order_items": 1, "users": 1}},
		{"customer2", customer2, map[string]int{}},
		{"support", support, map[string]int{"order_notes": 1, "order_items": 1, "users": 1, "audit_log": 1}},
		{"store", store, map[string]int{}},
	} {
		events := received(t, tc.client)
		if got := byCollection(events); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s received %v, want %v", tc.name, got, tc.want)
		}
		for _, e := range events {
			if strings.HasPrefix(e.Topic, "users/") && e.Record["email"] != shop.Customer.Email {
				t.Errorf("%s: the customer's profile event carried email %v, want it shown to them and to support", tc.name, e.Record["email"])
			}
		}
	}
}

// TestProductsReachGuestsWhileActive: a guest hears a product while it is
// active, including its deletion; store hears every change.
func TestProductsReachGuestsWhileActive(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	guest := follow(t, rig, shoptest.Account{}, "products/*")
	store := follow(t, rig, shop.Store, "products/*")

	product, err := rig.App.FindRecordById(c.Products, shop.InactiveProduct)
	if err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductDescription, "still hidden")
	if err := rig.App.Save(product); err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductActive, true)
	if err := rig.App.Save(product); err != nil {
		t.Fatal(err)
	}
	if err := rig.App.Delete(product); err != nil {
		t.Fatal(err)
	}
	actions := func(events []event) string {
		var out []string
		for _, e := range events {
			out = append(out, e.Action)
		}
		return strings.Join(out, ",")
	}
	if got := actions(received(t, guest)); got != "update,delete" {
		t.Errorf("guest heard %q, want the update that activated it and the delete", got)
	}
	if got := actions(received(t, store)); got != "update,update,delete" {
		t.Errorf("store heard %q, want every change", got)
	}
}

// TestTopicsTheShopCannotDeliverAreRefused: a clear 4xx instead of a topic
// accepted and never heard, or heard at the cost of every write.
func TestTopicsTheShopCannotDeliverAreRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	for _, tc := range []struct {
		name   string
		topic  string
		status int
		says   string
	}{
		{"a superusers-only collection", "email_jobs/*", http.StatusForbidden, "Realtime follows these collections only"},
		{"PocketBase's superusers", "_superusers/*", http.StatusForbidden, "Realtime follows"},
		{"no collection", "nothing/*", http.StatusForbidden, "Realtime follows"},
		{"an empty record id", "orders/", http.StatusBadRequest, "not a realtime topic"},
		{"a path below a record", "orders/abc/def", http.StatusBadRequest, "not a realtime topic"},
		{"expand", "orders/*" + options(`{"expand":"user"}`), http.StatusBadRequest, "no expand"},
		{"a filter on @request", "orders/*" + options(`{"filter":"@request.auth.id != ''"}`), http.StatusBadRequest, "Only superusers"},
		{"a filter on @collection", "orders/*" + options(`{"filter":"@collection.users.id != ''"}`), http.StatusBadRequest, "Only superusers"},
	} {
		client := connect(rig)
		status, body := subscribe(t, rig, client, shop.Customer, "orders/*", tc.topic)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, status, body, tc.status, tc.says)
		}
		rig.App.SubscriptionsBroker().Unregister(client.Id())
	}

	// A superuser follows anything, through PocketBase.
	client := connect(rig)
	if status, body := subscribe(t, rig, client, shop.Superuser, "email_jobs/*", "orders/*"+options(`{"expand":"user"}`)); status != http.StatusNoContent {
		t.Errorf("superuser: %d %s", status, body)
	}
}

// TestFilteredTopicsAreBoundedPerAddress: the topics with a filter, the
// one part of a topic that costs a write a query, are counted over every
// connection of an address.
func TestFilteredTopicsAreBoundedPerAddress(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	filtered := func(from, n int) []string {
		var topics []string
		for i := range n {
			topics = append(topics, "products/*"+options(fmt.Sprintf(`{"filter":"price != %d"}`, from+i)))
		}
		return topics
	}
	follow(t, rig, shoptest.Account{}, filtered(0, 15)...)
	follow(t, rig, shop.Customer, filtered(100, 5)...)
	status, body := subscribe(t, rig, connect(rig), shop.Customer2, filtered(200, 1)...)
	if status != http.StatusTooManyRequests || !strings.Contains(body, "with a filter") {
		t.Errorf("the 21st filtered topic of an address: %d %s, want 429", status, body)
	}
	// Replacing a connection's own topics does not count them twice.
	again := connect(rig)
	follow(t, rig, shop.Customer2, "products/*")
	if status, body := subscribe(t, rig, again, shop.Customer2, "products/*", "orders/*"); status != http.StatusNoContent {
		t.Errorf("unfiltered topics: %d %s", status, body)
	}
}

// TestAWriteRunsNoQueryPerListener is issue 24's attack, and issue 20's
// crowd: two hundred whole-collection topics that differ only by a no-op
// option from other customers, and two hundred of support's. A save of
// the customer's order runs the queries it runs with nobody listening,
// and still reaches every topic that may see it.
func TestAWriteRunsNoQueryPerListener(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var queries atomic.Int64
	count := func(context.Context, time.Duration, string, *sql.Rows, error) { queries.Add(1) }
	// The log is set before the shop serves: its workers read it.
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig, func(app *tests.TestApp) {
		app.ConcurrentDB().(*dbx.DB).QueryLogFunc = count
		app.NonconcurrentDB().(*dbx.DB).QueryLogFunc = count
	})
	shoptest.SetStatus(t, rig.App, shop.CustomerOrder, c.StatusPaid)
	days := 4
	// save counts the queries of a save of the order, the fewest of three:
	// the shop's workers query now and then, and only ever add to a count.
	save := func() int64 {
		fewest := int64(-1)
		for range 3 {
			days++
			before := queries.Load()
			order, err := rig.App.FindRecordById(c.Orders, shop.CustomerOrder)
			if err != nil {
				t.Fatal(err)
			}
			order.Set(c.OrderEstimatedArrival, time.Now().AddDate(0, 0, days))
			if err := rig.App.Save(order); err != nil {
				t.Fatal(err)
			}
			if n := queries.Load() - before; fewest < 0 || n < fewest {
				fewest = n
			}
		}
		return fewest
	}
	save() // the first saves warm what every later one reuses
	alone := save()

	noOps := func(n int) []string {
		topics := make([]string, n)
		for i := range topics {
			topics[i] = "orders/*" + options(fmt.Sprintf(`{"v":%d}`, i))
		}
		return topics
	}
	var supports []subscriptions.Client
	for range 10 {
		follow(t, rig, shop.Customer2, noOps(20)...)
		supports = append(supports, follow(t, rig, shop.Support, noOps(20)...))
	}
	owner := follow(t, rig, shop.Customer, "orders/*")
	if crowded := save(); crowded != alone {
		t.Errorf("a save ran %d queries with 400 topics listening, %d with none", crowded, alone)
	}
	// The three saves reach every listener.
	if got := received(t, owner); len(got) != 3 {
		t.Errorf("the owner received %d events, want 3", len(got))
	}
	for i, s := range supports {
		if got := received(t, s); len(got) != 3*20 {
			t.Errorf("support connection %d received %d events, want three on each of its 20 topics", i, len(got))
		}
	}
}

// TestVisibilityMatchesTheRecordRules compares the shop's rule checks in
// Go with PocketBase's evaluation of each collection's list and view
// rules, for every role and records of every kind: a rule changed in a
// migration without its Go twin fails here.
func TestVisibilityMatchesTheRecordRules(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app := shoptest.NewApp(t)
	defer app.Cleanup()

	notes, err := app.FindCollectionByNameOrId(c.OrderNotes)
	if err != nil {
		t.Fatal(err)
	}
	note := core.NewRecord(notes)
	note.Set(c.NoteOrder, shop.CustomerOrder)
	note.Set(c.NoteAuthor, shop.Support.ID)
	note.Set(c.NoteBody, "a note")
	if err := app.Save(note); err != nil {
		t.Fatal(err)
	}
	if err := audit.Write(app, "users/"+shop.Support.ID, "test", "orders/"+shop.CustomerOrder, nil); err != nil {
		t.Fatal(err)
	}

	auths := map[string]*core.Record{"guest": nil}
	for name, account := range map[string]shoptest.Account{
		"customer": shop.Customer, "customer2": shop.Customer2, "support": shop.Support, "store": shop.Store,
	} {
		user, err := app.FindRecordById(c.Users, account.ID)
		if err != nil {
			t.Fatal(err)
		}
		auths[name] = user
	}

	for _, name := range realtime.Delivered() {
		collection, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		records, err := app.FindRecordsByFilter(collection, "", "", 200, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(records) == 0 {
			t.Fatalf("%s has no record to compare on", name)
		}
		for authName, auth := range auths {
			info := &core.RequestInfo{Context: core.RequestInfoContextRealtime, Method: http.MethodGet, Auth: auth}
			seen := 0
			for _, record := range records {
				got, delivered := realtime.Visible(record, auth)
				if !delivered {
					t.Fatalf("%s is not delivered", name)
				}
				for rule, text := range map[string]*string{"list": collection.ListRule, "view": collection.ViewRule} {
					want, err := app.CanAccessRecord(record, info, text)
					if err != nil {
						t.Fatalf("%s %s rule: %v", name, rule, err)
					}
					if got != want {
						t.Errorf("%s %s: %s sees it %t by the Go check, %t by the %s rule", name, record.Id, authName, got, want, rule)
					}
				}
				if got {
					seen++
				}
			}
			t.Logf("%s: %s sees %d of %d", name, authName, seen, len(records))
		}
	}
}
