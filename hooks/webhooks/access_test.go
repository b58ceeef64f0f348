package webhooks_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// seededEndpoint is a shop with one endpoint and one delivery of it.
func seededEndpoint(t testing.TB, app *tests.TestApp) (endpoint, delivery string) {
	col, _ := app.FindCollectionByNameOrId(c.WebhookEndpoints)
	ep := core.NewRecord(col)
	ep.Set(c.EndpointURL, "https://hooks.example.com/shop")
	ep.Set(c.EndpointActive, true)
	if err := app.Save(ep); err != nil {
		t.Fatal(err)
	}
	shoptest.MoveOrder(t.(*testing.T), app, shoptest.Shop().CustomerOrder, c.StatusPaid)
	rows, err := app.FindAllRecords(c.WebhookDeliveries)
	if err != nil || len(rows) != 1 {
		t.Fatalf("deliveries %v %v", rows, err)
	}
	return ep.Id, rows[0].Id
}

// TestOnlySuperusersReachTheWebhookCollections is the rule table of both
// collections for every role: nobody but a superuser lists, views,
// creates, changes or deletes an endpoint or a delivery.
func TestOnlySuperusersReachTheWebhookCollections(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var endpoint, delivery string
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		endpoint, delivery = seededEndpoint(tb, app)
		return app
	}
	var scenarios []tests.ApiScenario
	for _, who := range []struct {
		name    string
		account shoptest.Account
	}{
		{"guest", shoptest.Account{}}, {"customer", shop.Customer}, {"support", shop.Support}, {"store", shop.Store},
	} {
		for _, col := range []string{c.WebhookEndpoints, c.WebhookDeliveries} {
			base := "/api/collections/" + col + "/records"
			id := func() string {
				if col == c.WebhookEndpoints {
					return endpoint
				}
				return delivery
			}
			for _, req := range []struct {
				method, path, body string
			}{
				{http.MethodGet, "", ""},
				{http.MethodGet, "/ID", ""},
				{http.MethodPost, "", `{"url":"https://evil.example.com/x","endpoint":"x"}`},
				{http.MethodPatch, "/ID", `{"active":false,"status":"dead"}`},
				{http.MethodDelete, "/ID", ""},
			} {
				scenarios = append(scenarios, tests.ApiScenario{
					Name:   who.name + " " + req.method + " " + col + req.path,
					Method: req.method, Body: strings.NewReader(req.body), Headers: shoptest.Headers(who.account),
					BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
						if req.path != "" {
							e.Router.BindFunc(func(re *core.RequestEvent) error {
								re.Request.URL.Path = strings.Replace(re.Request.URL.Path, "/ID", "/"+id(), 1)
								return re.Next()
							})
						}
					},
					URL:                base + req.path,
					ExpectedStatus:     http.StatusForbidden,
					ExpectedContent:    []string{"Only superusers"},
					NotExpectedContent: []string{"whsec_"},
					TestAppFactory:     factory,
				})
			}
		}
	}
	// The outbox is read-only to superusers too: a row written by hand
	// could lack its payload (the attack on the binary made one, and it
	// failed the claim of every delivery taken with it).
	for _, req := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodGet, "", "", http.StatusOK},
		{http.MethodPost, "", `{"endpoint":"ENDPOINT","event_id":"msg_by_hand","type":"product.updated","status":"pending"}`, http.StatusForbidden},
		{http.MethodPatch, "/ID", `{"status":"delivered"}`, http.StatusForbidden},
		{http.MethodDelete, "/ID", "", http.StatusForbidden},
	} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:   "superuser " + req.method + " " + c.WebhookDeliveries + req.path,
			Method: req.method, Body: strings.NewReader(req.body), Headers: shoptest.Headers(shop.Superuser),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				e.Router.BindFunc(func(re *core.RequestEvent) error {
					if re.Request.PathValue("id") == "ID" { // the route matched before the id was known
						re.Request.SetPathValue("id", delivery)
					}
					return re.Next()
				})
			},
			URL:             "/api/collections/" + c.WebhookDeliveries + "/records" + req.path,
			ExpectedStatus:  req.status,
			ExpectedContent: map[bool][]string{true: {`"items"`}, false: {"written by the shop alone"}}[req.status == http.StatusOK],
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				if n, err := app.CountRecords(c.WebhookDeliveries); err != nil || n != 1 {
					t.Errorf("%d deliveries after a superuser's %s, want the seeded one alone (%v)", n, req.method, err)
				}
				if row, err := app.FindRecordById(c.WebhookDeliveries, delivery); err != nil || row.GetString(c.DeliveryStatus) == c.DeliveryDelivered {
					t.Errorf("the seeded delivery after a superuser's %s: %v %v", req.method, row, err)
				}
			},
			TestAppFactory: factory,
		})
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestEndpointURLsAreCheckedOnSave: the records API answers 400 with a
// field error on url for http or a private host; a good one is saved with
// a generated secret, which a superuser reads.
func TestEndpointURLsAreCheckedOnSave(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	url := "/api/collections/" + c.WebhookEndpoints + "/records"
	for _, s := range []tests.ApiScenario{
		{Name: "http", Body: strings.NewReader(`{"url":"http://hooks.example.com/x"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"url":{"code":"validation_webhook_https"`}},
		{Name: "loopback", Body: strings.NewReader(`{"url":"https://127.0.0.1/x"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"url":{"code":"validation_webhook_private_host"`}},
		{Name: "metadata", Body: strings.NewReader(`{"url":"https://169.254.169.254/latest"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"url":{"code":"validation_webhook_private_host"`}},
		{Name: "a bad secret", Body: strings.NewReader(`{"url":"https://hooks.example.com/x","secret":"hunter2"}`), ExpectedStatus: 400,
			ExpectedContent: []string{`"secret":{"code":"validation_webhook_secret"`}},
		{Name: "public https", Body: strings.NewReader(`{"url":"https://hooks.example.com/x","events":["order.paid"]}`), ExpectedStatus: 200,
			ExpectedContent: []string{`"secret":"whsec_`, `"active":true`, `"events":["order.paid"]`},
		},
	} {
		s.Method, s.URL, s.Headers, s.TestAppFactory = http.MethodPost, url, shoptest.Headers(shop.Superuser), shoptest.Factory
		s.Test(t)
	}
	private := tests.ApiScenario{Name: "loopback with the switch", Method: http.MethodPost, URL: url,
		Body: strings.NewReader(`{"url":"http://127.0.0.1:8080/x"}`), Headers: shoptest.Headers(shop.Superuser),
		ExpectedStatus: 200, ExpectedContent: []string{`"url":"http://127.0.0.1:8080/x"`},
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			return shoptest.NewAppWith(tb, hooks.Config{AppURL: shoptest.AppURL, WebhooksAllowPrivate: true})
		}}
	private.Test(t)
}

// TestSecretRotationKeepsTheOldOneADay: a changed secret is kept as the
// previous one for 24 hours, hidden, and deliveries verify with either.
func TestSecretRotationKeepsTheOldOneADay(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	rc := newReceiver(t, status(http.StatusOK))
	ep := addEndpoint(t, app, rc.URL)
	old := ep.GetString(c.EndpointSecret)
	ep.Set(c.EndpointSecret, "")
	if err := app.Save(ep); err != nil {
		t.Fatal(err)
	}
	stored, _ := app.FindRecordById(c.WebhookEndpoints, ep.Id)
	current := stored.GetString(c.EndpointSecret)
	if current == old || stored.GetString(c.EndpointPreviousSecret) != old ||
		stored.GetDateTime(c.EndpointPreviousSecretUntil).Time().Sub(stored.GetDateTime(c.EndpointUpdated).Time()) < 23*60*60e9 {
		t.Fatalf("after rotation: secret changed %t, previous kept %t, until %s", current != old,
			stored.GetString(c.EndpointPreviousSecret) == old, stored.GetDateTime(c.EndpointPreviousSecretUntil))
	}
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	hits := rc.got()
	if len(hits) != 1 || len(strings.Fields(hits[0].signature)) != 2 || !verify(t, hits[0], current) || !verify(t, hits[0], old) {
		t.Errorf("hits %v: want one delivery signed with both secrets", hits)
	}
}

// TestWebhookTopicsAreRefusedInRealtime: no role subscribes to either
// collection; PocketBase's broker keeps them for superusers.
func TestWebhookTopicsAreRefusedInRealtime(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app := shoptest.NewApp(t)
	t.Cleanup(app.Cleanup)
	mux := shoptest.ServeShop(t, app)
	for _, who := range []shoptest.Account{{}, shop.Customer, shop.Support, shop.Store} {
		for _, topic := range []string{c.WebhookEndpoints + "/*", c.WebhookDeliveries + "/*"} {
			client := subscriptions.NewDefaultClient()
			client.Set(apis.RealtimeClientIPKey, "192.0.2.1") // where httptest's requests come from
			app.SubscriptionsBroker().Register(client)
			body, _ := json.Marshal(map[string]any{"clientId": client.Id(), "subscriptions": []string{topic}})
			req := httptest.NewRequest(http.MethodPost, "/api/realtime", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range shoptest.Headers(who) {
				req.Header.Set(k, v)
			}
			res := httptest.NewRecorder()
			mux.ServeHTTP(res, req)
			if res.Code != http.StatusForbidden {
				t.Errorf("%s subscribing to %s: %d %s, want 403", who.Email, topic, res.Code, res.Body)
			}
			app.SubscriptionsBroker().Unregister(client.Id())
		}
	}
}
