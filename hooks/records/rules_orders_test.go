package records_test

import (
	"fmt"
	"net/http"
	"net/url"
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

// Status codes PocketBase's records API answers a refused request with.
// A nil rule (superusers only) is refused outright with 403, whoever asks;
// a non-nil rule that does not match hides the record: list filters it out
// (200), view, update and delete answer 404, and create answers 400.
const (
	superusersOnly      = http.StatusForbidden
	ruleHidesRecord     = http.StatusNotFound
	ruleRefusesCreation = http.StatusBadRequest
)

// The error bodies of those refusals.
const (
	onlySuperusersMessage = `"message":"Only superusers can perform this action."`
	notFoundMessage       = `"message":"The requested resource wasn't found."`
	createFailedMessage   = `"message":"Failed to create record."`
)

func urlQuery(s string) string { return url.QueryEscape(s) }

func TestCustomerCannotSeeAnotherCustomersOrders(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	customer := shoptest.Headers(shop.Customer)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:           "customer lists only their own orders",
			Method:         http.MethodGet,
			URL:            "/api/collections/orders/records?perPage=200",
			Headers:        customer,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				fmt.Sprintf(`"totalItems":%d`, shop.CustomerOrders),
				shoptest.IDJSON(shop.CustomerOrder),
				shoptest.IDJSON(shop.CustomerPaidOrder),
				`"user":"` + shop.Customer.ID + `"`,
			},
			NotExpectedContent: []string{shop.Customer2Order, shop.Customer2.ID},
		},
		{
			Name:               "customer filtering for the other customer's orders gets none",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records?filter=" + urlQuery("user='"+shop.Customer2.ID+"'"),
			Headers:            customer,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer2Order},
		},
		{
			Name:               "customer views their own order",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records/" + shop.CustomerOrder,
			Headers:            customer,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.CustomerOrder), `"status":"pending"`},
			NotExpectedContent: []string{shop.Customer2.ID},
		},
		{
			Name:               "customer viewing the other customer's order gets 404",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records/" + shop.Customer2Order,
			Headers:            customer,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer2Order},
		},
		{
			Name:               "the other customer sees their own order",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records/" + shop.Customer2Order,
			Headers:            shoptest.Headers(shop.Customer2),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.Customer2Order)},
			NotExpectedContent: []string{shop.Customer.ID},
		},
		{
			Name:            "expanding the user of an order shows only the customer themself",
			Method:          http.MethodGet,
			URL:             "/api/collections/orders/records?perPage=200&expand=user",
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, shop.CustomerOrders), `"email":"` + shop.Customer.Email + `"`},
			NotExpectedContent: []string{
				shop.Customer2.Email, shop.Customer2.ID,
			},
		},
	})
}

func TestCustomerCannotSeeAnotherCustomersOrderItems(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	customer := shoptest.Headers(shop.Customer)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:           "customer lists only the items of their own orders",
			Method:         http.MethodGet,
			URL:            "/api/collections/order_items/records?perPage=200",
			Headers:        customer,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				fmt.Sprintf(`"totalItems":%d`, shop.CustomerItems),
				shoptest.IDJSON(shop.CustomerItem),
				`"user":"` + shop.Customer.ID + `"`,
			},
			NotExpectedContent: []string{shop.Customer2Item, shop.Customer2Order, shop.Customer2.ID},
		},
		{
			Name:               "customer filtering for the other customer's items gets none",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records?filter=" + urlQuery("user='"+shop.Customer2.ID+"'"),
			Headers:            customer,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer2Item},
		},
		{
			Name:               "customer filtering for the items of the other customer's order gets none",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records?filter=" + urlQuery("order='"+shop.Customer2Order+"'"),
			Headers:            customer,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer2Item},
		},
		{
			Name:            "customer views an item of their own order",
			Method:          http.MethodGet,
			URL:             "/api/collections/order_items/records/" + shop.CustomerItem,
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(shop.CustomerItem), `"order":"` + shop.CustomerOrder + `"`},
		},
		{
			Name:               "customer viewing an item of the other customer's order gets 404",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records/" + shop.Customer2Item,
			Headers:            customer,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer2Item},
		},
		{
			Name:               "expanding an item's order does not reach the other customer's order",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records?perPage=200&expand=order",
			Headers:            customer,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"expand":{"order":{`, shoptest.IDJSON(shop.CustomerOrder)},
			NotExpectedContent: []string{shop.Customer2Order},
		},
	})
}

// TestOrdersAndItemsVisibilityByRole is the get:orders row of the roles
// table for everyone but a customer looking at another customer.
func TestOrdersAndItemsVisibilityByRole(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	guest := shoptest.Headers(shoptest.Account{})
	support := shoptest.Headers(shop.Support)
	store := shoptest.Headers(shop.Store)
	superuser := shoptest.Headers(shop.Superuser)
	scenarios := []tests.ApiScenario{
		{
			Name:               "guest lists no orders",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records",
			Headers:            guest,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.CustomerOrder},
		},
		{
			Name:               "guest lists no order items",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records",
			Headers:            guest,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.CustomerItem},
		},
		{
			Name:               "store lists no orders",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records",
			Headers:            store,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.CustomerOrder, shop.Customer2Order},
		},
		{
			Name:               "store lists no order items",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records",
			Headers:            store,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.CustomerItem, shop.Customer2Item},
		},
		{
			Name:           "support lists every order",
			Method:         http.MethodGet,
			URL:            "/api/collections/orders/records?perPage=200",
			Headers:        support,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				fmt.Sprintf(`"totalItems":%d`, shop.Orders),
				shoptest.IDJSON(shop.CustomerOrder), shoptest.IDJSON(shop.Customer2Order), shoptest.IDJSON(shop.CustomerPaidOrder),
			},
		},
		{
			Name:           "support lists every order item",
			Method:         http.MethodGet,
			URL:            "/api/collections/order_items/records?perPage=500",
			Headers:        support,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				fmt.Sprintf(`"totalItems":%d`, shop.Items),
				shoptest.IDJSON(shop.CustomerItem), shoptest.IDJSON(shop.Customer2Item),
			},
		},
		{
			Name:            "superuser lists every order",
			Method:          http.MethodGet,
			URL:             "/api/collections/orders/records",
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, shop.Orders)},
		},
		{
			Name:            "superuser lists every order item",
			Method:          http.MethodGet,
			URL:             "/api/collections/order_items/records",
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, shop.Items)},
		},
	}
	// an account deletion keeps the orders with an empty user, which must
	// not make them match a guest's empty auth id.
	unlinkCustomer2 := func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		for _, collection := range []string{c.Orders, c.OrderItems} {
			_, err := app.DB().Update(collection, dbx.Params{"user": ""}, dbx.HashExp{"user": shop.Customer2.ID}).Execute()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name:               "guest lists no orders of a deleted account",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records",
			BeforeTestFunc:     unlinkCustomer2,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer2Order},
		},
		tests.ApiScenario{
			Name:               "guest cannot view an item of a deleted account",
			Method:             http.MethodGet,
			URL:                "/api/collections/order_items/records/" + shop.Customer2Item,
			BeforeTestFunc:     unlinkCustomer2,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer2Item},
		},
		tests.ApiScenario{
			Name:               "store lists no orders of a deleted account",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records",
			Headers:            store,
			BeforeTestFunc:     unlinkCustomer2,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer2Order},
		},
		tests.ApiScenario{
			Name:           "support still lists the orders of a deleted account",
			Method:         http.MethodGet,
			URL:            "/api/collections/orders/records?filter=" + urlQuery("user=''"),
			Headers:        support,
			BeforeTestFunc: unlinkCustomer2,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				fmt.Sprintf(`"totalItems":%d`, shop.Orders-shop.CustomerOrders), shoptest.IDJSON(shop.Customer2Order),
			},
		},
	)
	views := []struct {
		who     string
		headers map[string]string
		status  int
	}{
		{"guest", guest, ruleHidesRecord},
		{"store", store, ruleHidesRecord},
		{"support", support, http.StatusOK},
		{"superuser", superuser, http.StatusOK},
	}
	for _, v := range views {
		for _, target := range []struct{ collection, id string }{
			{c.Orders, shop.CustomerOrder},
			{c.Orders, shop.Customer2Order},
			{c.OrderItems, shop.CustomerItem},
			{c.OrderItems, shop.Customer2Item},
		} {
			s := tests.ApiScenario{
				Name:           fmt.Sprintf("%s views %s/%s: %d", v.who, target.collection, target.id, v.status),
				Method:         http.MethodGet,
				URL:            "/api/collections/" + target.collection + "/records/" + target.id,
				Headers:        v.headers,
				ExpectedStatus: v.status,
			}
			if v.status == http.StatusOK {
				s.ExpectedContent = []string{shoptest.IDJSON(target.id)}
			} else {
				s.ExpectedContent = []string{notFoundMessage}
				s.NotExpectedContent = []string{target.id}
			}
			scenarios = append(scenarios, s)
		}
	}
	shoptest.RunScenarios(t, scenarios)
}

// TestOnlySuperusersCreateOrDeleteOrdersAndItems: orders come from checkout,
// Stripe and the sync, and are kept for accounting, so the records API
// writes them for superusers only. Items are never updated either.
func TestOnlySuperusersCreateOrDeleteOrdersAndItems(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	newOrder := func() *strings.Reader {
		return strings.NewReader(fmt.Sprintf(
			`{"number":"SD-TEST-0001","user":%q,"status":"pending","total":1900,"currency":"usd","item_count":1}`, shop.Customer.ID))
	}
	newItem := func() *strings.Reader {
		return strings.NewReader(fmt.Sprintf(
			`{"order":%q,"product":%q,"product_name":"Canvas Tote","unit_price":1900,"quantity":1}`, shop.CustomerOrder, shop.ActiveProduct))
	}
	itemQuantity := shoptest.SeededRecord(t, c.OrderItems, shop.CustomerItem).GetInt(c.ItemQuantity)
	unchanged := shoptest.AfterAll(
		shoptest.ExpectRecordCount(c.Orders, shop.Orders),
		shoptest.ExpectRecordCount(c.OrderItems, shop.Items),
	)
	var scenarios []tests.ApiScenario
	for _, who := range []struct {
		name    string
		account shoptest.Account
	}{
		{"guest", shoptest.Account{}},
		{"customer", shop.Customer},
		{"support", shop.Support},
		{"store", shop.Store},
	} {
		headers := shoptest.Headers(who.account)
		scenarios = append(scenarios,
			tests.ApiScenario{
				Name:            who.name + " cannot create an order",
				Method:          http.MethodPost,
				URL:             "/api/collections/orders/records",
				Body:            newOrder(),
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   unchanged,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot delete an order",
				Method:          http.MethodDelete,
				URL:             "/api/collections/orders/records/" + shop.CustomerOrder,
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   unchanged,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot create an order item",
				Method:          http.MethodPost,
				URL:             "/api/collections/order_items/records",
				Body:            newItem(),
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   unchanged,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot update an order item",
				Method:          http.MethodPatch,
				URL:             "/api/collections/order_items/records/" + shop.CustomerItem,
				Body:            strings.NewReader(`{"quantity":9}`),
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   shoptest.ExpectStored(c.OrderItems, shop.CustomerItem, c.ItemQuantity, itemQuantity),
			},
			tests.ApiScenario{
				Name:            who.name + " cannot delete an order item",
				Method:          http.MethodDelete,
				URL:             "/api/collections/order_items/records/" + shop.CustomerItem,
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   unchanged,
			},
		)
	}
	superuser := shoptest.Headers(shop.Superuser)
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name:            "superuser creates an order",
			Method:          http.MethodPost,
			URL:             "/api/collections/orders/records",
			Body:            newOrder(),
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"number":"SD-TEST-0001"`, `"user":"` + shop.Customer.ID + `"`},
			AfterTestFunc:   shoptest.ExpectRecordCount(c.Orders, shop.Orders+1),
		},
		tests.ApiScenario{
			Name:    "superuser creates an order item, which takes its order's user",
			Method:  http.MethodPost,
			URL:     "/api/collections/order_items/records",
			Body:    newItem(),
			Headers: superuser,
			// the body names no user: the hook copies it from the order.
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"order":"` + shop.CustomerOrder + `"`, `"user":"` + shop.Customer.ID + `"`},
			AfterTestFunc:   shoptest.ExpectRecordCount(c.OrderItems, shop.Items+1),
		},
		tests.ApiScenario{
			Name:           "superuser deletes an order item",
			Method:         http.MethodDelete,
			URL:            "/api/collections/order_items/records/" + shop.CustomerItem,
			Headers:        superuser,
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  shoptest.ExpectGone(c.OrderItems, shop.CustomerItem),
		},
		tests.ApiScenario{
			Name:           "superuser deletes an order and with it its items",
			Method:         http.MethodDelete,
			URL:            "/api/collections/orders/records/" + shop.CustomerOrder,
			Headers:        superuser,
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectGone(c.Orders, shop.CustomerOrder),
				shoptest.ExpectGone(c.OrderItems, shop.CustomerItem),
			),
		},
	)
	shoptest.RunScenarios(t, scenarios)
}

// TestOnlySupportUpdatesOrdersAndOnlyToShip covers update:orders: support
// ships, delivers and sets the arrival date, each change audited; anything
// else support sends is refused with 400, and nobody else may update.
func TestOnlySupportUpdatesOrdersAndOnlyToShip(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	support := shoptest.Headers(shop.Support)
	paid := shoptest.SeededRecord(t, c.Orders, shop.CustomerPaidOrder)
	pending := shoptest.SeededRecord(t, c.Orders, shop.CustomerOrder)
	paidTarget := c.AuditRef(c.Orders, shop.CustomerPaidOrder)
	// a refused change leaves the order as it was, updated time included,
	// and writes no audit row.
	paidUntouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusPaid),
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderTotal, paid.GetInt(c.OrderTotal)),
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderUser, shop.Customer.ID),
		shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderUpdated, paid.GetString(c.OrderUpdated)),
		shoptest.ExpectAuditRows("order.update", "", 0),
	)
	pendingUntouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderStatusField, c.StatusPending),
		shoptest.ExpectStored(c.Orders, shop.CustomerOrder, c.OrderUpdated, pending.GetString(c.OrderUpdated)),
		shoptest.ExpectAuditRows("order.update", "", 0),
	)
	arrival := time.Now().UTC().AddDate(0, 1, 0).Truncate(24 * time.Hour).Format(types.DefaultDateLayout)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:            "support ships a paid order and sets its arrival date",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123","estimated_arrival":"` + arrival + `"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"shipped"`, `"estimated_arrival":"` + arrival + `"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusShipped),
				shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderEstimatedArrival, arrival),
				shoptest.ExpectAuditRows("order.update", paidTarget, 1),
			),
		},
		{
			Name:            "support sets only the arrival date",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"estimated_arrival":"` + arrival + `"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"paid"`, `"estimated_arrival":"` + arrival + `"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderEstimatedArrival, arrival),
				shoptest.ExpectAuditRows("order.update", paidTarget, 1),
			),
		},
		{
			Name:            "support marks a shipped order delivered",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"delivered"}`),
			Headers:         support,
			BeforeTestFunc:  withOrderStatus(shop.CustomerPaidOrder, c.StatusShipped),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"status":"delivered"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderStatusField, c.StatusDelivered),
				shoptest.ExpectAuditRows("order.update", paidTarget, 1),
			),
		},
		{
			Name:            "support cannot change the total",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"total":1}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"total":{"code":"validation_not_editable"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot change the total through a modifier",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"total-":100}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"total":{"code":"validation_not_editable"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot move an order to another customer",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"user":"` + shop.Customer2.ID + `"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"user":{"code":"validation_not_editable"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot slip a total change in with a shipment",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123","total":1}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"total":{"code":"validation_not_editable"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot cancel through the records API",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"cancelled"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"status":{"code":"validation_use_cancel_route"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot refund through the records API",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"refunded"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"status":{"code":"validation_use_cancel_route"`},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "support cannot ship an unpaid order",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`),
			Headers:         support,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"status":{"code":"validation_invalid_transition"`},
			AfterTestFunc:   pendingUntouched,
		},
		{
			Name:            "customer cannot update their own order",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "customer cannot lower the total of their own order",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"total":1}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "store cannot update an order",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`),
			Headers:         shoptest.Headers(shop.Store),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "guest cannot update an order",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   paidUntouched,
		},
		{
			Name:            "superuser may change any field, audited",
			Method:          http.MethodPatch,
			URL:             "/api/collections/orders/records/" + shop.CustomerPaidOrder,
			Body:            strings.NewReader(`{"total":1234}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"total":1234`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Orders, shop.CustomerPaidOrder, c.OrderTotal, 1234),
				shoptest.ExpectAuditRows("order.update", paidTarget, 1),
			),
		},
	})
}

// withOrderStatus puts an order in a status straight in the database, as
// a scenario's starting point.
func withOrderStatus(order string, status c.OrderStatus) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
	return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		_, err := app.DB().Update(c.Orders, dbx.Params{c.OrderStatusField: string(status)}, dbx.HashExp{"id": order}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
}
