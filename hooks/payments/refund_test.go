package payments_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// refundShop is a shop whose customer's paid order has a Stripe payment
// intent to refund, against the fake.
func refundShop(fake *fakestripe.Server, status c.OrderStatus) func(testing.TB) *tests.TestApp {
	return func(tb testing.TB) *tests.TestApp {
		app := checkoutShop(fake)(tb)
		order := shoptest.Shop().CustomerPaidOrder
		withStripeIds(tb, app, order, dbx.Params{c.OrderStripePaymentIntent: "pi_refund_1"})
		shoptest.SetStatus(tb, app, order, status)
		// Its physical items hold their units, as a checkout's do.
		_, err := app.DB().NewQuery(`UPDATE {{order_items}} SET stock_taken = quantity WHERE [[order]] = {:order}
			AND product IN (SELECT id FROM {{products}} WHERE digital = FALSE)`).Bind(dbx.Params{"order": order}).Execute()
		if err != nil {
			tb.Fatal(err)
		}
		return app
	}
}

// expectRefunded checks an order's status and refunded_amount, and how
// many refunds the fake made.
func expectRefunded(fake *fakestripe.Server, order string, status c.OrderStatus, refunded, stripeRefunds int) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		record, err := app.FindRecordById(c.Orders, order)
		if err != nil {
			t.Fatal(err)
		}
		o := c.NewOrder(record)
		if o.Status() != status || o.RefundedAmount() != refunded {
			t.Fatalf("order is %s with %d refunded, want %s with %d", o.Status(), o.RefundedAmount(), status, refunded)
		}
		if n := len(fake.Refunds("pi_refund_1")); n != stripeRefunds {
			t.Fatalf("Stripe made %d refunds, want %d", n, stripeRefunds)
		}
	}
}

func orderTotal(tb testing.TB, app core.App, id string) int {
	tb.Helper()
	record, err := app.FindRecordById(c.Orders, id)
	if err != nil {
		tb.Fatal(err)
	}
	return c.NewOrder(record).Total()
}

// TestRefundRefusals: every caller but support, every bad amount or
// reason, and every status with nothing to refund is refused before
// Stripe is asked, and changes nothing.
func TestRefundRefusals(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	url := "/api/v1/orders/" + order + "/refund"
	good := `{"amount":100,"reason":"Scratched on arrival"}`
	cases := []struct {
		name    string
		headers map[string]string
		url     string
		body    string
		status  c.OrderStatus
		want    int
		content string
	}{
		{"guest", nil, url, good, c.StatusPaid, http.StatusUnauthorized, `"status":401`},
		{"the customer", shoptest.Headers(shop.Customer), url, good, c.StatusPaid, http.StatusForbidden, `refund:orders`},
		{"store", shoptest.Headers(shop.Store), url, good, c.StatusPaid, http.StatusForbidden, `refund:orders`},
		{"an unknown order", shoptest.Headers(shop.Support), "/api/v1/orders/nosuchorder0000/refund", good, c.StatusPaid, http.StatusNotFound, `"status":404`},
		{"no reason", shoptest.Headers(shop.Support), url, `{"amount":100}`, c.StatusPaid, http.StatusBadRequest, `"reason":{"code":"validation_required"`},
		{"a blank reason", shoptest.Headers(shop.Support), url, `{"amount":100,"reason":"   "}`, c.StatusPaid, http.StatusBadRequest, `"reason":{"code":"validation_required"`},
		{"a reason over 500 characters", shoptest.Headers(shop.Support), url, `{"reason":"` + strings.Repeat("x", 501) + `"}`, c.StatusPaid, http.StatusBadRequest, `"reason":{"code":"validation_length_out_of_range"`},
		{"a reason with control characters", shoptest.Headers(shop.Support), url, `{"amount":100,"reason":"ok\u0000\u202e"}`, c.StatusPaid, http.StatusBadRequest, `"reason":{"code":"validation_control_character"`},
		{"amount 0", shoptest.Headers(shop.Support), url, `{"amount":0,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":`},
		{"a negative amount", shoptest.Headers(shop.Support), url, `{"amount":-5,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_min_greater_equal_than_required"`},
		{"a fractional amount", shoptest.Headers(shop.Support), url, `{"amount":1.5,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_invalid_type","message":"Must be a whole number."`},
		{"an amount in exponent form", shoptest.Headers(shop.Support), url, `{"amount":1e3,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_invalid_type"`},
		{"an amount past int64", shoptest.Headers(shop.Support), url, `{"amount":99999999999999999999,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_out_of_range"`},
		{"an amount as text", shoptest.Headers(shop.Support), url, `{"amount":"100","reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_invalid_type"`},
		{"a reason as a list", shoptest.Headers(shop.Support), url, `{"reason":["x"]}`, c.StatusPaid, http.StatusBadRequest, `"reason":{"code":"validation_invalid_type","message":"Must be text."`},
		{"a body that is not JSON", shoptest.Headers(shop.Support), url, `{"amount`, c.StatusPaid, http.StatusBadRequest, `The body must be JSON: {\"amount\": 1500`},
		{"something after the JSON", shoptest.Headers(shop.Support), url, `{"amount":100,"reason":"x"}garbage`, c.StatusPaid, http.StatusBadRequest, `The body must be JSON`},
		{"a second JSON value", shoptest.Headers(shop.Support), url, `{"amount":100,"reason":"x"} {"amount":5}`, c.StatusPaid, http.StatusBadRequest, `The body must be JSON`},
		{"an XML body", xmlHeaders(shop.Support), url, `<r><Amount>100</Amount><Reason>x</Reason></r>`, c.StatusPaid, http.StatusUnsupportedMediaType, `Content-Type: application/json`},
		{"more than was paid", shoptest.Headers(shop.Support), url, `{"amount":999999999,"reason":"x"}`, c.StatusPaid, http.StatusBadRequest, `"amount":{"code":"validation_refund_too_large"`},
		{"a pending order", shoptest.Headers(shop.Support), url, good, c.StatusPending, http.StatusConflict, `An order that is pending has nothing to refund`},
		{"a cancelled order", shoptest.Headers(shop.Support), url, good, c.StatusCancelled, http.StatusConflict, `An order that is cancelled has nothing to refund`},
		{"a refunded order", shoptest.Headers(shop.Support), url, good, c.StatusRefunded, http.StatusConflict, `An order that is refunded has nothing to refund`},
	}
	for _, tc := range cases {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Name: tc.name, Method: http.MethodPost, URL: tc.url, Body: strings.NewReader(tc.body), Headers: tc.headers,
			ExpectedStatus: tc.want, ExpectedContent: []string{tc.content},
			TestAppFactory: refundShop(fake, tc.status),
			AfterTestFunc: shoptest.AfterAll(expectRefunded(fake, order, tc.status, 0, 0),
				shoptest.ExpectAuditRows("order.refund", "", 0)),
		}
		s.Test(t)
	}
}

// xmlHeaders are an account's headers with an XML body.
func xmlHeaders(a shoptest.Account) map[string]string {
	h := shoptest.Headers(a)
	h["Content-Type"] = "application/xml"
	return h
}

// TestRefundInPartsThenWhole: a part keeps the status and counts; the rest
// (no amount) makes the order refunded and gives its stock back; then
// there is nothing left. Each refund has its own idempotency key, which
// says what it is: the order, what it had refunded before, the amount.
func TestRefundInPartsThenWhole(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	fake := fakestripe.New(t)
	app := refundShop(fake, c.StatusPaid)(t)
	defer app.Cleanup()
	total := orderTotal(t, app, order)
	if total < 2 {
		t.Fatalf("the paid order's total is %d", total)
	}
	stockBefore, held := physicalStock(t, app, order), heldUnits(t, app, order)
	if held == 0 {
		t.Fatal("the paid order holds no units: the test shows nothing about stock")
	}
	handler := shoptest.ServeShop(t, app)
	refund := func(body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/orders/"+order+"/refund", strings.NewReader(body))
		req.Header.Set("Authorization", shop.Support.Token)
		req.Header.Set("Content-Type", "application/json")
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		return res.Code, res.Body.String()
	}

	if status, body := refund(`{"amount":1,"reason":"Late delivery"}`); status != http.StatusOK || !strings.Contains(body, `"refunded_amount":1,`) ||
		!strings.Contains(body, `"status":"paid"`) {
		t.Fatalf("a part: %d %s", status, body)
	}
	expectRefunded(fake, order, c.StatusPaid, 1, 1)(t, app, nil)
	if got := physicalStock(t, app, order); got != stockBefore {
		t.Fatalf("a partial refund moved stock from %d to %d", stockBefore, got)
	}

	// One unit more than remains.
	if status, body := refund(fmt.Sprintf(`{"amount":%d,"reason":"Too much"}`, total)); status != http.StatusBadRequest ||
		!strings.Contains(body, "validation_refund_too_large") {
		t.Fatalf("one more than remains: %d %s, want 400", status, body)
	}
	expectRefunded(fake, order, c.StatusPaid, 1, 1)(t, app, nil)

	if status, body := refund(`{"reason":"Customer returned it"}`); status != http.StatusOK || !strings.Contains(body, `"status":"refunded"`) {
		t.Fatalf("the rest: %d %s", status, body)
	}
	expectRefunded(fake, order, c.StatusRefunded, total, 2)(t, app, nil)
	refunds := fake.Requests("POST /v1/refunds")
	if len(refunds) != 2 || refunds[0].Form.Get("amount") != "1" || refunds[1].Form.Get("amount") != fmt.Sprint(total-1) ||
		refunds[0].IdempotencyKey != refundKeyFor(order, 0, 1) || refunds[1].IdempotencyKey != refundKeyFor(order, 1, total-1) {
		t.Fatalf("refund requests %+v", refunds)
	}
	if got := physicalStock(t, app, order); got != stockBefore+held || heldUnits(t, app, order) != 0 {
		t.Fatalf("after the whole refund of a paid order stock is %d and items hold %d, want %d and 0",
			got, heldUnits(t, app, order), stockBefore+held)
	}
	record, _ := app.FindRecordById(c.Orders, order)
	if record.GetDateTime(c.OrderRefundedAt).IsZero() {
		t.Fatal("refunded_at is not set")
	}
	shoptest.ExpectAuditRows("order.refund", c.AuditRef(c.Orders, order), 2)(t, app, nil)
	// The customer hears of each: the part, then the whole.
	var emails []string
	for _, job := range shoptest.EmailJobs(t, app, order) {
		emails = append(emails, fmt.Sprintf("%s %d/%d", job.GetString(c.EmailJobTemplate), job.GetInt(c.EmailJobRefund), job.GetInt(c.EmailJobRefundedAmount)))
	}
	slices.Sort(emails)
	if want := []string{c.TemplateOrderPartlyRefunded + " 1/1", c.TemplateOrderRefunded + " 0/0"}; !slices.Equal(emails, want) {
		t.Fatalf("emails queued %v, want %v", emails, want)
	}

	if status, body := refund(`{"reason":"Again"}`); status != http.StatusConflict {
		t.Fatalf("a third refund: %d %s, want 409", status, body)
	}
	expectRefunded(fake, order, c.StatusRefunded, total, 2)(t, app, nil)
}

// TestRefundOfAShippedOrderKeepsItsStock: goods that left keep their
// units out of stock, whole refund or not.
func TestRefundOfAShippedOrderKeepsItsStock(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	fake := fakestripe.New(t)
	var stockBefore int
	s := tests.ApiScenario{
		Method: http.MethodPost, URL: "/api/v1/orders/" + order + "/refund",
		Body: strings.NewReader(`{"reason":"Lost in the post"}`), Headers: shoptest.Headers(shop.Support),
		ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"status":"refunded"`},
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := refundShop(fake, c.StatusShipped)(tb)
			stockBefore = physicalStock(tb, app, order)
			if heldUnits(tb, app, order) == 0 {
				tb.Fatal("the order holds no units: the test shows nothing about stock")
			}
			return app
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			expectRefunded(fake, order, c.StatusRefunded, orderTotal(t, app, order), 1)(t, app, res)
			if got := physicalStock(t, app, order); got != stockBefore {
				t.Fatalf("stock went from %d to %d", stockBefore, got)
			}
		},
	}
	s.Test(t)
}

// TestRefundWhenStripeFailsChangesNothing: 502, the order as it was, the
// claim released (a refund right after goes through).
func TestRefundWhenStripeFailsChangesNothing(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	fake := fakestripe.New(t)
	fake.Fail("POST /v1/refunds", http.StatusInternalServerError)
	s := tests.ApiScenario{
		Method: http.MethodPost, URL: "/api/v1/orders/" + order + "/refund",
		Body: strings.NewReader(`{"amount":1,"reason":"Scratched"}`), Headers: shoptest.Headers(shop.Support),
		ExpectedStatus: http.StatusBadGateway, ExpectedContent: []string{`Stripe could not refund the payment; nothing was changed`},
		TestAppFactory: refundShop(fake, c.StatusPaid),
		AfterTestFunc: shoptest.AfterAll(expectRefunded(fake, order, c.StatusPaid, 0, 0),
			shoptest.ExpectAuditRows("order.refund", "", 0),
			shoptest.ExpectStored(c.Orders, order, c.OrderClaim, "")),
	}
	s.Test(t)
}

// TestTwoRefundsAtOnceRefundOnce: support twice at the same moment (two
// people, or a double click) asks for the whole remaining amount; Stripe
// is asked once, one answer is 200 and the other 409 (the order is held)
// or 409 after (nothing left), and never more than the total is refunded.
func TestTwoRefundsAtOnceRefundOnce(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	for round := range 5 {
		fake := fakestripe.New(t)
		fake.Delay("POST /v1/refunds", 100*time.Millisecond)
		app := refundShop(fake, c.StatusPaid)(t)
		total := orderTotal(t, app, order)
		handler := shoptest.ServeShop(t, app)
		body := fmt.Sprintf(`{"amount":%d,"reason":"Double click"}`, total)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range codes {
			wg.Go(func() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/orders/"+order+"/refund", strings.NewReader(body))
				req.Header.Set("Authorization", shop.Support.Token)
				req.Header.Set("Content-Type", "application/json")
				res := httptest.NewRecorder()
				handler.ServeHTTP(res, req)
				codes[i] = res.Code
			})
		}
		wg.Wait()
		ok := 0
		for _, code := range codes {
			switch code {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
			default:
				t.Fatalf("round %d: answers %v", round, codes)
			}
		}
		if ok != 1 || fake.Calls("POST /v1/refunds") != 1 {
			t.Fatalf("round %d: answers %v, %d Stripe refunds; want one of each", round, codes, fake.Calls("POST /v1/refunds"))
		}
		expectRefunded(fake, order, c.StatusRefunded, total, 1)(t, app, nil)
		app.Cleanup()
	}
}

// physicalStock sums the stock of the order's physical products.
func physicalStock(tb testing.TB, app core.App, order string) int {
	tb.Helper()
	var total int
	err := app.DB().NewQuery(`SELECT COALESCE(SUM(p.stock), 0) FROM {{products}} p
		WHERE p.digital = FALSE AND p.id IN (SELECT product FROM {{order_items}} WHERE [[order]] = {:order})`).
		Bind(dbx.Params{"order": order}).Row(&total)
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

// heldUnits is how many units the order's items hold out of stock.
func heldUnits(tb testing.TB, app core.App, order string) int {
	tb.Helper()
	var n int
	err := app.DB().NewQuery(`SELECT COALESCE(SUM(stock_taken), 0) FROM {{order_items}} WHERE [[order]] = {:order}`).
		Bind(dbx.Params{"order": order}).Row(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestRefundAndCancelAtOnceRefundOnce: one support person refunds the whole
// order while another cancels it (which refunds too): one goes through,
// Stripe is asked once, and the order never counts more than its total.
func TestRefundAndCancelAtOnceRefundOnce(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	for round := range 5 {
		fake := fakestripe.New(t)
		fake.Delay("POST /v1/refunds", 100*time.Millisecond)
		app := refundShop(fake, c.StatusPaid)(t)
		total := orderTotal(t, app, order)
		handler := shoptest.ServeShop(t, app)
		requests := []struct{ url, body string }{
			{"/api/v1/orders/" + order + "/refund", `{"reason":"Refund it all"}`},
			{"/api/v1/orders/" + order + "/cancel", `{"reason":"Cancel it"}`},
		}
		codes := make([]int, len(requests))
		var wg sync.WaitGroup
		for i, r := range requests {
			wg.Go(func() {
				req := httptest.NewRequest(http.MethodPost, r.url, strings.NewReader(r.body))
				req.Header.Set("Authorization", shop.Support.Token)
				req.Header.Set("Content-Type", "application/json")
				res := httptest.NewRecorder()
				handler.ServeHTTP(res, req)
				codes[i] = res.Code
			})
		}
		wg.Wait()
		record, err := app.FindRecordById(c.Orders, order)
		if err != nil {
			t.Fatal(err)
		}
		o := c.NewOrder(record)
		ok := 0
		for _, code := range codes {
			if code == http.StatusOK {
				ok++
			} else if code != http.StatusConflict {
				t.Fatalf("round %d: answers %v", round, codes)
			}
		}
		if ok != 1 || fake.Calls("POST /v1/refunds") != 1 || o.RefundedAmount() != total {
			t.Fatalf("round %d: answers %v, %d Stripe refunds, %d of %d refunded (%s)",
				round, codes, fake.Calls("POST /v1/refunds"), o.RefundedAmount(), total, o.Status())
		}
		want := c.StatusRefunded
		if codes[1] == http.StatusOK {
			want = c.StatusCancelled
		}
		if o.Status() != want {
			t.Fatalf("round %d: answers %v, order %s, want %s", round, codes, o.Status(), want)
		}
		app.Cleanup()
	}
}
