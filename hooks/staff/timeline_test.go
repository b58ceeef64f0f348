package staff_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// TestTimelineTellsAnOrdersLife: an order paid, shipped by support, refunded
// in part, noted and emailed shows each step, oldest first, with who did
// it.
func TestTimelineTellsAnOrdersLife(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	fake := fakestripe.New(t)
	app := shoptest.NewAppWith(t, shoptest.StripeConfig(fake.URL))
	defer app.Cleanup()
	if _, err := app.DB().Update(c.Orders, dbx.Params{c.OrderStripePaymentIntent: "pi_timeline"}, dbx.HashExp{"id": order}).Execute(); err != nil {
		t.Fatal(err)
	}
	handler := shoptest.ServeShop(t, app)
	send := func(method, url, body string, who shoptest.Account) (int, string) {
		req := httptest.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if who.Token != "" {
			req.Header.Set("Authorization", who.Token)
		}
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		return res.Code, res.Body.String()
	}
	for _, step := range []struct{ method, url, body string }{
		{http.MethodPatch, "/api/collections/orders/records/" + order, `{"status":"shipped","carrier":"UPS","tracking_number":"1Z999"}`},
		{http.MethodPost, "/api/v1/orders/" + order + "/refund", `{"amount":250,"reason":"Box arrived dented"}`},
		{http.MethodPost, "/api/collections/order_notes/records", `{"order":"` + order + `","author":"` + shop.Support.ID + `","body":"Sent a photo of the box."}`},
	} {
		if status, body := send(step.method, step.url, step.body, shop.Support); status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", step.method, step.url, status, body)
		}
	}

	status, body := send(http.MethodGet, "/api/v1/orders/"+order+"/timeline", "", shop.Support)
	if status != http.StatusOK {
		t.Fatalf("timeline: %d %s", status, body)
	}
	var got struct {
		Items []struct {
			At    string         `json:"at"`
			Kind  string         `json:"kind"`
			Actor string         `json:"actor"`
			Data  map[string]any `json:"data"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	byKind := map[string]int{}
	var kinds []string
	for i, e := range got.Items {
		byKind[e.Kind] = i
		kinds = append(kinds, e.Kind)
		if i > 0 && e.At < got.Items[i-1].At {
			t.Fatalf("entries out of order: %v", kinds)
		}
	}
	for _, kind := range []string{"created", "paid", "shipped", "refund", "note", "email"} {
		if _, ok := byKind[kind]; !ok {
			t.Fatalf("no %s entry in %v", kind, kinds)
		}
	}
	shipped, refund, note := got.Items[byKind["shipped"]], got.Items[byKind["refund"]], got.Items[byKind["note"]]
	if !strings.Contains(shipped.Actor, shop.Support.Email) || shipped.Data["carrier"] != "UPS" || shipped.Data["tracking_number"] != "1Z999" {
		t.Fatalf("shipped entry %+v", shipped)
	}
	if !strings.Contains(refund.Actor, shop.Support.Email) || refund.Data["amount"] != float64(250) || refund.Data["reason"] != "Box arrived dented" {
		t.Fatalf("refund entry %+v", refund)
	}
	if note.Data["body"] != "Sent a photo of the box." || !strings.Contains(note.Actor, shop.Support.Email) {
		t.Fatalf("note entry %+v", note)
	}
	if byKind["created"] != 0 || byKind["paid"] > byKind["shipped"] || byKind["shipped"] > byKind["refund"] {
		t.Fatalf("order of entries %v", kinds)
	}
}

// TestTimelineIsSupportsOnly: everyone else is refused, an unknown order
// is 404.
func TestTimelineIsSupportsOnly(t *testing.T) {
	shop := shoptest.Shop()
	url := "/api/v1/orders/" + shop.CustomerPaidOrder + "/timeline"
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{Name: "guest", Method: http.MethodGet, URL: url, ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}},
		{Name: "the order's customer", Method: http.MethodGet, URL: url, Headers: shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`"status":403`}},
		{Name: "store", Method: http.MethodGet, URL: url, Headers: shoptest.Headers(shop.Store),
			ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`"status":403`}},
		{Name: "an unknown order", Method: http.MethodGet, URL: "/api/v1/orders/nosuchorder0000/timeline", Headers: shoptest.Headers(shop.Support),
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}},
		{Name: "support", Method: http.MethodGet, URL: url, Headers: shoptest.Headers(shop.Support),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"kind":"created"`, `"kind":"paid"`}},
	})
}
