package payments_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// checkoutShop pairs a fresh shop with its own fake Stripe.
func checkoutShop(fake *fakestripe.Server) func(testing.TB) *tests.TestApp {
	return func(tb testing.TB) *tests.TestApp {
		return shoptest.NewAppWith(tb, shoptest.StripeConfig(fake.URL))
	}
}

// product reads a product of the template shop.
func product(tb testing.TB, app core.App, id string) *c.Product {
	tb.Helper()
	record, err := app.FindRecordById(c.Products, id)
	if err != nil {
		tb.Fatal(err)
	}
	return c.NewProduct(record)
}

// expectNoNewOrder checks that a refused checkout left the orders and
// items as the template had them.
func expectNoNewOrder(t testing.TB, app *tests.TestApp, res *http.Response) {
	t.Helper()
	shop := shoptest.Shop()
	orders, _ := app.CountRecords(c.Orders)
	items, _ := app.CountRecords(c.OrderItems)
	if int(orders) != shop.Orders || int(items) != shop.Items {
		t.Fatalf("%d orders and %d items after a refused checkout, want %d and %d", orders, items, shop.Orders, shop.Items)
	}
}

func TestCheckoutRefusesBadItems(t *testing.T) {
	shop := shoptest.Shop()
	line := func(product string, quantity int) string {
		return fmt.Sprintf(`{"product":%q,"quantity":%d}`, product, quantity)
	}
	body := func(lines ...string) string { return `{"items":[` + strings.Join(lines, ",") + `]}` }
	many := make([]string, 21)
	for i := range many {
		many[i] = line(shop.PhysicalProduct, 1)
	}
	cases := []struct {
		name, body string
		want       []string
	}{
		{"no items", `{"items":[]}`, []string{`"items":{"code":"validation_required"`}},
		{"no body", ``, []string{`"items":{"code":"validation_required"`}},
		{"21 lines", body(many...), []string{`"items":{"code":"validation_length_out_of_range"`}},
		{"unknown product", body(line("nosuchproduct00", 1)), []string{`"items":{"0":{"product":{"code":"validation_unknown_product"`}},
		{"inactive product", body(line(shop.InactiveProduct, 1)), []string{`"product":{"code":"validation_unknown_product"`}},
		{"quantity zero", body(line(shop.PhysicalProduct, 0)), []string{`"items":{"0":{"quantity":{"code":"validation_required"`}},
		{"negative quantity", body(line(shop.PhysicalProduct, -2)), []string{`"quantity":{"code":"validation_min_greater_equal_than_required"`}},
		{"more than the stock", body(line(shop.PhysicalProduct, 1000)), []string{`"quantity":{"code":"validation_out_of_stock"`, `left in stock`}},
		{"the same product twice", body(line(shop.PhysicalProduct, 1), line(shop.PhysicalProduct, 1)), []string{`"1":{"product":{"code":"validation_duplicate_product"`}},
		{"a missing product id", body(`{"quantity":1}`), []string{`"0":{"product":{"code":"validation_required"`}},
		{"a fractional quantity", body(fmt.Sprintf(`{"product":%q,"quantity":1.5}`, shop.PhysicalProduct)), []string{`"items":{"0":{"quantity":{"code":"validation_invalid_type"`}},
		{"a product id as a number", body(`{"product":7,"quantity":1}`), []string{`"items":{"0":{"product":{"code":"validation_invalid_type","message":"Must be text."`}},
		{"items as an object", `{"items":{"product":"x"}}`, []string{`"items":{"code":"validation_invalid_type","message":"Must be a list."`}},
		{"not JSON", `items=1`, []string{`"message":"The body must be JSON`}},
	}
	for _, tc := range cases {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Name:            tc.name,
			Method:          http.MethodPost,
			URL:             "/api/v1/checkout",
			Body:            strings.NewReader(tc.body),
			Headers:         map[string]string{"Authorization": shop.Customer.Token, "Content-Type": "application/json"},
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: tc.want,
			TestAppFactory:  checkoutShop(fake),
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				expectNoNewOrder(t, app, res)
				if n := len(fake.Requests("")); n != 0 {
					t.Fatalf("Stripe was called %d times for a refused checkout", n)
				}
			},
		}
		s.Test(t)
	}
}

func TestCheckoutRefusesMixedCurrencyAndDigitalQuantities(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	s := tests.ApiScenario{
		Name:   "a download bought twice and a product in another currency",
		Method: http.MethodPost,
		URL:    "/api/v1/checkout",
		Body: strings.NewReader(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1},{"product":%q,"quantity":2},{"product":%q,"quantity":1}]}`,
			shop.PhysicalProduct, shop.DigitalProduct, shop.SecondPhysicalProduct)),
		Headers: shoptest.Headers(shop.Customer),
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := checkoutShop(fake)(tb)
			_, err := app.DB().Update(c.Products, dbx.Params{c.ProductCurrency: "eur"}, dbx.HashExp{"id": shop.SecondPhysicalProduct}).Execute()
			if err != nil {
				tb.Fatal(err)
			}
			return app
		},
		ExpectedStatus: http.StatusBadRequest,
		ExpectedContent: []string{
			`"1":{"quantity":{"code":"validation_digital_quantity"`,
			`"2":{"product":{"code":"validation_mixed_currency"`,
		},
		AfterTestFunc: expectNoNewOrder,
	}
	s.Test(t)
}

func TestCheckoutWhoMayBuy(t *testing.T) {
	shop := shoptest.Shop()
	body := fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, shop.PhysicalProduct)
	scenarios := []tests.ApiScenario{
		{Name: "guest", Headers: nil, ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}},
		{Name: "support", Headers: shoptest.Headers(shop.Support), ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`create:orders`}},
		{Name: "store", Headers: shoptest.Headers(shop.Store), ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`create:orders`}},
		{Name: "superuser", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`"status":403`}},
	}
	for _, s := range scenarios {
		fake := fakestripe.New(t)
		s.Method, s.URL, s.Body = http.MethodPost, "/api/v1/checkout", strings.NewReader(body)
		s.TestAppFactory = checkoutShop(fake)
		s.AfterTestFunc = expectNoNewOrder
		s.Test(t)
	}

	noStripe := tests.ApiScenario{
		Name:            "a shop without Stripe keys",
		Method:          http.MethodPost,
		URL:             "/api/v1/checkout",
		Body:            strings.NewReader(body),
		Headers:         shoptest.Headers(shop.Customer),
		ExpectedStatus:  http.StatusServiceUnavailable,
		ExpectedContent: []string{`STRIPE_SECRET_KEY`},
		TestAppFactory:  shoptest.Factory,
		AfterTestFunc:   expectNoNewOrder,
	}
	noStripe.Test(t)
}

// checkoutResponse is the 201 body of a checkout.
type checkoutResponse struct {
	Order struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Total  int    `json:"total"`
	} `json:"order"`
	CheckoutURL string `json:"checkout_url"`
	SessionID   string `json:"session_id"`
}

func TestCheckoutCreatesPendingOrderAndSession(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	s := tests.ApiScenario{
		Method: http.MethodPost,
		URL:    "/api/v1/checkout",
		// A price in the body is ignored: prices come from the products.
		Body: strings.NewReader(fmt.Sprintf(`{"items":[{"product":%q,"quantity":2,"unit_price":1}]}`, shop.PhysicalProduct)),
		// Forged host headers must not reach the return links.
		Headers:         map[string]string{"Authorization": shop.Customer.Token, "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
		ExpectedStatus:  http.StatusCreated,
		ExpectedContent: []string{`"checkout_url":"https://checkout.stripe.test/c/pay/cs_test_`, `"status":"pending"`},
		TestAppFactory:  checkoutShop(fake),
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			var got checkoutResponse
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			p := product(t, app, shop.PhysicalProduct)
			order, err := app.FindRecordById(c.Orders, got.Order.ID)
			if err != nil {
				t.Fatalf("order %s not stored: %v", got.Order.ID, err)
			}
			o := c.NewOrder(order)
			if o.Status() != c.StatusPending || o.Total() != 2*p.Price() || o.Currency() != p.Currency() ||
				o.ItemCount() != 2 || o.StripeSession() != got.SessionID || o.UserID() != shop.Customer.ID {
				t.Fatalf("stored order %+v does not match the checkout of 2 × %d %s", order.PublicExport(), p.Price(), p.Currency())
			}
			items, _ := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: o.Id})
			if len(items) != 1 || c.NewOrderItem(items[0]).UnitPrice() != p.Price() || items[0].GetString(c.ItemUser) != shop.Customer.ID {
				t.Fatalf("stored items %v", items)
			}

			calls := fake.Requests("POST /v1/checkout/sessions")
			if len(calls) != 1 {
				t.Fatalf("%d session requests, want 1", len(calls))
			}
			form := calls[0].Form
			want := map[string]string{
				"mode":                "payment",
				"client_reference_id": o.Id,
				"metadata[order_id]":  o.Id,
				"payment_intent_data[metadata][order_id]":            o.Id,
				"invoice_creation[enabled]":                          "true",
				"invoice_creation[invoice_data][metadata][order_id]": o.Id,
				"line_items[0][quantity]":                            "2",
				"line_items[0][price_data][unit_amount]":             fmt.Sprint(p.Price()),
				"line_items[0][price_data][currency]":                p.Currency(),
				"line_items[0][price_data][product_data][name]":      p.Name(),
				"customer_email":                                     "customer@example.com",
				"customer_creation":                                  "always",
				"success_url":                                        shoptest.AppURL + "/?checkout=success&order=" + o.Id,
				"cancel_url":                                         shoptest.AppURL + "/?checkout=cancelled&order=" + o.Id,
			}
			for k, v := range want {
				if got := form.Get(k); got != v {
					t.Errorf("session %s = %q, want %q", k, got, v)
				}
			}
			if key := calls[0].IdempotencyKey; key != "checkout-"+o.Id {
				t.Errorf("idempotency key %q, want checkout-%s", key, o.Id)
			}
		},
	}
	s.Test(t)
}

func TestCheckoutReusesStripeCustomerAndSyncedPrice(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	s := tests.ApiScenario{
		Method:  http.MethodPost,
		URL:     "/api/v1/checkout",
		Body:    strings.NewReader(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, shop.PhysicalProduct)),
		Headers: shoptest.Headers(shop.Customer),
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := checkoutShop(fake)(tb)
			_, err := app.DB().Update(c.Users, dbx.Params{c.UserStripeCustomer: "cus_returning"}, dbx.HashExp{"id": shop.Customer.ID}).Execute()
			if err == nil {
				_, err = app.DB().Update(c.Products, dbx.Params{c.ProductStripePrice: "price_synced", c.ProductStripeSync: c.StripeSyncSynced},
					dbx.HashExp{"id": shop.PhysicalProduct}).Execute()
			}
			if err != nil {
				tb.Fatal(err)
			}
			return app
		},
		ExpectedStatus:  http.StatusCreated,
		ExpectedContent: []string{`"session_id":"cs_test_`},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			form := fake.Requests("POST /v1/checkout/sessions")[0].Form
			if form.Get("customer") != "cus_returning" || form.Get("customer_email") != "" {
				t.Errorf("customer %q, customer_email %q: want the saved Stripe customer only", form.Get("customer"), form.Get("customer_email"))
			}
			if form.Get("line_items[0][price]") != "price_synced" || form.Get("line_items[0][price_data][unit_amount]") != "" {
				t.Errorf("line item %v: want the synced Stripe price", form)
			}
		},
	}
	s.Test(t)
}

func TestCheckoutRedirectsBrowsersToStripe(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	s := tests.ApiScenario{
		Method:         http.MethodPost,
		URL:            "/api/v1/checkout",
		Body:           strings.NewReader(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, shop.PhysicalProduct)),
		Headers:        map[string]string{"Authorization": shop.Customer.Token, "Accept": "text/html,application/xhtml+xml"},
		ExpectedStatus: http.StatusSeeOther,
		TestAppFactory: checkoutShop(fake),
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "https://checkout.stripe.test/c/pay/cs_test_") {
				t.Fatalf("Location %q, want the Checkout Session", loc)
			}
		},
	}
	s.Test(t)
}

func TestCheckoutLeavesNoOrderWhenStripeFails(t *testing.T) {
	shop := shoptest.Shop()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest} {
		fake := fakestripe.New(t)
		fake.Fail("POST /v1/checkout/sessions", status)
		s := tests.ApiScenario{
			Name:            fmt.Sprintf("Stripe answers %d", status),
			Method:          http.MethodPost,
			URL:             "/api/v1/checkout",
			Body:            strings.NewReader(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, shop.PhysicalProduct)),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadGateway,
			ExpectedContent: []string{`"message":"Stripe could not start the payment`},
			TestAppFactory:  checkoutShop(fake),
			AfterTestFunc:   expectNoNewOrder,
		}
		s.Test(t)
	}
}
