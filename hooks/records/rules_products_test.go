package records_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestProductVisibilityByRole is the get:products row of the roles table:
// guests and customers see active products, staff see the whole catalogue.
func TestProductVisibilityByRole(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var scenarios []tests.ApiScenario
	for _, who := range []struct {
		name    string
		account shoptest.Account
		seesAll bool
	}{
		{"guest", shoptest.Account{}, false},
		{"customer", shop.Customer, false},
		{"support", shop.Support, true},
		{"store", shop.Store, true},
		{"superuser", shop.Superuser, true},
	} {
		headers := shoptest.Headers(who.account)
		list := tests.ApiScenario{
			Name:            who.name + " lists products",
			Method:          http.MethodGet,
			URL:             "/api/collections/products/records?perPage=200",
			Headers:         headers,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(shop.ActiveProduct)},
		}
		filtered := tests.ApiScenario{
			Name:           who.name + " lists inactive products",
			Method:         http.MethodGet,
			URL:            "/api/collections/products/records?filter=" + urlQuery("active=false"),
			Headers:        headers,
			ExpectedStatus: http.StatusOK,
		}
		view := tests.ApiScenario{
			Name:    who.name + " views the inactive product",
			Method:  http.MethodGet,
			URL:     "/api/collections/products/records/" + shop.InactiveProduct,
			Headers: headers,
		}
		if who.seesAll {
			list.ExpectedContent = append(list.ExpectedContent,
				fmt.Sprintf(`"totalItems":%d`, shop.Products), shoptest.IDJSON(shop.InactiveProduct))
			filtered.ExpectedContent = []string{
				fmt.Sprintf(`"totalItems":%d`, shop.Products-shop.ActiveProducts), shoptest.IDJSON(shop.InactiveProduct)}
			view.ExpectedStatus = http.StatusOK
			view.ExpectedContent = []string{shoptest.IDJSON(shop.InactiveProduct), `"active":false`}
		} else {
			list.ExpectedContent = append(list.ExpectedContent, fmt.Sprintf(`"totalItems":%d`, shop.ActiveProducts))
			list.NotExpectedContent = []string{shop.InactiveProduct, `"active":false`}
			filtered.ExpectedContent = []string{`"totalItems":0`, `"items":[]`}
			view.ExpectedStatus = ruleHidesRecord
			view.ExpectedContent = []string{notFoundMessage}
			view.NotExpectedContent = []string{shop.InactiveProduct}
		}
		scenarios = append(scenarios, list, filtered, view, tests.ApiScenario{
			Name:            who.name + " views an active product",
			Method:          http.MethodGet,
			URL:             "/api/collections/products/records/" + shop.ActiveProduct,
			Headers:         headers,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(shop.ActiveProduct), `"active":true`},
		})
	}
	shoptest.RunScenarios(t, scenarios)
}

// TestOnlyStoreEditsTheCatalogue covers create, update and delete:products:
// store may, everyone else is refused, and every store change is audited.
func TestOnlyStoreEditsTheCatalogue(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	inactive := shoptest.SeededRecord(t, c.Products, shop.InactiveProduct)
	newProduct := func() *strings.Reader {
		// no currency: the shop defaults it.
		return strings.NewReader(`{"name":"Test Kettle","price":4500,"stock":10,"active":true}`)
	}
	nothingCreated := shoptest.AfterAll(
		shoptest.ExpectRecordCount(c.Products, shop.Products),
		shoptest.ExpectAuditRows("product.create", "", 0),
	)
	inactiveUntouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductName, inactive.GetString(c.ProductName)),
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductUpdated, inactive.GetString(c.ProductUpdated)),
		shoptest.ExpectAuditRows("product.update", "", 0),
		shoptest.ExpectAuditRows("product.delete", "", 0),
	)
	inactiveTarget := c.AuditRef(c.Products, shop.InactiveProduct)
	var scenarios []tests.ApiScenario
	for _, who := range []struct {
		name    string
		account shoptest.Account
	}{
		{"guest", shoptest.Account{}},
		{"customer", shop.Customer},
		{"support", shop.Support},
	} {
		headers := shoptest.Headers(who.account)
		scenarios = append(scenarios,
			tests.ApiScenario{
				Name:            who.name + " cannot create a product",
				Method:          http.MethodPost,
				URL:             "/api/collections/products/records",
				Body:            newProduct(),
				Headers:         headers,
				ExpectedStatus:  ruleRefusesCreation,
				ExpectedContent: []string{createFailedMessage},
				AfterTestFunc:   nothingCreated,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot update a product",
				Method:          http.MethodPatch,
				URL:             "/api/collections/products/records/" + shop.InactiveProduct,
				Body:            strings.NewReader(`{"name":"Renamed"}`),
				Headers:         headers,
				ExpectedStatus:  ruleHidesRecord,
				ExpectedContent: []string{notFoundMessage},
				AfterTestFunc:   inactiveUntouched,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot delete a product",
				Method:          http.MethodDelete,
				URL:             "/api/collections/products/records/" + shop.InactiveProduct,
				Headers:         headers,
				ExpectedStatus:  ruleHidesRecord,
				ExpectedContent: []string{notFoundMessage},
				AfterTestFunc:   inactiveUntouched,
			},
		)
	}
	store := shoptest.Headers(shop.Store)
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name:            "store creates a product, in usd when no currency is given",
			Method:          http.MethodPost,
			URL:             "/api/collections/products/records",
			Body:            newProduct(),
			Headers:         store,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Test Kettle"`, `"currency":"usd"`, `"price":4500`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectRecordCount(c.Products, shop.Products+1),
				shoptest.ExpectAuditRows("product.create", "", 1),
				func(t testing.TB, app *tests.TestApp, res *http.Response) {
					created, err := app.FindFirstRecordByData(c.Products, c.ProductName, "Test Kettle")
					if err != nil {
						t.Fatal(err)
					}
					if got := created.GetString(c.ProductCurrency); got != c.DefaultCurrency {
						t.Fatalf("stored currency %q, want %q", got, c.DefaultCurrency)
					}
					shoptest.ExpectAuditRows("product.create", c.AuditRef(c.Products, created.Id), 1)(t, app, res)
				},
			),
		},
		tests.ApiScenario{
			Name:            "store creates a product with an upper-case currency, stored lower-case",
			Method:          http.MethodPost,
			URL:             "/api/collections/products/records",
			Body:            strings.NewReader(`{"name":"Test Kettle","price":4500,"currency":"EUR"}`),
			Headers:         store,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"currency":"eur"`},
			AfterTestFunc:   shoptest.ExpectAuditRows("product.create", "", 1),
		},
		tests.ApiScenario{
			Name:            "store updates a product",
			Method:          http.MethodPatch,
			URL:             "/api/collections/products/records/" + shop.InactiveProduct,
			Body:            strings.NewReader(`{"name":"Renamed","active":true}`),
			Headers:         store,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Renamed"`, `"active":true`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductName, "Renamed"),
				shoptest.ExpectAuditRows("product.update", inactiveTarget, 1),
			),
		},
		tests.ApiScenario{
			Name:           "store deletes a product that was never sold",
			Method:         http.MethodDelete,
			URL:            "/api/collections/products/records/" + shop.InactiveProduct,
			Headers:        store,
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectGone(c.Products, shop.InactiveProduct),
				shoptest.ExpectAuditRows("product.delete", inactiveTarget, 1),
			),
		},
		tests.ApiScenario{
			Name:           "store cannot delete a sold product and is told to deactivate it",
			Method:         http.MethodDelete,
			URL:            "/api/collections/products/records/" + shop.ActiveProduct,
			Headers:        store,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedContent: []string{
				`"data":{"active":{"code":"validation_product_in_orders"`,
				"deactivate it instead",
			},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductActive, true),
				shoptest.ExpectRecordCount(c.Products, shop.Products),
				shoptest.ExpectAuditRows("product.delete", "", 0),
			),
		},
		tests.ApiScenario{
			Name:           "superuser cannot delete a sold product either",
			Method:         http.MethodDelete,
			URL:            "/api/collections/products/records/" + shop.ActiveProduct,
			Headers:        shoptest.Headers(shop.Superuser),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedContent: []string{
				`"data":{"active":{"code":"validation_product_in_orders"`,
				"deactivate it instead",
			},
			AfterTestFunc: shoptest.ExpectRecordCount(c.Products, shop.Products),
		},
	)
	shoptest.RunScenarios(t, scenarios)
}

// TestStoreCannotTouchStripeBookkeeping: stripe_product, stripe_price and
// stripe_sync belong to the Stripe sync.
func TestStoreCannotTouchStripeBookkeeping(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	store := shoptest.Headers(shop.Store)
	active := shoptest.SeededRecord(t, c.Products, shop.ActiveProduct)
	var scenarios []tests.ApiScenario
	for _, field := range []struct{ name, value string }{
		{c.ProductStripeProduct, "prod_forged"},
		{c.ProductStripePrice, "price_forged"},
		{c.ProductStripeSync, c.StripeSyncSynced},
	} {
		scenarios = append(scenarios,
			tests.ApiScenario{
				Name:            "store cannot create a product with " + field.name,
				Method:          http.MethodPost,
				URL:             "/api/collections/products/records",
				Body:            strings.NewReader(fmt.Sprintf(`{"name":"Test Kettle","price":4500,%q:%q}`, field.name, field.value)),
				Headers:         store,
				ExpectedStatus:  ruleRefusesCreation,
				ExpectedContent: []string{createFailedMessage},
				AfterTestFunc: shoptest.AfterAll(
					shoptest.ExpectRecordCount(c.Products, shop.Products),
					shoptest.ExpectAuditRows("product.create", "", 0),
				),
			},
			tests.ApiScenario{
				Name:            "store cannot set " + field.name,
				Method:          http.MethodPatch,
				URL:             "/api/collections/products/records/" + shop.ActiveProduct,
				Body:            strings.NewReader(fmt.Sprintf(`{%q:%q}`, field.name, field.value)),
				Headers:         store,
				ExpectedStatus:  ruleHidesRecord,
				ExpectedContent: []string{notFoundMessage},
				AfterTestFunc: shoptest.AfterAll(
					shoptest.ExpectStored(c.Products, shop.ActiveProduct, field.name, active.GetString(field.name)),
					shoptest.ExpectAuditRows("product.update", "", 0),
				),
			},
		)
	}
	shoptest.RunScenarios(t, scenarios)
}

func TestProductPriceAndStockCannotBeNegative(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	store := shoptest.Headers(shop.Store)
	inactive := shoptest.SeededRecord(t, c.Products, shop.InactiveProduct)
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductPrice, inactive.GetInt(c.ProductPrice)),
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductStock, inactive.GetInt(c.ProductStock)),
		shoptest.ExpectAuditRows("product.update", "", 0),
	)
	nothingCreated := shoptest.AfterAll(
		shoptest.ExpectRecordCount(c.Products, shop.Products),
		shoptest.ExpectAuditRows("product.create", "", 0),
	)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:            "negative price on create",
			Method:          http.MethodPost,
			URL:             "/api/collections/products/records",
			Body:            strings.NewReader(`{"name":"Test Kettle","price":-1}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"price":{"code":"validation_min_number_constraint"`},
			AfterTestFunc:   nothingCreated,
		},
		{
			Name:            "negative stock on create",
			Method:          http.MethodPost,
			URL:             "/api/collections/products/records",
			Body:            strings.NewReader(`{"name":"Test Kettle","price":100,"stock":-1}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"stock":{"code":"validation_min_number_constraint"`},
			AfterTestFunc:   nothingCreated,
		},
		{
			Name:            "negative price on update",
			Method:          http.MethodPatch,
			URL:             "/api/collections/products/records/" + shop.InactiveProduct,
			Body:            strings.NewReader(`{"price":-500}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"price":{"code":"validation_min_number_constraint"`},
			AfterTestFunc:   untouched,
		},
		{
			Name:            "negative stock on update",
			Method:          http.MethodPatch,
			URL:             "/api/collections/products/records/" + shop.InactiveProduct,
			Body:            strings.NewReader(`{"stock":-3}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"stock":{"code":"validation_min_number_constraint"`},
			AfterTestFunc:   untouched,
		},
		{
			Name:            "a price in fractions of a cent",
			Method:          http.MethodPatch,
			URL:             "/api/collections/products/records/" + shop.InactiveProduct,
			Body:            strings.NewReader(`{"price":9.99}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"price":{"code":"validation_only_int_constraint"`},
			AfterTestFunc:   untouched,
		},
	})
}

// TestProductFiltersDoNotRevealPurchases: filtering products through their
// order items obeys the order_items rules, so nobody learns what another
// customer bought.
func TestProductFiltersDoNotRevealPurchases(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	bought := shoptest.SeededRecord(t, c.OrderItems, shop.CustomerItem).GetString(c.ItemProduct)
	boughtBy := func(user string) string {
		return "/api/collections/products/records?perPage=200&filter=" + urlQuery("order_items_via_product.user?='"+user+"'")
	}
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:            "customer finds the products they bought",
			Method:          http.MethodGet,
			URL:             boughtBy(shop.Customer.ID),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(bought)},
			// the filter really narrows the catalogue.
			NotExpectedContent: []string{fmt.Sprintf(`"totalItems":%d`, shop.ActiveProducts)},
		},
		{
			Name:               "customer finds nothing the other customer bought",
			Method:             http.MethodGet,
			URL:                boughtBy(shop.Customer2.ID),
			Headers:            shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{bought},
		},
		{
			Name:               "guest finds nothing a customer bought",
			Method:             http.MethodGet,
			URL:                boughtBy(shop.Customer.ID),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{bought},
		},
		{
			Name:               "store finds nothing a customer bought",
			Method:             http.MethodGet,
			URL:                boughtBy(shop.Customer.ID),
			Headers:            shoptest.Headers(shop.Store),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{bought},
		},
	})
}
