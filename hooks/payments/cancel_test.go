package payments_test

import (
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

// withStripeIds gives an order Stripe ids straight in the database, as a
// test's starting point.
func withStripeIds(tb testing.TB, app core.App, order string, ids dbx.Params) {
	tb.Helper()
	if _, err := app.DB().Update(c.Orders, ids, dbx.HashExp{"id": order}).Execute(); err != nil {
		tb.Fatal(err)
	}
}

// expectOrder checks an order's status and one more field afterwards.
func expectOrder(order string, status c.OrderStatus, field, value string) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		record, err := app.FindRecordById(c.Orders, order)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.NewOrder(record).Status(); got != status {
			t.Fatalf("order is %s, want %s", got, status)
		}
		if field != "" && record.GetString(field) != value {
			t.Fatalf("order %s = %q, want %q", field, record.GetString(field), value)
		}
	}
}

func TestCancelRefusesOrdersPastShipping(t *testing.T) {
	shop := shoptest.Shop()
	for _, status := range []c.OrderStatus{c.StatusShipped, c.StatusDelivered, c.StatusCancelled, c.StatusRefunded} {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Name:            string(status),
			Method:          http.MethodPost,
			URL:             "/api/v1/orders/" + shop.CustomerOrder + "/cancel",
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusConflict,
			ExpectedContent: []string{fmt.Sprintf(`"message":"An order that is %s cannot be cancelled."`, status)},
			TestAppFactory:  checkoutShop(fake),
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				shoptest.SetStatus(t, app, shop.CustomerOrder, status)
			},
			AfterTestFunc: shoptest.AfterAll(expectOrder(shop.CustomerOrder, status, "", ""), shoptest.ExpectAuditRows("order.cancel", "", 0),
				func(t testing.TB, app *tests.TestApp, res *http.Response) {
					if n := len(fake.Requests("")); n != 0 {
						t.Fatalf("Stripe was called %d times", n)
					}
				}),
		}
		s.Test(t)
	}
}

func TestCancelWhoMay(t *testing.T) {
	shop := shoptest.Shop()
	scenarios := []tests.ApiScenario{
		{Name: "guest", ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}},
		{Name: "store", Headers: shoptest.Headers(shop.Store), ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`cancel:orders`}},
		{
			Name: "another customer's order", Headers: shoptest.Headers(shop.Customer2),
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`},
		},
		{
			Name: "support without a reason", Headers: shoptest.Headers(shop.Support),
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"reason":{"code":"validation_required"`},
		},
		{
			Name: "a reason over 500 characters", Headers: shoptest.Headers(shop.Customer),
			Body:           strings.NewReader(`{"reason":"` + strings.Repeat("x", 501) + `"}`),
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"reason":{"code":"validation_length_too_long"`},
		},
		{
			// A form was bound before, its reason dropped, and the order cancelled.
			Name: "a form body", Headers: map[string]string{"Authorization": shop.Customer.Token, "Content-Type": "application/x-www-form-urlencoded"},
			Body:           strings.NewReader(`reason=12`),
			ExpectedStatus: http.StatusUnsupportedMediaType, ExpectedContent: []string{`Content-Type: application/json`},
		},
		{
			Name: "something after the JSON", Headers: shoptest.Headers(shop.Customer),
			Body:           strings.NewReader(`{"reason":"x"}}}}`),
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`The body must be JSON`},
		},
		{
			Name: "an unknown order", Headers: shoptest.Headers(shop.Customer), URL: "/api/v1/orders/nosuchorder0000/cancel",
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`},
		},
	}
	for _, s := range scenarios {
		s.Method = http.MethodPost
		if s.URL == "" {
			s.URL = "/api/v1/orders/" + shop.CustomerOrder + "/cancel"
		}
		s.TestAppFactory = checkoutShop(fakestripe.New(t))
		s.AfterTestFunc = shoptest.AfterAll(expectOrder(shop.CustomerOrder, c.StatusPending, "", ""), shoptest.ExpectAuditRows("order.cancel", "", 0))
		s.Test(t)
	}
}

func TestCancelPendingOrder(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerOrder
	url := "/api/v1/orders/" + order + "/cancel"

	t.Run("without a checkout session it just cancels", func(t *testing.T) {
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"reason":"Ordered by mistake"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"cancelled"`, `"cancel_reason":"Ordered by mistake"`},
			TestAppFactory:  shoptest.Factory, // no Stripe needed
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusCancelled, c.OrderCancelReason, "Ordered by mistake"),
				shoptest.ExpectAuditRows("order.cancel", c.AuditRef(c.Orders, order), 1)),
		}
		s.Test(t)
	})

	t.Run("its open checkout session is expired first", func(t *testing.T) {
		fake := fakestripe.New(t)
		var session string
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"cancelled"`},
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := checkoutShop(fake)(tb)
				session = startSession(tb, fake, order)
				withStripeIds(tb, app, order, dbx.Params{c.OrderStripeSession: session})
				return app
			},
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusCancelled, "", ""), func(t testing.TB, app *tests.TestApp, res *http.Response) {
				calls := fake.Requests("POST /v1/checkout/sessions/{id}/expire")
				if len(calls) != 1 || calls[0].IdempotencyKey != "expire-"+session || fake.Session(session)["status"] != "expired" {
					t.Fatalf("expire calls %+v; session %v", calls, fake.Session(session))
				}
			}),
		}
		s.Test(t)
	})

	t.Run("a session paid meanwhile is a conflict", func(t *testing.T) {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusConflict,
			ExpectedContent: []string{`has just gone through`},
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := checkoutShop(fake)(tb)
				session := startSession(tb, fake, order)
				fake.CompleteSession(session)
				withStripeIds(tb, app, order, dbx.Params{c.OrderStripeSession: session})
				return app
			},
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusPending, "", ""), shoptest.ExpectAuditRows("order.cancel", "", 0)),
		}
		s.Test(t)
	})

	t.Run("Stripe down leaves the order pending", func(t *testing.T) {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadGateway,
			ExpectedContent: []string{`Stripe could not close the checkout`},
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := checkoutShop(fake)(tb)
				session := startSession(tb, fake, order)
				fake.Fail("POST /v1/checkout/sessions/{id}/expire", http.StatusInternalServerError)
				fake.Fail("GET /v1/checkout/sessions/{id}", http.StatusInternalServerError)
				withStripeIds(tb, app, order, dbx.Params{c.OrderStripeSession: session})
				return app
			},
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusPending, "", ""), shoptest.ExpectAuditRows("order.cancel", "", 0)),
		}
		s.Test(t)
	})
}

// startSession opens a Checkout Session at the fake for an order, as a
// checkout would have.
func startSession(tb testing.TB, fake *fakestripe.Server, order string) string {
	tb.Helper()
	res, err := http.PostForm(fake.URL+"/v1/checkout/sessions", map[string][]string{"client_reference_id": {order}, "mode": {"payment"}})
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	calls := fake.Requests("POST /v1/checkout/sessions")
	return fmt.Sprintf("cs_test_%d", len(calls))
}

func TestCancelPaidOrderRefunds(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	url := "/api/v1/orders/" + order + "/cancel"
	paid := func(fake *fakestripe.Server) func(testing.TB) *tests.TestApp {
		return func(tb testing.TB) *tests.TestApp {
			app := checkoutShop(fake)(tb)
			withStripeIds(tb, app, order, dbx.Params{c.OrderStripePaymentIntent: "pi_paid_1"})
			return app
		}
	}

	t.Run("the refund is made, then the order cancelled", func(t *testing.T) {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"reason":"Too late for the party"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"cancelled"`, `"stripe_refund":"re_`},
			TestAppFactory:  paid(fake),
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusCancelled, c.OrderCancelReason, "Too late for the party"),
				shoptest.ExpectAuditRows("order.cancel", c.AuditRef(c.Orders, order), 1),
				func(t testing.TB, app *tests.TestApp, res *http.Response) {
					calls := fake.Requests("POST /v1/refunds")
					total := orderTotal(t, app, order)
					if len(calls) != 1 || calls[0].Form.Get("payment_intent") != "pi_paid_1" || calls[0].Form.Get("amount") != fmt.Sprint(total) ||
						calls[0].Form.Get("metadata[order_id]") != order || calls[0].IdempotencyKey != refundKeyFor(order, 0, total) ||
						calls[0].Form.Get("metadata[refund_key]") != calls[0].IdempotencyKey {
						t.Fatalf("refund requests %+v", calls)
					}
				}),
		}
		s.Test(t)
	})

	t.Run("a failed refund leaves the order paid", func(t *testing.T) {
		fake := fakestripe.New(t)
		fake.Fail("POST /v1/refunds", http.StatusInternalServerError)
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadGateway,
			ExpectedContent: []string{`Stripe could not refund the payment`},
			TestAppFactory:  paid(fake),
			AfterTestFunc: shoptest.AfterAll(expectOrder(order, c.StatusPaid, c.OrderStripeRefund, ""),
				shoptest.ExpectAuditRows("order.cancel", "", 0)),
		}
		s.Test(t)
	})

	t.Run("support cancels with a reason", func(t *testing.T) {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"reason":"Customer called: wrong size"}`),
			Headers:         shoptest.Headers(shop.Support),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"cancelled"`},
			TestAppFactory:  paid(fake),
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				entry, err := app.FindFirstRecordByData(c.AuditLog, c.AuditAction, "order.cancel")
				if err != nil {
					t.Fatal(err)
				}
				if entry.GetString(c.AuditActor) != c.AuditRef(c.Users, shop.Support.ID) ||
					!strings.Contains(entry.GetString(c.AuditData), "wrong size") {
					t.Fatalf("audit entry %v", entry.PublicExport())
				}
			},
		}
		s.Test(t)
	})

	t.Run("without a payment intent there is nothing to refund", func(t *testing.T) {
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusConflict,
			ExpectedContent: []string{`no Stripe payment on record`},
			TestAppFactory:  checkoutShop(fakestripe.New(t)),
			AfterTestFunc:   expectOrder(order, c.StatusPaid, "", ""),
		}
		s.Test(t)
	})

	t.Run("without Stripe keys a refund cannot be made", func(t *testing.T) {
		s := tests.ApiScenario{
			Method: http.MethodPost, URL: url,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusServiceUnavailable,
			ExpectedContent: []string{`STRIPE_SECRET_KEY`},
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := shoptest.NewApp(tb)
				withStripeIds(tb, app, order, dbx.Params{c.OrderStripePaymentIntent: "pi_paid_1"})
				return app
			},
			AfterTestFunc: expectOrder(order, c.StatusPaid, "", ""),
		}
		s.Test(t)
	})
}

// TestCancellingAPaidOrderReturnsItsStock: the refund puts the units the
// paid order holds back on the shelf.
func TestCancellingAPaidOrderReturnsItsStock(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	fake := fakestripe.New(t)
	stockBefore := map[string]int{}
	s := tests.ApiScenario{
		Method: http.MethodPost, URL: "/api/v1/orders/" + order + "/cancel",
		Headers:         shoptest.Headers(shop.Customer),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"status":"cancelled"`},
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := checkoutShop(fake)(tb)
			withStripeIds(tb, app, order, dbx.Params{c.OrderStripePaymentIntent: "pi_stock"})
			// as its checkout reserved them
			if _, err := app.DB().NewQuery("UPDATE order_items SET stock_taken = quantity WHERE [[order]] = {:o} AND product IN (SELECT id FROM products WHERE digital = FALSE)").
				Bind(dbx.Params{"o": order}).Execute(); err != nil {
				tb.Fatal(err)
			}
			items, _ := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order})
			for _, it := range items {
				stockBefore[it.GetString(c.ItemProduct)] = product(tb, app, it.GetString(c.ItemProduct)).Stock()
			}
			return app
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			items, _ := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order})
			physical := 0
			for _, it := range items {
				p := product(t, app, it.GetString(c.ItemProduct))
				want := stockBefore[p.Id]
				if !p.Digital() {
					want += it.GetInt(c.ItemQuantity)
					physical++
				}
				if p.Stock() != want {
					t.Errorf("product %s stock %d, want %d", p.Id, p.Stock(), want)
				}
			}
			if physical == 0 {
				t.Fatal("the paid order has no physical item to check")
			}
		},
	}
	s.Test(t)
}
