package payments_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// importInvoices are invoices of every kind the sync meets: a customer
// known by Stripe customer id, one known only by (verified) email, the
// same email in capitals, an email whose account is not verified, and the
// customer's own pending order paid outside checkout.
func importInvoices() []map[string]any {
	shop := shoptest.Shop()
	created := time.Now().Add(-72 * time.Hour).Truncate(time.Second).Unix()
	invoice := func(id, customer, email string, metadata map[string]any, product string) map[string]any {
		price := map[string]any{"id": "price_" + id, "object": "price", "unit_amount": 700, "currency": "usd"}
		if product != "" {
			price["product"] = product
		}
		inv := map[string]any{
			"id": id, "object": "invoice", "status": "paid", "currency": "usd", "amount_paid": 1400,
			"created": created, "customer_email": email, "customer_name": "Imported Buyer",
			"payment_intent":     "pi_" + id,
			"status_transitions": map[string]any{"paid_at": created + 60},
			"lines": map[string]any{"object": "list", "has_more": false, "data": []any{map[string]any{
				"id": "il_" + id, "object": "line_item", "description": "Imported line",
				"quantity": 2, "amount": 1400, "currency": "usd", "price": price,
			}}},
		}
		if customer != "" {
			inv["customer"] = customer
		}
		if metadata != nil {
			inv["metadata"] = metadata
		}
		return inv
	}
	return []map[string]any{
		invoice("in_imp_customer", "cus_import", "someone-else@example.com", nil, "prod_import"),
		invoice("in_imp_email", "", shop.Customer.Email, nil, ""),
		invoice("in_imp_capitals", "", strings.ToUpper(shop.Customer.Email), nil, ""),
		invoice("in_imp_unverified", "", shop.Customer2.Email, nil, "prod_unknown"),
		invoice("in_imp_checkout", "", shop.Customer.Email, map[string]any{"order_id": shop.CustomerOrder}, ""),
	}
}

// importPrepare gives the shop what the invoices refer to: a Stripe
// customer, a product sold on Stripe, an unverified account, and a pending
// order of what in_imp_checkout pays; with
// anyCase, an email index that ignores case, which PocketBase's email
// lookup then follows.
func importPrepare(t *testing.T, app core.App, anyCase bool) {
	t.Helper()
	shop := shoptest.Shop()
	if anyCase {
		users, err := app.FindCollectionByNameOrId(c.Users)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for i, index := range users.Indexes {
			if strings.Contains(index, "(`email`)") {
				users.Indexes[i] = strings.Replace(index, "(`email`)", "(`email` COLLATE NOCASE)", 1)
				changed = true
			}
		}
		if !changed {
			t.Fatalf("no email index among %v", users.Indexes)
		}
		if err := app.Save(users); err != nil {
			t.Fatal(err)
		}
	}
	shoptest.SaveUser(t, app, shop.Customer.ID, func(u *core.Record) { u.Set(c.UserStripeCustomer, "cus_import") })
	shoptest.SaveUser(t, app, shop.Customer2.ID, func(u *core.Record) { u.SetVerified(false) })
	_, err := app.DB().Update(c.Products, dbx.Params{c.ProductStripeProduct: "prod_import"},
		dbx.HashExp{"id": shop.PhysicalProduct}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	// in_imp_checkout pays the pending order in full.
	_, err = app.DB().Update(c.Orders, dbx.Params{c.OrderTotal: 1400, c.OrderCurrency: "usd"},
		dbx.HashExp{"id": shop.CustomerOrder}).Execute()
	if err != nil {
		t.Fatal(err)
	}
}

// importedOrder is what an invoice became, without the ids and times each
// shop makes up for itself.
type importedOrder struct {
	Order map[string]any
	Items []map[string]any
}

func importRead(t *testing.T, app core.App, invoice string) importedOrder {
	t.Helper()
	order, err := app.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, invoice)
	if err != nil {
		t.Fatalf("order of %s: %v", invoice, err)
	}
	items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order.Id})
	if err != nil {
		t.Fatal(err)
	}
	pick := func(r *core.Record, fields ...string) map[string]any {
		out := map[string]any{}
		for _, f := range fields {
			out[f] = r.Get(f)
		}
		return out
	}
	got := importedOrder{Order: pick(order, "id", c.OrderUser, c.OrderStatusField, c.OrderTotal, c.OrderCurrency,
		c.OrderItemCount, c.OrderCustomerName, c.OrderCustomerEmail, c.OrderStripeInvoice,
		c.OrderStripePaymentIntent, c.OrderPaidAt, c.OrderCreated)}
	if order.Id != shoptest.Shop().CustomerOrder {
		delete(got.Order, "id") // made up by each shop
	}
	for _, item := range items {
		got.Items = append(got.Items, pick(item, c.ItemUser, c.ItemProduct, c.ItemProductName,
			c.ItemUnitPrice, c.ItemQuantity, c.ItemCreated))
	}
	return got
}

// TestSyncImportsInvoicesAsTheWebhookDoes: the sync writes a page of
// invoices at once, past the record hooks, yet every order and item is
// what the invoice.paid webhook makes of the same invoice through them,
// whether emails match exactly (PocketBase's default) or in any case.
func TestSyncImportsInvoicesAsTheWebhookDoes(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name     string
		anyCase  bool
		capitals string // who the invoice with the email in capitals is for
	}{
		{"emails match exactly", false, ""},
		{"emails match in any case", true, shop.Customer.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invoices := importInvoices()
			rig := syncNewRig(t)
			importPrepare(t, rig.app, tc.anyCase)
			rig.fake.AddInvoices(invoices...)
			run := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
			syncExpectRun(t, rig.app, run, c.JobSucceeded, jobs.RunCounts{Fetched: 5, Created: 4, Updated: 1})

			fake := fakestripe.New(t)
			hooked := shoptest.NewAppWith(t, shoptest.StripeConfig(fake.URL))
			defer hooked.Cleanup()
			importPrepare(t, hooked, tc.anyCase)
			handler := shoptest.ServeShop(t, hooked)
			for _, inv := range invoices {
				id := inv["id"].(string)
				payload, signature := shoptest.StripeEvent(t, "evt_"+id, "invoice.paid", inv)
				req := httptest.NewRequest(http.MethodPost, "/api/v1/stripe/webhook", strings.NewReader(string(payload)))
				req.Header.Set("Stripe-Signature", signature)
				res := httptest.NewRecorder()
				handler.ServeHTTP(res, req)
				if res.Code != http.StatusOK {
					t.Fatalf("webhook of %s: %d %s", id, res.Code, res.Body)
				}
			}

			for _, inv := range invoices {
				id := inv["id"].(string)
				synced, webhooked := importRead(t, rig.app, id), importRead(t, hooked, id)
				if !reflect.DeepEqual(synced, webhooked) {
					t.Fatalf("%s:\nsync    %v %v\nwebhook %v %v", id, synced.Order, synced.Items, webhooked.Order, webhooked.Items)
				}
			}

			// And what they are: owners, the product, the checkout order paid.
			for id, owner := range map[string]string{
				"in_imp_customer": shop.Customer.ID, "in_imp_email": shop.Customer.ID, "in_imp_capitals": tc.capitals,
				"in_imp_unverified": "", "in_imp_checkout": shop.Customer.ID,
			} {
				got := importRead(t, rig.app, id)
				if got.Order[c.OrderUser] != owner || got.Order[c.OrderStatusField] != string(c.StatusPaid) {
					t.Errorf("%s: user %v status %v, want %q paid", id, got.Order[c.OrderUser], got.Order[c.OrderStatusField], owner)
				}
			}
			if got := importRead(t, rig.app, "in_imp_checkout"); got.Order["id"] != shop.CustomerOrder {
				t.Errorf("the checkout invoice made order %v, want the customer's order %s", got.Order["id"], shop.CustomerOrder)
			}
			imported := importRead(t, rig.app, "in_imp_customer")
			if len(imported.Items) != 1 || imported.Items[0][c.ItemProduct] != shop.PhysicalProduct ||
				fmt.Sprint(imported.Items[0][c.ItemQuantity]) != "2" || imported.Items[0][c.ItemUser] != shop.Customer.ID {
				t.Errorf("item of in_imp_customer %v, want 2 of product %s for the customer", imported.Items, shop.PhysicalProduct)
			}
			if n := syncCount(t, rig.app, "SELECT COUNT(*) FROM email_jobs WHERE [[order]] IN "+
				"(SELECT id FROM orders WHERE stripe_invoice GLOB 'in_imp_*')", nil); n != 0 {
				t.Errorf("the sync queued %d emails, want none", n)
			}
		})
	}
}

// TestSyncImportShowsInCachedPurchases: orders the sync inserts past the
// record hooks still reach a customer whose purchases page was cached.
func TestSyncImportShowsInCachedPurchases(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := syncNewRig(t)
	handler := shoptest.ServeShop(t, rig.app)
	before := len(shoptest.CachePurchases(t, handler, shop.Customer.Token))

	rig.fake.AddInvoices(syncInvoices(3)...)
	run := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	syncExpectRun(t, rig.app, run, c.JobSucceeded, jobs.RunCounts{Fetched: 3, Created: 3})
	if after := len(shoptest.CachePurchases(t, handler, shop.Customer.Token)); after != before+3 {
		t.Fatalf("%d purchases after the sync, want %d + 3", after, before)
	}
}
