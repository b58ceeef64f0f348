package records_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

func TestProductTextIsStoredNormalised(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:   "name trimmed and composed, description keeps its line breaks and tabs",
			Method: http.MethodPatch,
			URL:    "/api/collections/products/records/" + shop.InactiveProduct,
			Body: strings.NewReader(`{"name":"  Cafe\u0301 Mug ",` +
				`"description":"\n Hand-made.\r\n\r\nCapacity:\t350 ml \n"}`),
			Headers:         shoptest.Headers(shop.Store),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Café Mug"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductName, "Café Mug"),
				shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductDescription, "Hand-made.\r\n\r\nCapacity:\t350 ml"),
			),
		},
	})
}

func TestProductTextWithControlOrBidiCharactersIsRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	store := shoptest.Headers(shop.Store)
	seeded := shoptest.SeededRecord(t, c.Products, shop.InactiveProduct)
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductName, seeded.GetString(c.ProductName)),
		shoptest.ExpectStored(c.Products, shop.InactiveProduct, c.ProductDescription, seeded.GetString(c.ProductDescription)),
		shoptest.ExpectAuditRows("product.update", "", 0),
	)
	update := func(name, body, want string) tests.ApiScenario {
		return tests.ApiScenario{
			Name:            name,
			Method:          http.MethodPatch,
			URL:             "/api/collections/products/records/" + shop.InactiveProduct,
			Body:            strings.NewReader(body),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{want},
			AfterTestFunc:   untouched,
		}
	}
	shoptest.RunScenarios(t, []tests.ApiScenario{
		update("a line break in the name", `{"name":"Mug\nFree shipping!"}`,
			`"name":{"code":"validation_control_character"`),
		update("a right-to-left override in the name", `{"name":"Mug \u202egpj.exe"}`,
			`"name":{"code":"validation_invisible_character"`),
		update("a NUL in the description", `{"description":"Hand-made.\u0000"}`,
			`"description":{"code":"validation_control_character"`),
		update("an escape sequence in the description", `{"description":"Hand-made.\u001b[2J"}`,
			`"description":{"code":"validation_control_character"`),
		update("a right-to-left override in the description", `{"description":"Hand-made.\n\u202eSale"}`,
			`"description":{"code":"validation_invisible_character"`),
		{
			Name:            "a new product with a zero-width space in the name",
			Method:          http.MethodPost,
			URL:             "/api/collections/products/records",
			Body:            strings.NewReader(`{"name":"Ke\u200bttle","price":100}`),
			Headers:         store,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"name":{"code":"validation_invisible_character"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectRecordCount(c.Products, shop.Products),
				shoptest.ExpectAuditRows("product.create", "", 0),
			),
		},
	})
}
