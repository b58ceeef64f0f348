package payments_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// TestChargeRefundedFollowsTheRefundedAmount: a refund made in Stripe's
// dashboard, in two parts, is counted as Stripe counts it (the charge's
// cumulative amount_refunded); the order stays paid until nothing is left,
// and a repeated or older event never lowers the count.
func TestChargeRefundedFollowsTheRefundedAmount(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	rig := refusalRig(t)
	shoptest.WebhookSetFields(t, rig.App, c.Orders, order, dbx.Params{c.OrderStripePaymentIntent: "pi_dash", c.OrderTotal: 5000})
	charge := func(refunded int, whole bool) map[string]any {
		return map[string]any{"id": "ch_dash", "object": "charge", "payment_intent": "pi_dash", "amount": 5000,
			"amount_refunded": refunded, "refunded": whole,
			"refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": "re_dash_1", "object": "refund"}}}}
	}
	expect := func(status c.OrderStatus, refunded int) {
		t.Helper()
		rig.Check(t, shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, status),
			shoptest.ExpectStored(c.Orders, order, c.OrderRefundedAmount, refunded))
	}
	rig.Deliver(t, "evt_dash_1", "charge.refunded", charge(1000, false), true)
	expect(c.StatusPaid, 1000)
	rig.Deliver(t, "evt_dash_0", "charge.refunded", charge(400, false), true) // older, arriving late
	expect(c.StatusPaid, 1000)
	rig.Deliver(t, "evt_dash_2", "charge.refunded", charge(5000, true), true)
	expect(c.StatusRefunded, 5000)
}

// TestInvoicePaidKeepsTheReceipt: the invoice's hosted page becomes the
// order's receipt link, on an order already paid by its session too; a
// link that is not https is not kept.
func TestInvoicePaidKeepsTheReceipt(t *testing.T) {
	shop := shoptest.Shop()
	rig := refusalRig(t)
	invoice := func(id, order, link string) map[string]any {
		return map[string]any{"id": id, "object": "invoice", "status": "paid", "customer_email": shop.Customer.Email,
			"amount_paid": 999999, "currency": "usd", "created": time.Now().Unix(), "hosted_invoice_url": link,
			"metadata": map[string]any{"order_id": order}}
	}
	rig.Deliver(t, "evt_receipt_1", "invoice.paid", invoice("in_receipt_1", shop.CustomerPaidOrder, "https://invoice.stripe.com/i/acct_1/test_1"), true)
	rig.Check(t, shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderReceiptURL, "https://invoice.stripe.com/i/acct_1/test_1"),
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid))

	rig.Deliver(t, "evt_receipt_2", "invoice.paid", invoice("in_receipt_2", "", "javascript:alert(1)"), true)
	made, err := rig.App.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, "in_receipt_2")
	if err != nil {
		t.Fatal(err)
	}
	if made.GetString(c.OrderReceiptURL) != "" {
		t.Fatalf("receipt_url %q kept", made.GetString(c.OrderReceiptURL))
	}
}

// TestPushAgain: store asks for a product's push again; the product goes
// back to pending and the push runs; a synced product is a 409; others
// may not ask.
func TestPushAgain(t *testing.T) {
	shop := shoptest.Shop()
	product := shop.PhysicalProduct
	url := "/api/v1/products/" + product + "/push"
	failed := func(fake *fakestripe.Server, state string) func(testing.TB) *tests.TestApp {
		return func(tb testing.TB) *tests.TestApp {
			app := checkoutShop(fake)(tb)
			if _, err := app.DB().Update(c.Products, dbx.Params{c.ProductStripeSync: state}, dbx.HashExp{"id": product}).Execute(); err != nil {
				tb.Fatal(err)
			}
			return app
		}
	}
	fake := fakestripe.New(t)
	s := tests.ApiScenario{
		Name: "store pushes a failed product", Method: http.MethodPost, URL: url, Headers: shoptest.Headers(shop.Store),
		ExpectedStatus: http.StatusAccepted, ExpectedContent: []string{`"stripe_sync":"pending"`},
		TestAppFactory: failed(fake, c.StripeSyncFailed),
		AfterTestFunc: shoptest.AfterAll(shoptest.ExpectAuditRows("product.push", c.AuditRef(c.Products, product), 1),
			func(t testing.TB, app *tests.TestApp, res *http.Response) {
				deadline := time.Now().Add(5 * time.Second)
				for {
					record, err := app.FindRecordById(c.Products, product)
					if err != nil {
						t.Fatal(err)
					}
					if record.GetString(c.ProductStripeSync) == c.StripeSyncSynced && fake.Calls("POST /v1/products") > 0 {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the product is %s after 5 s; Stripe saw %d product creates",
							record.GetString(c.ProductStripeSync), fake.Calls("POST /v1/products"))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}),
	}
	s.Test(t)

	for _, tc := range []struct {
		name    string
		headers map[string]string
		state   string
		want    int
		content string
	}{
		{"a synced product", shoptest.Headers(shop.Store), c.StripeSyncSynced, http.StatusConflict, `already up to date`},
		{"support", shoptest.Headers(shop.Support), c.StripeSyncFailed, http.StatusForbidden, `update:products`},
		{"a customer", shoptest.Headers(shop.Customer), c.StripeSyncFailed, http.StatusForbidden, `update:products`},
		{"a guest", nil, c.StripeSyncFailed, http.StatusUnauthorized, `"status":401`},
	} {
		fake := fakestripe.New(t)
		s := tests.ApiScenario{
			Name: tc.name, Method: http.MethodPost, URL: url, Headers: tc.headers,
			ExpectedStatus: tc.want, ExpectedContent: []string{tc.content},
			TestAppFactory: failed(fake, tc.state),
			AfterTestFunc: shoptest.AfterAll(shoptest.ExpectStored(c.Products, product, c.ProductStripeSync, tc.state),
				shoptest.ExpectAuditRows("product.push", "", 0),
				func(t testing.TB, app *tests.TestApp, res *http.Response) {
					if n := fake.Calls("POST /v1/products"); n != 0 {
						t.Fatalf("Stripe was asked %d times", n)
					}
				}),
		}
		s.Test(t)
	}

	s = tests.ApiScenario{
		Name: "without Stripe", Method: http.MethodPost, URL: url, Headers: shoptest.Headers(shop.Store),
		ExpectedStatus: http.StatusServiceUnavailable, ExpectedContent: []string{`STRIPE_SECRET_KEY`},
		TestAppFactory: shoptest.Factory,
	}
	s.Test(t)
}

// TestPushAgainKeepsAnEditMadeMeanwhile: the push route marks the product
// with a conditional update of its Stripe state alone: a store edit of the
// price committed between its read and its write stays (it was written
// back over by a save of the record read before), and is pushed; pushes at
// once mark it once.
func TestPushAgainKeepsAnEditMadeMeanwhile(t *testing.T) {
	shop := shoptest.Shop()
	product := shop.PhysicalProduct
	for round := range 6 {
		fake := fakestripe.New(t)
		fake.Delay("POST /v1/products", 50*time.Millisecond)
		app := checkoutShop(fake)(t)
		if _, err := app.DB().Update(c.Products, dbx.Params{c.ProductStripeSync: c.StripeSyncFailed}, dbx.HashExp{"id": product}).Execute(); err != nil {
			t.Fatal(err)
		}
		handler := shoptest.ServeShop(t, app)
		send := func(method, url, body string) int {
			req := httptest.NewRequest(method, url, strings.NewReader(body))
			req.Header.Set("Authorization", shop.Store.Token)
			req.Header.Set("Content-Type", "application/json")
			res := httptest.NewRecorder()
			handler.ServeHTTP(res, req)
			return res.Code
		}
		price := 1000 + round
		var wg sync.WaitGroup
		codes := make([]int, 6)
		for i := range codes {
			wg.Go(func() { codes[i] = send(http.MethodPost, "/api/v1/products/"+product+"/push", "") })
		}
		var edit int
		wg.Go(func() {
			edit = send(http.MethodPatch, "/api/collections/products/records/"+product, fmt.Sprintf(`{"price":%d}`, price))
		})
		wg.Wait()
		accepted := 0
		for _, code := range codes {
			switch code {
			case http.StatusAccepted:
				accepted++
			case http.StatusConflict:
			default:
				t.Fatalf("round %d: push answers %v", round, codes)
			}
		}
		record, err := app.FindRecordById(c.Products, product)
		if err != nil {
			t.Fatal(err)
		}
		if edit != http.StatusOK || record.GetInt(c.ProductPrice) != price {
			t.Fatalf("round %d: the edit answered %d and the price is %d, want %d", round, edit, record.GetInt(c.ProductPrice), price)
		}
		if accepted > 2 {
			t.Fatalf("round %d: %d pushes accepted at once (%v)", round, accepted, codes)
		}
		// The edit reached Stripe too, whether it came during a claim (the
		// claim's push runs again) or after: the push that ends synced sent
		// the edited price.
		pushWait(t, app, product, c.StripeSyncSynced)
		prices := fake.Requests("POST /v1/prices")
		if len(prices) == 0 || prices[len(prices)-1].Form.Get("unit_amount") != fmt.Sprint(price) {
			var sent []string
			for _, r := range prices {
				sent = append(sent, r.Form.Get("unit_amount"))
			}
			t.Fatalf("round %d: prices sent to Stripe %v, want the last to be %d", round, sent, price)
		}
		app.Cleanup()
	}
}
