package audit_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

func TestSuperusersChangesAreAudited(t *testing.T) {
	shop := shoptest.Shop()
	admin := c.AuditRef("_superusers", shop.Superuser.ID)
	scenarios := []tests.ApiScenario{
		{
			Name:            "editing a customer's name and address keeps the field names, not the values",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"Renamed Person","shipping_address":{"line1":"9 Secret Road","city":"Berlin","postal_code":"10115","country":"DE"}}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Renamed Person"`},
			AfterTestFunc: shoptest.ExpectAuditEntry("user.update", admin,
				[]string{`"fields":["name","shipping_address"]`}, []string{"Renamed", "Secret", "Casey"}),
		},
		{
			Name:           "deleting an account",
			Method:         http.MethodDelete,
			URL:            "/api/collections/users/records/" + shop.Store.ID,
			Headers:        shoptest.Headers(shop.Superuser),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  shoptest.ExpectAuditEntry("user.delete", admin, []string{`"role":"store"`}, []string{shop.Store.Email}),
		},
		{
			Name:            "creating an order",
			Method:          http.MethodPost,
			URL:             "/api/collections/orders/records",
			Body:            strings.NewReader(`{"number":"SD-TEST-0001","status":"pending","currency":"usd","user":"` + shop.Customer.ID + `"}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"number":"SD-TEST-0001"`},
			AfterTestFunc:   shoptest.ExpectAuditEntry("order.create", admin, nil, nil),
		},
		{
			Name:            "changing an order item",
			Method:          http.MethodPatch,
			URL:             "/api/collections/order_items/records/" + shop.CustomerItem,
			Body:            strings.NewReader(`{"quantity":7}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"quantity":7`},
			AfterTestFunc:   shoptest.ExpectAuditEntry("order_item.update", admin, []string{`"fields":["quantity"]`}, nil),
		},
		{
			Name:            "a customer editing their own profile is not audited",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"Self Edit"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Self Edit"`},
			AfterTestFunc:   shoptest.ExpectAuditRows("user.update", "", 0),
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = shoptest.Factory
		s.Test(t)
	}
}

func TestOrderItemQuantityIsAtLeastOne(t *testing.T) {
	s := tests.ApiScenario{
		Method:          http.MethodPatch,
		URL:             "/api/collections/order_items/records/" + shoptest.Shop().CustomerItem,
		Body:            strings.NewReader(`{"quantity":0}`),
		Headers:         shoptest.Headers(shoptest.Shop().Superuser),
		ExpectedStatus:  http.StatusBadRequest,
		ExpectedContent: []string{`"quantity":{"code":"validation_required"`},
		TestAppFactory:  shoptest.Factory,
	}
	s.Test(t)
}

// TestOrderAuditKeepsNoPersonalValues: a superuser's edit of an order's
// customer data is audited by field name; the shipping fields keep values.
func TestOrderAuditKeepsNoPersonalValues(t *testing.T) {
	shop := shoptest.Shop()
	s := tests.ApiScenario{
		Method: http.MethodPatch,
		URL:    "/api/collections/orders/records/" + shop.CustomerPaidOrder,
		Body: strings.NewReader(`{"status":"shipped","carrier":"DHL","tracking_number":"TRK123","customer_email":"moved@example.com",` +
			`"shipping_address":{"line1":"9 Secret Lane","city":"Berlin","postal_code":"10115","country":"DE"}}`),
		Headers:         shoptest.Headers(shop.Superuser),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"status":"shipped"`},
		TestAppFactory:  shoptest.Factory,
		AfterTestFunc: shoptest.ExpectAuditEntry("order.update", c.AuditRef("_superusers", shop.Superuser.ID),
			[]string{`"customer_email"`, `"shipping_address"`, `"to":"shipped"`}, []string{"moved@example.com", "Secret Lane", shop.Customer.Email}),
	}
	s.Test(t)
}
