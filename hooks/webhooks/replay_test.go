package webhooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/records"
	"shopdash/hooks/webhooks"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

// TestReplayRouteIsForSuperusers is the route's table for every role,
// with its bad bodies and an unknown endpoint.
func TestReplayRouteIsForSuperusers(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const knownDelivery = "dlvreplaytest01"
	var endpoint string
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		var delivery string
		endpoint, delivery = seededEndpoint(tb, app)
		// Not due: the scenario's serve starts the worker, whose claim would
		// hide the delivery from the replay.
		shoptest.WebhookSetFields(tb, app, c.WebhookDeliveries, delivery,
			dbx.Params{c.DeliveryNextAttempt: records.Stamp(time.Now().Add(time.Hour)).String(), "id": knownDelivery})
		return app
	}
	atEndpoint := func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		e.Router.BindFunc(func(re *core.RequestEvent) error {
			re.Request.URL.Path = strings.Replace(re.Request.URL.Path, "/EP/", "/"+endpoint+"/", 1)
			re.Request.SetPathValue("endpoint", endpoint)
			return re.Next()
		})
	}
	url := "/api/v1/admin/webhooks/EP/replay"
	scenarios := []tests.ApiScenario{
		{Name: "guest", ExpectedStatus: 401, ExpectedContent: []string{`"status":401`}},
		{Name: "customer", Headers: shoptest.Headers(shop.Customer), ExpectedStatus: 403, ExpectedContent: []string{`"status":403`}},
		{Name: "support", Headers: shoptest.Headers(shop.Support), ExpectedStatus: 403, ExpectedContent: []string{`"status":403`}},
		{Name: "store", Headers: shoptest.Headers(shop.Store), ExpectedStatus: 403, ExpectedContent: []string{`"status":403`}},
		{Name: "superuser, no body", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 200,
			ExpectedContent: []string{`"queued":1`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				if n, _ := app.CountRecords(c.AuditLog, dbx.HashExp{c.AuditAction: "webhooks.replay"}); n != 1 {
					t.Errorf("audit entries of the replay: %d, want 1", n)
				}
			}},
		{Name: "superuser, pending since a time", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 200,
			Body: strings.NewReader(`{"since":"2020-01-01T00:00:00Z","status":"pending"}`), ExpectedContent: []string{`"queued":1`}},
		{Name: "superuser, dead only", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 200,
			Body: strings.NewReader(`{"status":"dead"}`), ExpectedContent: []string{`"queued":0`}},
		{Name: "superuser, one delivery", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 200,
			Body: strings.NewReader(`{"delivery":"` + knownDelivery + `"}`), ExpectedContent: []string{`"queued":1`}},
		{Name: "superuser, a delivery the endpoint does not have", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 404,
			Body: strings.NewReader(`{"delivery":"nope"}`), ExpectedContent: []string{`"status":404`}},
		{Name: "bad since and status", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 400,
			Body:            strings.NewReader(`{"since":"yesterday","status":"lost"}`),
			ExpectedContent: []string{`"since":{"code":"validation_invalid_date"`, `"status":{"code":"validation_in_invalid"`}},
		{Name: "since of the wrong type", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 400,
			Body: strings.NewReader(`{"since":24}`), ExpectedContent: []string{`"since":{"code":"validation_invalid_type"`}},
	}
	for _, s := range scenarios {
		s.Method, s.URL, s.TestAppFactory, s.BeforeTestFunc = http.MethodPost, url, factory, atEndpoint
		if s.Body != nil {
			s.Headers = withJSON(s.Headers)
		}
		s.Test(t)
	}
	unknown := tests.ApiScenario{Name: "unknown endpoint", Method: http.MethodPost, URL: "/api/v1/admin/webhooks/nope/replay",
		Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: 404, ExpectedContent: []string{`"status":404`},
		TestAppFactory: shoptest.Factory}
	unknown.Test(t)
}

func withJSON(h map[string]string) map[string]string {
	out := map[string]string{"Content-Type": "application/json"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// TestReplaySendsAgainUnderTheSameID: a dead delivery replayed is sent
// once more, with the webhook-id and body of the first attempts.
func TestReplaySendsAgainUnderTheSameID(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{WebhookRetries: []time.Duration{0}})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	ep := addEndpoint(t, app, rc.URL, c.EventOrderPaid)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	pass()
	if rows := deliveries(t, app, dbx.HashExp{c.DeliveryStatus: c.DeliveryDead}); len(rows) != 1 {
		t.Fatalf("dead deliveries after one failed attempt: %d", len(rows))
	}
	queued, err := webhooks.ReplayDeliveries(app, "cli", ep.Id, webhooks.Replay{Status: c.DeliveryDead})
	if err != nil || queued != 1 {
		t.Fatalf("replay: %d %v", queued, err)
	}
	pass()
	hits := rc.got()
	if len(hits) != 2 || hits[0].id != hits[1].id || string(hits[0].body) != string(hits[1].body) {
		t.Fatalf("hits %d: want the same id and body twice", len(hits))
	}
	if rows := deliveries(t, app, dbx.HashExp{c.DeliveryStatus: c.DeliveryDelivered}); len(rows) != 1 || rows[0].GetInt(c.DeliveryAttempts) != 1 {
		t.Fatalf("after the replay: %v", rows)
	}
	if _, err := webhooks.ReplayDeliveries(app, "cli", "nope", webhooks.Replay{}); err != webhooks.ErrNoEndpoint {
		t.Errorf("unknown endpoint: %v", err)
	}
}

// TestDeletedCustomerIsForgottenInDeliveries: deleting an account blanks
// the name, email and address in its orders' stored deliveries, keeping
// the ids, in the delete's transaction.
func TestDeletedCustomerIsForgottenInDeliveries(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/hook", c.EventOrderPaid)
	shoptest.SaveUser(t, app, shop.Customer.ID, func(u *core.Record) {
		u.Set(c.UserShippingAddress, map[string]any{"line1": "1 Secret Lane", "city": "Lyon", "postal_code": "69001", "country": "FR"})
	})
	order, _ := app.FindRecordById(c.Orders, shop.CustomerOrder)
	order.Set(c.OrderShippingAddress, map[string]any{"line1": "1 Secret Lane", "city": "Lyon", "postal_code": "69001", "country": "FR"})
	if err := app.SaveNoValidate(order); err != nil {
		t.Fatal(err)
	}
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	name := order.GetString(c.OrderCustomerName)
	rows := deliveries(t, app, nil)
	if len(rows) != 1 || name == "" || !strings.Contains(rows[0].GetString(c.DeliveryPayload), shop.Customer.Email) {
		t.Fatalf("before: %v", rows)
	}
	(&tests.ApiScenario{
		Method: http.MethodDelete, URL: "/api/v1/me", Body: strings.NewReader(`{"password":"` + seed.DemoPassword + `"}`),
		Headers: withJSON(shoptest.Headers(shop.Customer)), ExpectedStatus: 204,
		TestAppFactory: func(testing.TB) *tests.TestApp { return app },
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			stored, err := app.FindRecordById(c.WebhookDeliveries, rows[0].Id)
			if err != nil {
				t.Fatal(err)
			}
			payload := stored.GetString(c.DeliveryPayload)
			for _, gone := range []string{shop.Customer.Email, "Secret Lane", name} {
				if strings.Contains(payload, gone) {
					t.Errorf("the payload still holds %q: %s", gone, payload)
				}
			}
			if !strings.Contains(payload, shop.Customer.ID) || !strings.Contains(payload, shop.CustomerOrder) {
				t.Errorf("the payload lost its ids: %s", payload)
			}
		},
	}).Test(t)
}

// TestOldDeliveriesArePruned: a pass deletes delivered and dead
// deliveries older than the retention, and keeps the rest.
func TestOldDeliveriesArePruned(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, pass := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/hook", c.EventOrderPaid, c.EventOrderShipped)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusShipped)
	rows := deliveries(t, app, nil)
	if len(rows) != 2 {
		t.Fatalf("deliveries: %d", len(rows))
	}
	old := records.Stamp(time.Now().Add(-webhooks.DeliveryRetention - time.Hour)).String()
	shoptest.WebhookSetFields(t, app, c.WebhookDeliveries, rows[0].Id, dbx.Params{c.DeliveryStatus: c.DeliveryDelivered, c.DeliveryUpdated: old})
	shoptest.WebhookSetFields(t, app, c.WebhookDeliveries, rows[1].Id, dbx.Params{c.DeliveryStatus: c.DeliveryFailed, c.DeliveryUpdated: old,
		c.DeliveryNextAttempt: records.Stamp(time.Now().Add(time.Hour)).String()})
	pass()
	if _, err := app.FindRecordById(c.WebhookDeliveries, rows[0].Id); err == nil {
		t.Error("an old delivered delivery was kept")
	}
	if _, err := app.FindRecordById(c.WebhookDeliveries, rows[1].Id); err != nil {
		t.Error("a delivery still to retry was pruned")
	}
}
