package staff_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestCustomerLookup: support finds customers by a part of their email or
// name (no staff, no secrets); a search of wildcards finds nothing; others
// may not search.
func TestCustomerLookup(t *testing.T) {
	shop := shoptest.Shop()
	search := func(q string) string { return "/api/v1/customers?q=" + url.QueryEscape(q) }
	support := shoptest.Headers(shop.Support)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{Name: "by a part of the email", Method: http.MethodGet, URL: search("customer2@exam"), Headers: support,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"email":"` + shop.Customer2.Email + `"`, `"id":"` + shop.Customer2.ID + `"`},
			NotExpectedContent: []string{`"email":"` + shop.Customer.Email + `"`, "password", "tokenKey", "stripe_customer"}},
		{Name: "customers only, never staff", Method: http.MethodGet, URL: search("example.com"), Headers: support,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"email":"` + shop.Customer.Email + `"`},
			NotExpectedContent: []string{shop.Support.Email, shop.Store.Email}},
		{Name: "wildcards are text", Method: http.MethodGet, URL: search("%_%"), Headers: support,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"items":[]`}},
		{Name: "an underscore is text too", Method: http.MethodGet, URL: search("john_doe@"), Headers: support,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
				users, err := app.FindCollectionByNameOrId(c.Users)
				if err != nil {
					t.Fatal(err)
				}
				u := core.NewRecord(users)
				u.SetEmail("john_doe@test.invalid")
				u.SetPassword("a-long-password")
				u.Set(c.UserName, "John Doe")
				if err := app.Save(u); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"email":"john_doe@test.invalid"`, `"more":false`}},
		{Name: "too short", Method: http.MethodGet, URL: search("ab"), Headers: support,
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"q":{"code":"validation_length_out_of_range"`}},
		{Name: "a customer may not", Method: http.MethodGet, URL: search("example.com"), Headers: shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusForbidden, NotExpectedContent: []string{shop.Customer2.Email}},
		{Name: "store may not", Method: http.MethodGet, URL: search("example.com"), Headers: shoptest.Headers(shop.Store),
			ExpectedStatus: http.StatusForbidden, NotExpectedContent: []string{shop.Customer.Email}},
		{Name: "a guest may not", Method: http.MethodGet, URL: search("example.com"),
			ExpectedStatus: http.StatusUnauthorized, NotExpectedContent: []string{shop.Customer.Email}},
	})
}
