package records_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestOrderStatusMachineOnRecordsAPI walks every pair of statuses through
// the records API as a superuser: the moves of CONTRACT §2 pass, every
// other change is refused with 400 and a field error on status.
func TestOrderStatusMachineOnRecordsAPI(t *testing.T) {
	shop := shoptest.Shop()
	allowed := map[[2]c.OrderStatus]bool{
		{c.StatusPending, c.StatusPaid}:       true,
		{c.StatusPaid, c.StatusShipped}:       true,
		{c.StatusShipped, c.StatusDelivered}:  true,
		{c.StatusPending, c.StatusCancelled}:  true,
		{c.StatusPaid, c.StatusCancelled}:     true,
		{c.StatusPaid, c.StatusRefunded}:      true,
		{c.StatusShipped, c.StatusRefunded}:   true,
		{c.StatusDelivered, c.StatusRefunded}: true,
	}
	for _, from := range c.OrderStatuses {
		for _, to := range c.OrderStatuses {
			if from == to {
				continue
			}
			s := tests.ApiScenario{
				Name:           fmt.Sprintf("%s to %s", from, to),
				Method:         http.MethodPatch,
				URL:            "/api/collections/orders/records/" + shop.CustomerOrder,
				Body:           strings.NewReader(moveBody(to)),
				Headers:        shoptest.Headers(shop.Superuser),
				TestAppFactory: shoptest.Factory,
				BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
					shoptest.SetStatus(t, app, shop.CustomerOrder, from)
				},
			}
			if allowed[[2]c.OrderStatus{from, to}] {
				s.ExpectedStatus = http.StatusOK
				s.ExpectedContent = []string{fmt.Sprintf(`"status":%q`, to)}
			} else {
				s.ExpectedStatus = http.StatusBadRequest
				s.ExpectedContent = []string{`"status":{"code":"validation_invalid_transition"`}
				s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
					order, err := app.FindRecordById(c.Orders, shop.CustomerOrder)
					if err != nil {
						t.Fatal(err)
					}
					if got := c.NewOrder(order).Status(); got != from {
						t.Fatalf("refused move changed the status to %s", got)
					}
				}
			}
			s.Test(t)
		}
	}
}

// TestStatusMachineHoldsForAppSave refuses an illegal move made by our own
// code, not only through the API.
func TestStatusMachineHoldsForAppSave(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	order, err := app.FindRecordById(c.Orders, shoptest.Shop().CustomerOrder)
	if err != nil {
		t.Fatal(err)
	}
	order.Set(c.OrderStatusField, string(c.StatusDelivered))
	err = app.Save(order)
	if err == nil || !strings.Contains(err.Error(), "cannot move from pending to delivered") {
		t.Fatalf("pending→delivered saved, error %v", err)
	}
	order.Set(c.OrderStatusField, string(c.StatusPaid))
	if err := app.Save(order); err != nil {
		t.Fatalf("pending→paid refused: %v", err)
	}
	if c.NewOrder(order).GetDateTime(c.OrderPaidAt).IsZero() {
		t.Fatal("paid_at not stamped")
	}
}

// TestSupportsArrivalDateReachesTheItems: the purchases table shows the
// date support sets on the order.
func TestSupportsArrivalDateReachesTheItems(t *testing.T) {
	shop := shoptest.Shop()
	arrival := time.Now().UTC().AddDate(0, 0, 20).Truncate(24 * time.Hour).Format(types.DefaultDateLayout)
	s := tests.ApiScenario{
		Method:          http.MethodPatch,
		URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
		Body:            strings.NewReader(`{"estimated_arrival":"` + arrival + `"}`),
		Headers:         shoptest.Headers(shop.Support),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"estimated_arrival":"` + arrival + `"`},
		TestAppFactory:  shoptest.Factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			items, _ := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: shop.CustomerPaidOrder})
			moved := 0
			for _, it := range items {
				switch got := it.GetString(c.ItemEstimatedArrival); got {
				case arrival:
					moved++
				case "": // a download arrives at once
				default:
					t.Errorf("item %s still arrives %s", it.Id, got)
				}
			}
			if moved == 0 {
				t.Fatal("no item took the new date")
			}
		},
	}
	s.Test(t)
}

// moveBody is a PATCH moving an order to status; a shipment comes with its
// carrier and tracking number (CONTRACT §5).
func moveBody(to c.OrderStatus) string {
	if to == c.StatusShipped {
		return `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`
	}
	return fmt.Sprintf(`{"status":%q}`, to)
}
