package records_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/shoptest"
)

// TestShopRecordIsForSignedInUsers: guests see active products and nothing
// else; there is one shop record.
func TestShopRecordIsForSignedInUsers(t *testing.T) {
	shop := shoptest.Shop()
	scenarios := []tests.ApiScenario{
		{
			Name:            "guest",
			Method:          http.MethodGet,
			URL:             "/api/collections/shop/records",
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"totalItems":0`},
		},
		{
			Name:            "customer",
			Method:          http.MethodGet,
			URL:             "/api/collections/shop/records",
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"totalItems":1`, `"support_email":"support@example.com"`},
		},
		{
			Name:            "a second shop record",
			Method:          http.MethodPost,
			URL:             "/api/collections/shop/records",
			Body:            strings.NewReader(`{"address":"Elsewhere"}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`validation_shop_exists`},
		},
		{
			Name:            "a customer creating one",
			Method:          http.MethodPost,
			URL:             "/api/collections/shop/records",
			Body:            strings.NewReader(`{"address":"Elsewhere"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusForbidden,
			ExpectedContent: []string{onlySuperusersMessage},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = shoptest.Factory
		s.Test(t)
	}
}
