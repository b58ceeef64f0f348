package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// stockSet gives a product a known stock, past the hooks.
func stockSet(t *testing.T, rig *shoptest.WebhookRig, productID string, stock int) {
	t.Helper()
	shoptest.WebhookSetFields(t, rig.App, c.Products, productID, dbx.Params{c.ProductStock: stock})
}

// stockHeld is the product's stock plus what order items hold of it: what
// the shop was given to sell, which no sequence of events may change.
func stockHeld(t *testing.T, rig *shoptest.WebhookRig, productID string) (stock, held int) {
	t.Helper()
	err := rig.App.DB().NewQuery(`SELECT p.stock, COALESCE((SELECT SUM(i.stock_taken) FROM order_items i WHERE i.product = p.id), 0)
		FROM products p WHERE p.id = {:id}`).Bind(dbx.Params{"id": productID}).Row(&stock, &held)
	if err != nil {
		t.Fatal(err)
	}
	return stock, held
}

// stockExpect checks a product's stock and what its items hold.
func stockExpect(t *testing.T, rig *shoptest.WebhookRig, productID string, wantStock, wantHeld int) {
	t.Helper()
	stock, held := stockHeld(t, rig, productID)
	if stock != wantStock || held != wantHeld {
		t.Fatalf("product stock %d with %d held by orders, want %d with %d held", stock, held, wantStock, wantHeld)
	}
}

// stockCheckout starts a checkout of units of a product as the customer.
func stockCheckout(t *testing.T, rig *shoptest.WebhookRig, account shoptest.Account, productID string, units int) (int, map[string]any) {
	t.Helper()
	status, body := rig.Send(t, http.MethodPost, "/api/v1/checkout",
		fmt.Sprintf(`{"items":[{"product":%q,"quantity":%d}]}`, productID, units), shoptest.Headers(account))
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return status, out
}

// stockOrdered checks out units of a product as the customer and fails
// the test unless an order was made.
func stockOrdered(t *testing.T, rig *shoptest.WebhookRig, account shoptest.Account, productID string, units int) map[string]any {
	t.Helper()
	status, out := stockCheckout(t, rig, account, productID, units)
	if status != http.StatusCreated {
		t.Fatalf("checkout: %d %v", status, out)
	}
	return out
}

// stockPay delivers checkout.session.completed for the order of a
// checkout answer, as Stripe does once the customer paid.
func stockPay(t *testing.T, rig *shoptest.WebhookRig, eventID string, checkout map[string]any) string {
	t.Helper()
	session := rig.Fake.CompleteSession(checkout["session_id"].(string))
	rig.Deliver(t, eventID, "checkout.session.completed", session, true)
	return session["payment_intent"].(string)
}

// stockOrderID is the order id of a checkout answer.
func stockOrderID(checkout map[string]any) string {
	return checkout["order"].(map[string]any)["id"].(string)
}

// TestTwentyCheckoutsForTwoUnitsMakeTwoOrders: checkouts reserve stock
// with one conditional update each, so twenty at once for the last two
// units make two orders; the other eighteen get 400 on the item and their
// sessions are expired. However often the two are then cancelled,
// expired or refunded, the stock comes back to exactly two.
func TestTwentyCheckoutsForTwoUnitsMakeTwoOrders(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	product := shop.PhysicalProduct
	race := func(t *testing.T, rig *shoptest.WebhookRig) []map[string]any {
		t.Helper()
		stockSet(t, rig, product, 2)
		var mu sync.Mutex
		var wg sync.WaitGroup
		var made []map[string]any
		refused := 0
		for i := range 20 {
			account := shop.Customer
			if i%2 == 1 {
				account = shop.Customer2
			}
			wg.Go(func() {
				status, out := stockCheckout(t, rig, account, product, 1)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == http.StatusCreated:
					made = append(made, out)
				case status == http.StatusBadRequest && strings.Contains(fmt.Sprint(out["data"]), "validation_out_of_stock"):
					refused++
				default:
					t.Errorf("checkout answered %d %v", status, out)
				}
			})
		}
		wg.Wait()
		if len(made) != 2 || refused != 18 {
			t.Fatalf("%d orders made and %d refused out of stock, want 2 and 18", len(made), refused)
		}
		stockExpect(t, rig, product, 0, 2)
		sessions := len(rig.Fake.Requests("POST /v1/checkout/sessions"))
		expired := len(rig.Fake.Requests("POST /v1/checkout/sessions/{id}/expire"))
		if sessions-expired != 2 {
			t.Fatalf("%d sessions opened and %d expired: the refused checkouts must leave no open session", sessions, expired)
		}
		return made
	}

	t.Run("refunded and expired", func(t *testing.T) {
		rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
		made := race(t, rig)
		paid, pending := made[0], made[1]
		intent := stockPay(t, rig, "evt_race_paid", paid)
		stockExpect(t, rig, product, 0, 2)
		charge := map[string]any{"id": "ch_race", "object": "charge", "payment_intent": intent, "refunded": true,
			"amount": 1, "amount_refunded": 1}
		for i := range 3 {
			rig.Deliver(t, fmt.Sprintf("evt_race_refund_%d", i), "charge.refunded", charge, true)
		}
		session := rig.Fake.Session(pending["session_id"].(string))
		for i := range 3 {
			rig.Deliver(t, fmt.Sprintf("evt_race_expired_%d", i), "checkout.session.expired", session, true)
		}
		for _, order := range []string{stockOrderID(paid), stockOrderID(pending)} {
			if status, _ := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{"reason":"again"}`,
				shoptest.Headers(shop.Support)); status != http.StatusConflict {
				t.Fatalf("cancel of a finished order answered %d, want 409", status)
			}
		}
		rig.Check(t,
			shoptest.ExpectStored(c.Orders, stockOrderID(paid), c.OrderStatusField, c.StatusRefunded),
			shoptest.ExpectStored(c.Orders, stockOrderID(pending), c.OrderStatusField, c.StatusCancelled),
		)
		stockExpect(t, rig, product, 2, 0)
	})

	t.Run("cancelled paid and pending", func(t *testing.T) {
		rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
		made := race(t, rig)
		paid, pending := made[0], made[1]
		intent := stockPay(t, rig, "evt_race_paid", paid)
		for _, order := range []string{stockOrderID(paid), stockOrderID(pending)} {
			for i := range 3 {
				status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+order+"/cancel", `{"reason":"no longer needed"}`,
					shoptest.Headers(shop.Support))
				if want := map[bool]int{true: http.StatusOK, false: http.StatusConflict}[i == 0]; status != want {
					t.Fatalf("cancel %d of order %s answered %d %s, want %d", i+1, order, status, body, want)
				}
			}
		}
		// Stripe's own word on the refund, later, changes nothing more.
		rig.Deliver(t, "evt_race_refund", "charge.refunded", map[string]any{"id": "ch_race", "object": "charge",
			"payment_intent": intent, "refunded": true, "amount": 1, "amount_refunded": 1}, true)
		if refunds := rig.Fake.Refunds(intent); len(refunds) != 1 {
			t.Fatalf("%d refunds of the payment, want 1", len(refunds))
		}
		stockExpect(t, rig, product, 2, 0)
	})
}

// TestPaidOrderKeepsItsReservedStock: paying an order keeps what its
// checkout reserved and takes nothing more.
func TestPaidOrderKeepsItsReservedStock(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	stockSet(t, rig, shop.PhysicalProduct, 5)
	out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 3)
	stockExpect(t, rig, shop.PhysicalProduct, 2, 3)
	stockPay(t, rig, "evt_keep_paid", out)
	stockExpect(t, rig, shop.PhysicalProduct, 2, 3)
	rig.Check(t, shoptest.ExpectStored(c.Orders, stockOrderID(out), c.OrderStatusField, c.StatusPaid))
}

// TestOrderPlacedBeforeReservationsGivesBackOnlyWhatItTook: a pending
// order of before the upgrade reserved nothing; paying it takes its stock
// if there is enough, and a cancel gives back exactly that. One the stock
// could not cover is sold short and gives back nothing.
func TestOrderPlacedBeforeReservationsGivesBackOnlyWhatItTook(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name                 string
		stock                int
		afterPay, afterHeld  int
		afterCancel          int
		wantPhysicalReturned bool
	}{
		{"stock covers it", shoptest.WebhookPhysicalStock, shoptest.WebhookPhysicalStock - shoptest.WebhookPhysicalQty, shoptest.WebhookPhysicalQty, shoptest.WebhookPhysicalStock, true},
		{"stock ran out meanwhile", 1, 1, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
			shoptest.WebhookStockOrder(t, rig.App)
			stockSet(t, rig, shop.PhysicalProduct, tc.stock)
			rig.Deliver(t, "evt_legacy_paid", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"), true)
			stock, _ := stockHeld(t, rig, shop.PhysicalProduct)
			if stock != tc.afterPay {
				t.Fatalf("stock %d after payment, want %d", stock, tc.afterPay)
			}
			stockExpect(t, rig, shop.PhysicalProduct, tc.afterPay, tc.afterHeld)
			status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+shop.CustomerOrder+"/cancel", `{}`, shoptest.Headers(shop.Customer))
			if status != http.StatusOK {
				t.Fatalf("cancel: %d %s", status, body)
			}
			stockExpect(t, rig, shop.PhysicalProduct, tc.afterCancel, 0)
		})
	}
}

// TestStaleProductSaveKeepsReservations: a product record loaded before
// a checkout reserved units (a store person's open form) and saved after
// it changes the stock by what the writer changed, not back to what it
// read.
func TestStaleProductSaveKeepsReservations(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	stockSet(t, rig, shop.PhysicalProduct, 10)
	stale, err := rig.App.FindRecordById(c.Products, shop.PhysicalProduct)
	if err != nil {
		t.Fatal(err)
	}
	stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 4)
	stale.Set(c.ProductDescription, "Edited while a checkout ran.")
	if err := rig.App.Save(stale); err != nil {
		t.Fatal(err)
	}
	stockExpect(t, rig, shop.PhysicalProduct, 6, 4)
	// the store adds five units to what it saw (10 → 15): five more than now.
	stale.Set(c.ProductStock, 15)
	if err := rig.App.Save(stale); err != nil {
		t.Fatal(err)
	}
	stockExpect(t, rig, shop.PhysicalProduct, 11, 4)
}

// TestStaleOrdersJobGivesBackReservedStock: a checkout never paid gives
// its units back when the stale-orders job cancels it.
func TestStaleOrdersJobGivesBackReservedStock(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	t.Cleanup(app.Cleanup)
	rig := &shoptest.WebhookRig{App: app, Fake: fake, Mux: shoptest.ServeShop(t, app)}
	stockSet(t, rig, shop.PhysicalProduct, 3)
	out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 3)
	stockExpect(t, rig, shop.PhysicalProduct, 0, 3)
	jobsSetCreated(t, app, dbx.HashExp{"id": stockOrderID(out)}, 25*time.Hour)
	for range 2 {
		if _, err := runner.Run(context.Background(), payments.JobStaleOrders, jobs.RunOptions{Trigger: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	rig.Check(t, shoptest.ExpectStored(c.Orders, stockOrderID(out), c.OrderStatusField, c.StatusCancelled))
	stockExpect(t, rig, shop.PhysicalProduct, 3, 0)
}

// TestCheckoutRefusesADownloadTheCustomerOwns: a paid download is the
// customer's for good; buying it again is refused on its line.
func TestCheckoutRefusesADownloadTheCustomerOwns(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	var owned string
	err := rig.App.DB().NewQuery(`SELECT i.product FROM order_items i JOIN products p ON p.id = i.product
		WHERE i.[[order]] = {:o} AND p.digital = TRUE LIMIT 1`).Bind(dbx.Params{"o": shop.CustomerPaidOrder}).Row(&owned)
	if err != nil {
		t.Fatalf("the customer's paid order has no download: %v", err)
	}
	shoptest.WebhookSetFields(t, rig.App, c.Products, owned, dbx.Params{c.ProductActive: true})
	ordersBefore, _ := rig.App.CountRecords(c.Orders)

	status, out := stockCheckout(t, rig, shop.Customer, owned, 1)
	if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["data"]), "validation_already_owned") {
		t.Fatalf("buying an owned download again: %d %v, want 400 validation_already_owned", status, out)
	}
	if orders, _ := rig.App.CountRecords(c.Orders); orders != ordersBefore {
		t.Fatalf("%d orders after a refused checkout, want %d", orders, ordersBefore)
	}
	// Once refunded, it is no longer theirs, and can be bought again.
	shoptest.SetStatus(t, rig.App, shop.CustomerPaidOrder, c.StatusRefunded)
	if status, out := stockCheckout(t, rig, shop.Customer, owned, 1); status != http.StatusCreated {
		t.Fatalf("buying a refunded download again: %d %v", status, out)
	}
}

// TestUnitsComeBackWhateverTheProductBecame: an item gives back what it
// holds even if its product was made a download since.
func TestUnitsComeBackWhateverTheProductBecame(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	stockSet(t, rig, shop.PhysicalProduct, 5)
	out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 2)
	shoptest.WebhookSetFields(t, rig.App, c.Products, shop.PhysicalProduct, dbx.Params{c.ProductDigital: true})
	if status, body := rig.Send(t, http.MethodPost, "/api/v1/orders/"+stockOrderID(out)+"/cancel", `{}`, shoptest.Headers(shop.Customer)); status != http.StatusOK {
		t.Fatalf("cancel: %d %s", status, body)
	}
	stockExpect(t, rig, shop.PhysicalProduct, 5, 0)
}

// TestDeletedOrderGivesItsUnitsBack: a superuser deleting a pending
// order (its items go with it) puts its reserved units back first.
func TestDeletedOrderGivesItsUnitsBack(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	stockSet(t, rig, shop.PhysicalProduct, 3)
	out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 2)
	if status, body := rig.Send(t, http.MethodDelete, "/api/collections/orders/records/"+stockOrderID(out), "",
		shoptest.Headers(shop.Superuser)); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, body)
	}
	stockExpect(t, rig, shop.PhysicalProduct, 3, 0)
}

// TestADownloadIsBoughtOnce: two checkouts of the same download at once,
// or one while another waits for its payment, make one order.
func TestADownloadIsBoughtOnce(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	products, err := rig.App.FindCollectionByNameOrId(c.Products)
	if err != nil {
		t.Fatal(err)
	}
	ebook := core.NewRecord(products)
	ebook.Set(c.ProductName, "A new e-book")
	ebook.Set(c.ProductPrice, 900)
	ebook.Set(c.ProductActive, true)
	ebook.Set(c.ProductDigital, true)
	if err := rig.App.Save(ebook); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	codes := map[int]int{}
	for range 6 {
		wg.Go(func() {
			status, out := stockCheckout(t, rig, shop.Customer, ebook.Id, 1)
			mu.Lock()
			defer mu.Unlock()
			codes[status]++
			if status == http.StatusBadRequest && !strings.Contains(fmt.Sprint(out["data"]), "validation_download_in_checkout") {
				t.Errorf("refused with %v, want validation_download_in_checkout", out["data"])
			}
		})
	}
	wg.Wait()
	if codes[http.StatusCreated] != 1 || codes[http.StatusBadRequest] != 5 {
		t.Fatalf("answers %v, want one 201 and five 400", codes)
	}
}
