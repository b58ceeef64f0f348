package webhooks_test

import (
	"encoding/json"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// payloadData is the data of a delivery's stored body.
func payloadData(t *testing.T, row *core.Record) map[string]any {
	t.Helper()
	var body struct {
		Type string
		Data map[string]any
	}
	if err := json.Unmarshal([]byte(row.GetString(c.DeliveryPayload)), &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != row.GetString(c.DeliveryType) {
		t.Errorf("body type %q in a %s delivery", body.Type, row.GetString(c.DeliveryType))
	}
	return body.Data
}

// TestEachRefundIsAnEvent: a partial refund is order.refunded with its
// amount and the sum so far; a save that refunds nothing more is none;
// the refund of the rest, with the status, is one more.
func TestEachRefundIsAnEvent(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/", c.EventOrderRefunded)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	refund := func(amount int, status c.OrderStatus) {
		err := app.RunInTransaction(func(tx core.App) error {
			order, err := tx.FindRecordById(c.Orders, shop.CustomerOrder)
			if err != nil {
				return err
			}
			order.Set(c.OrderRefundedAmount, order.GetInt(c.OrderRefundedAmount)+amount)
			order.Set(c.OrderStatusField, string(status))
			return tx.Save(order)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	order, _ := app.FindRecordById(c.Orders, shop.CustomerOrder)
	total := order.GetInt(c.OrderTotal)
	refund(100, c.StatusPaid)
	refund(0, c.StatusPaid)
	refund(total-100, c.StatusRefunded)
	rows, err := app.FindRecordsByFilter(c.WebhookDeliveries, "type = 'order.refunded'", "created", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d order.refunded deliveries, want 2", len(rows))
	}
	for i, want := range [][2]int{{100, 100}, {total - 100, total}} {
		data := payloadData(t, rows[i])
		if data["amount"] != float64(want[0]) || data["refunded_amount"] != float64(want[1]) {
			t.Errorf("refund %d: amount %v refunded_amount %v, want %v", i, data["amount"], data["refunded_amount"], want)
		}
	}
}

// TestNewOrderEventCarriesItsItems: an order is saved before its items,
// in one transaction; its order.created carries them all.
func TestNewOrderEventCarriesItsItems(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/", c.EventOrderCreated)
	order, items := copyOrder(t, app, shop.CustomerOrder, "SD-WEBH-OOK1")
	rows := deliveries(t, app, dbx.HashExp{c.DeliveryResource: order.Id})
	if len(rows) != 1 {
		t.Fatalf("%d deliveries of the new order, want its order.created", len(rows))
	}
	data := payloadData(t, rows[0])
	if got := data["items"].([]any); len(got) != len(items) || data["number"] != "SD-WEBH-OOK1" {
		t.Errorf("order.created data: %d items (want %d), number %v", len(got), len(items), data["number"])
	}
}

// copyOrder saves a new order like source, and its items, in one
// transaction, as a checkout does.
func copyOrder(t testing.TB, app core.App, source, number string) (*core.Record, []*core.Record) {
	t.Helper()
	from, err := app.FindRecordById(c.Orders, source)
	if err != nil {
		t.Fatal(err)
	}
	items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: from.Id})
	if err != nil || len(items) == 0 {
		t.Fatalf("items %v %v", items, err)
	}
	order := core.NewRecord(from.Collection())
	order.Load(from.FieldsData())
	order.Id = ""
	order.Set(c.OrderNumber, number)
	order.Set(c.OrderStripeSession, "")
	err = app.RunInTransaction(func(tx core.App) error {
		if err := tx.Save(order); err != nil {
			return err
		}
		for _, it := range items {
			item := core.NewRecord(it.Collection())
			item.Load(it.FieldsData())
			item.Id = ""
			item.Set(c.ItemOrder, order.Id)
			if err := tx.Save(item); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return order, items
}

// TestProductAndCustomerEvents: a product's catalogue change is
// product.updated and its Stripe bookkeeping is not; a customer's deleted
// account is customer.deleted with the id only, a staff account's none.
func TestProductAndCustomerEvents(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/")
	product, err := app.FindRecordById(c.Products, shop.InactiveProduct)
	if err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductStripeSync, c.StripeSyncFailed)
	if err := app.Save(product); err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductPrice, 4321)
	if err := app.Save(product); err != nil {
		t.Fatal(err)
	}
	rows := deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventProductUpdated})
	if len(rows) != 1 || payloadData(t, rows[0])["price"] != float64(4321) {
		t.Errorf("product.updated deliveries: %v, want the price change only", rows)
	}
	if err := app.Delete(product); err != nil {
		t.Fatal(err)
	}
	if rows := deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventProductDeleted, c.DeliveryResource: product.Id}); len(rows) != 1 {
		t.Errorf("%d product.deleted deliveries, want 1", len(rows))
	}

	for _, id := range []string{shop.Customer2.ID, shop.Store.ID} {
		user, err := app.FindRecordById(c.Users, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Delete(user); err != nil {
			t.Fatal(err)
		}
	}
	rows = deliveries(t, app, dbx.HashExp{c.DeliveryType: c.EventCustomerDeleted})
	if len(rows) != 1 {
		t.Fatalf("%d customer.deleted deliveries, want the customer's only", len(rows))
	}
	if data := payloadData(t, rows[0]); len(data) != 1 || data["id"] != shop.Customer2.ID {
		t.Errorf("customer.deleted data = %v, want the id only", data)
	}
}
