package webhooks_test

import (
	"os"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/apicheck"
	"shopdash/internal/shoptest"
)

// TestEveryEventPayloadIsDocumented makes one delivery of each event type
// the way the shop does (orders placed, paid, shipped, delivered,
// cancelled and refunded, products created, changed and deleted, an
// account deleted, which also blanks its orders' payloads) and validates
// every stored body against the committed document's webhooks section:
// a payload that gains, loses or changes a field fails here until the
// document says so (go test ./hooks/apidoc/ -run TestCommittedDocumentIsCurrent -update).
func TestEveryEventPayloadIsDocumented(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, _ := webhookShop(t, hooks.Config{})
	addEndpoint(t, app, "http://127.0.0.1:9/")

	placed, _ := copyOrder(t, app, shop.CustomerOrder, "SD-WEBH-DOC1")
	shoptest.MoveOrder(t, app, placed.Id, c.StatusCancelled)
	for _, status := range []c.OrderStatus{c.StatusPaid, c.StatusShipped, c.StatusDelivered} {
		shoptest.MoveOrder(t, app, shop.CustomerOrder, status)
	}
	shoptest.MoveOrder(t, app, shop.Customer2Order, c.StatusPaid)
	order, err := app.FindRecordById(c.Orders, shop.Customer2Order)
	if err != nil {
		t.Fatal(err)
	}
	order.Set(c.OrderRefundedAmount, 100)
	if err := app.Save(order); err != nil {
		t.Fatal(err)
	}

	products, _ := app.FindCollectionByNameOrId(c.Products)
	product := core.NewRecord(products)
	product.Set(c.ProductName, "Webhook Mug")
	product.Set(c.ProductPrice, 1200)
	product.Set(c.ProductCurrency, "usd")
	product.Set(c.ProductStock, 3)
	if err := app.Save(product); err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductPrice, 1300)
	if err := app.Save(product); err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(product); err != nil {
		t.Fatal(err)
	}
	customer, err := app.FindRecordById(c.Users, shop.Customer2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(customer); err != nil {
		t.Fatal(err)
	}

	checker, err := apicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, row := range deliveries(t, app, nil) {
		body := []byte(row.GetString(c.DeliveryPayload))
		if err := checker.CheckWebhook(body); err != nil {
			t.Error(err)
		}
		if os.Getenv("SHOPDASH_PRINT_PAYLOADS") != "" {
			t.Logf("%s", body)
		}
		seen = append(seen, row.GetString(c.DeliveryType))
	}
	for _, kind := range c.WebhookEventTypes {
		if !slices.Contains(seen, kind) {
			t.Errorf("no %s delivery was made", kind)
		}
	}
}
