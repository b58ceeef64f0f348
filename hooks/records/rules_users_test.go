package records_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestUserVisibilityByRole is the get:users row of the roles table.
func TestUserVisibilityByRole(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	customer := shoptest.Headers(shop.Customer)
	support := shoptest.Headers(shop.Support)
	store := shoptest.Headers(shop.Store)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:               "guest lists no users",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records",
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":0`, `"items":[]`},
			NotExpectedContent: []string{shop.Customer.ID},
		},
		{
			Name:               "guest cannot view a customer",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Customer.ID,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer.Email},
		},
		{
			Name:            "customer lists only themself",
			Method:          http.MethodGet,
			URL:             "/api/collections/users/records",
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"totalItems":1`, shoptest.IDJSON(shop.Customer.ID), `"email":"` + shop.Customer.Email + `"`},
			NotExpectedContent: []string{
				shop.Customer2.ID, shop.Customer2.Email, shop.Support.ID, shop.Store.ID,
			},
		},
		{
			Name:            "customer views themself",
			Method:          http.MethodGet,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(shop.Customer.ID), `"role":"customer"`},
		},
		{
			Name:               "customer viewing the other customer gets 404",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Customer2.ID,
			Headers:            customer,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer2.Email},
		},
		{
			Name:               "customer viewing support gets 404",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Support.ID,
			Headers:            customer,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Support.Email},
		},
		{
			Name:           "support lists the customers, with their emails, and themself",
			Method:         http.MethodGet,
			URL:            "/api/collections/users/records?perPage=200",
			Headers:        support,
			ExpectedStatus: http.StatusOK,
			// the list rule's first half lets every user see their own record.
			ExpectedContent: []string{
				`"totalItems":3`,
				shoptest.IDJSON(shop.Customer.ID), `"email":"` + shop.Customer.Email + `"`,
				shoptest.IDJSON(shop.Customer2.ID), `"email":"` + shop.Customer2.Email + `"`,
				shoptest.IDJSON(shop.Support.ID),
			},
			NotExpectedContent: []string{shop.Store.ID, shop.Store.Email},
		},
		{
			Name:           "support filtering for customers gets just the two customers",
			Method:         http.MethodGet,
			URL:            "/api/collections/users/records?filter=" + urlQuery(`role="customer"`),
			Headers:        support,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`"totalItems":2`, shoptest.IDJSON(shop.Customer.ID), shoptest.IDJSON(shop.Customer2.ID),
			},
			NotExpectedContent: []string{shop.Store.ID, shop.Support.ID},
		},
		{
			Name:            "support views a customer's email",
			Method:          http.MethodGet,
			URL:             "/api/collections/users/records/" + shop.Customer2.ID,
			Headers:         support,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{shoptest.IDJSON(shop.Customer2.ID), `"email":"` + shop.Customer2.Email + `"`},
		},
		{
			Name:               "support cannot view the store user",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Store.ID,
			Headers:            support,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Store.Email},
		},
		{
			Name:               "store lists only themself",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records",
			Headers:            store,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"totalItems":1`, shoptest.IDJSON(shop.Store.ID)},
			NotExpectedContent: []string{shop.Customer.ID, shop.Customer2.ID, shop.Support.ID},
		},
		{
			Name:               "store cannot view a customer",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Customer.ID,
			Headers:            store,
			ExpectedStatus:     ruleHidesRecord,
			ExpectedContent:    []string{notFoundMessage},
			NotExpectedContent: []string{shop.Customer.Email},
		},
		{
			Name:           "superuser lists every user",
			Method:         http.MethodGet,
			URL:            "/api/collections/users/records",
			Headers:        shoptest.Headers(shop.Superuser),
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`"totalItems":4`,
				shoptest.IDJSON(shop.Customer.ID), shoptest.IDJSON(shop.Customer2.ID), shoptest.IDJSON(shop.Support.ID), shoptest.IDJSON(shop.Store.ID),
			},
		},
	})
}

// TestStripeCustomerIsHidden: the Stripe customer id is a secret of the
// shop; only superusers read it.
func TestStripeCustomerIsHidden(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const secret = "cus_hiddenTEST42"
	hidden := []string{secret, `"stripe_customer"`}
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:               "not in the customer's own view",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Customer.ID,
			Headers:            shoptest.Headers(shop.Customer),
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.Customer.ID)},
			NotExpectedContent: hidden,
		},
		{
			Name:               "not in the customer's own list",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records",
			Headers:            shoptest.Headers(shop.Customer),
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.Customer.ID)},
			NotExpectedContent: hidden,
		},
		{
			Name:               "not in support's view of the customer",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records/" + shop.Customer.ID,
			Headers:            shoptest.Headers(shop.Support),
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.Customer.ID)},
			NotExpectedContent: hidden,
		},
		{
			Name:               "not in an order's expanded user",
			Method:             http.MethodGet,
			URL:                "/api/collections/orders/records/" + shop.CustomerOrder + "?expand=user",
			Headers:            shoptest.Headers(shop.Customer),
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"expand":{"user":{`},
			NotExpectedContent: hidden,
		},
		{
			Name:               "a customer cannot probe it with a filter",
			Method:             http.MethodGet,
			URL:                "/api/collections/users/records?filter=" + urlQuery(`stripe_customer="`+secret+`"`),
			Headers:            shoptest.Headers(shop.Customer),
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:     http.StatusBadRequest,
			NotExpectedContent: []string{shop.Customer.ID, secret},
		},
		{
			Name:            "superusers read it",
			Method:          http.MethodGet,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Headers:         shoptest.Headers(shop.Superuser),
			BeforeTestFunc:  withStripeCustomer(shop.Customer.ID, secret),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"stripe_customer":"` + secret + `"`},
		},
	})
}

// TestSignUpMakesACustomer: anyone may sign up, always as a customer.
func TestSignUpMakesACustomer(t *testing.T) {
	t.Parallel()
	const email = "new-customer@example.com"
	signUp := func(extra string) *strings.Reader {
		return strings.NewReader(`{"email":"` + email + `","password":"a-long-password-1","passwordConfirm":"a-long-password-1"` + extra + `}`)
	}
	expectNoAccount := func(t testing.TB, app *tests.TestApp, res *http.Response) {
		if _, err := app.FindAuthRecordByEmail(c.Users, email); err == nil {
			t.Fatal("the refused sign-up created an account")
		}
	}
	expectAccount := func(role, language string, orderUpdates bool) shoptest.AfterFunc {
		return func(t testing.TB, app *tests.TestApp, res *http.Response) {
			u, err := app.FindAuthRecordByEmail(c.Users, email)
			if err != nil {
				t.Fatal(err)
			}
			got := c.NewUser(u)
			if string(got.Role()) != role || got.Language() != language || got.OrderUpdates() != orderUpdates {
				t.Fatalf("stored role %q language %q order_updates %v, want %q %q %v",
					got.Role(), got.Language(), got.OrderUpdates(), role, language, orderUpdates)
			}
			// Role() reads an empty role as customer: check the field itself.
			if u.GetString(c.UserRole) != role {
				t.Fatalf("stored role field %q", u.GetString(c.UserRole))
			}
		}
	}
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:            "guest signs up with email and password only and gets the defaults",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(""),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"role":"customer"`, `"language":"en"`, `"order_updates":true`},
			AfterTestFunc:   expectAccount("customer", "en", true),
		},
		{
			Name:            "a sign-up that opts out of order updates keeps it off",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"order_updates":false,"language":"fr"`),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"role":"customer"`, `"language":"fr"`, `"order_updates":false`},
			AfterTestFunc:   expectAccount("customer", "fr", false),
		},
		{
			Name:            "a sign-up that names the customer role",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role":"customer"`),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"role":"customer"`},
			AfterTestFunc:   expectAccount("customer", "en", true),
		},
		{
			Name:            "a sign-up as support is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role":"support"`),
			ExpectedStatus:  ruleRefusesCreation,
			ExpectedContent: []string{createFailedMessage},
			AfterTestFunc:   expectNoAccount,
		},
		{
			Name:            "a sign-up as support, wrapped in a list, is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role":["support"]`),
			ExpectedStatus:  ruleRefusesCreation,
			ExpectedContent: []string{createFailedMessage},
			AfterTestFunc:   expectNoAccount,
		},
		{
			Name:            "a sign-up as support through a modifier is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role+":"support"`),
			ExpectedStatus:  ruleRefusesCreation,
			ExpectedContent: []string{createFailedMessage},
			AfterTestFunc:   expectNoAccount,
		},
		{
			Name:            "a sign-up as store is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role":"store"`),
			ExpectedStatus:  ruleRefusesCreation,
			ExpectedContent: []string{createFailedMessage},
			AfterTestFunc:   expectNoAccount,
		},
		{
			Name:            "a signed-in customer cannot create a support account either",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"role":"support"`),
			Headers:         shoptest.Headers(shoptest.Shop().Customer),
			ExpectedStatus:  ruleRefusesCreation,
			ExpectedContent: []string{createFailedMessage},
			AfterTestFunc:   expectNoAccount,
		},
		{
			// PocketBase drops hidden fields from a non-superuser's body
			// before the create rule sees it, so the value is ignored
			// rather than refused.
			Name:               "a sign-up with a Stripe customer creates the account without it",
			Method:             http.MethodPost,
			URL:                "/api/collections/users/records",
			Body:               signUp(`,"stripe_customer":"cus_someone_else"`),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"role":"customer"`},
			NotExpectedContent: []string{"cus_someone_else", `"stripe_customer"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				u, err := app.FindAuthRecordByEmail(c.Users, email)
				if err != nil {
					t.Fatal(err)
				}
				if got := u.GetString(c.UserStripeCustomer); got != "" {
					t.Fatalf("sign-up stored stripe_customer %q", got)
				}
			},
		},
		{
			Name:            "a sign-up with a bad language is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"language":"it"`),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"language":{"code":"validation_invalid_language"`},
			AfterTestFunc:   expectNoAccount,
		},
		{
			Name:            "a sign-up with a bad postal code is refused",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            signUp(`,"shipping_address":{"line1":"1 Main St","city":"Springfield","postal_code":"ABC","country":"US"}`),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"shipping_address":{"postal_code":{"code":"validation_invalid_postal_code"`},
			AfterTestFunc:   expectNoAccount,
		},
	})
}

// TestCustomerEditsOwnProfileButNotRole: a profile is the customer's own,
// except for the role and the Stripe customer.
func TestCustomerEditsOwnProfileButNotRole(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	customer := shoptest.Headers(shop.Customer)
	seeded := shoptest.SeededRecord(t, c.Users, shop.Customer.ID)
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserRole, c.RoleCustomer),
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, ""),
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserName, seeded.GetString(c.UserName)),
		shoptest.ExpectStored(c.Users, shop.Customer.ID, "updated", seeded.GetString("updated")),
	)
	const address = `{"line1":"5 Elm Street","line2":"","city":"Portland","region":"OR","postal_code":"97205","country":"US"}`
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:    "customer changes name, language, email preferences and address",
			Method:  http.MethodPatch,
			URL:     "/api/collections/users/records/" + shop.Customer.ID,
			Body:    strings.NewReader(`{"name":"Casey Renamed","language":"de","marketing_emails":true,"order_updates":false,"shipping_address":` + address + `}`),
			Headers: customer,
			ExpectedContent: []string{
				`"name":"Casey Renamed"`, `"language":"de"`, `"marketing_emails":true`, `"order_updates":false`,
				`"postal_code":"97205"`, `"role":"customer"`,
			},
			ExpectedStatus: http.StatusOK,
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserName, "Casey Renamed"),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserLanguage, "de"),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserMarketingEmails, true),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserOrderUpdates, false),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserRole, c.RoleCustomer),
				// a change to one's own profile is not audited.
				shoptest.ExpectRecordCount(c.AuditLog, 0),
			),
		},
		{
			Name:            "customer may send their unchanged role back",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"Casey Renamed","role":"customer"}`),
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Casey Renamed"`, `"role":"customer"`},
			AfterTestFunc:   shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserName, "Casey Renamed"),
		},
		{
			Name:            "customer cannot make themself support",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"role":"support"}`),
			Headers:         customer,
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   untouched,
		},
		{
			Name:            "customer cannot make themself support with the role in a list",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"role":["support"]}`),
			Headers:         customer,
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   untouched,
		},
		{
			Name:            "customer cannot make themself support through a modifier",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"role+":"support"}`),
			Headers:         customer,
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   untouched,
		},
		{
			Name:            "customer cannot make themself store along with a name change",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"Casey Renamed","role":"store"}`),
			Headers:         customer,
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   untouched,
		},
		{
			// PocketBase drops hidden fields from a non-superuser's body, so
			// the request succeeds and the Stripe customer stays as it was.
			Name:               "customer cannot set their Stripe customer",
			Method:             http.MethodPatch,
			URL:                "/api/collections/users/records/" + shop.Customer.ID,
			Body:               strings.NewReader(`{"stripe_customer":"cus_someone_else"}`),
			Headers:            customer,
			BeforeTestFunc:     withStripeCustomer(shop.Customer.ID, "cus_own"),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(shop.Customer.ID)},
			NotExpectedContent: []string{"cus_someone_else", "cus_own"},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserStripeCustomer, "cus_own"),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserRole, c.RoleCustomer),
			),
		},
		{
			Name:            "support cannot make themself store",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Support.ID,
			Body:            strings.NewReader(`{"role":"store"}`),
			Headers:         shoptest.Headers(shop.Support),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   shoptest.ExpectStored(c.Users, shop.Support.ID, c.UserRole, c.RoleSupport),
		},
		{
			Name:            "a language the shop does not speak",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"language":"it"}`),
			Headers:         customer,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"data":{"language":{"code":"validation_invalid_language"`},
			AfterTestFunc:   shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserLanguage, seeded.GetString(c.UserLanguage)),
		},
	})
}

// TestShippingAddressIsValidated: the address errors name the part of the
// address that is wrong, as data.shipping_address.<part>.
func TestShippingAddressIsValidated(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	customer := shoptest.Headers(shop.Customer)
	seeded := shoptest.SeededRecord(t, c.Users, shop.Customer.ID)
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserShippingAddress, seeded.Get(c.UserShippingAddress)),
		shoptest.ExpectStored(c.Users, shop.Customer.ID, "updated", seeded.GetString("updated")),
	)
	patch := func(address string) *strings.Reader {
		return strings.NewReader(`{"shipping_address":` + address + `}`)
	}
	scenario := func(name, address, want string) tests.ApiScenario {
		return tests.ApiScenario{
			Name:            name,
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            patch(address),
			Headers:         customer,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{want},
			AfterTestFunc:   untouched,
		}
	}
	shoptest.RunScenarios(t, []tests.ApiScenario{
		scenario("a US postal code with letters",
			`{"line1":"1 Main St","city":"Springfield","postal_code":"ABC","country":"US"}`,
			`"data":{"shipping_address":{"postal_code":{"code":"validation_invalid_postal_code"`),
		scenario("a Canadian postal code in the US format",
			`{"line1":"1 King St","city":"Toronto","postal_code":"62701","country":"CA"}`,
			`"data":{"shipping_address":{"postal_code":{"code":"validation_invalid_postal_code"`),
		scenario("a country that does not exist",
			`{"line1":"1 Main St","city":"Springfield","postal_code":"62701","country":"XX"}`,
			`"data":{"shipping_address":{"country":{"code":"validation_is_country_code_2_letter"`),
		scenario("a three-letter country",
			`{"line1":"1 Main St","city":"Springfield","postal_code":"62701","country":"usa"}`,
			`"data":{"shipping_address":{"country":{"code":"validation_length_invalid"`),
		scenario("a country that does not exist",
			`{"line1":"1 Main St","city":"Springfield","postal_code":"62701","country":"zz"}`,
			`"data":{"shipping_address":{"country":{"code":"validation_is_country_code_2_letter"`),
		scenario("an address without a street",
			`{"city":"Springfield","postal_code":"62701","country":"US"}`,
			`"data":{"shipping_address":{"line1":{"code":"validation_required"`),
		scenario("a misspelt part",
			`{"line1":"1 Main St","city":"Springfield","zip":"62701","country":"US"}`,
			`"data":{"shipping_address":{"code":"validation_invalid_address"`),
		{
			Name:            "a valid address with a ZIP+4 code",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            patch(`{"line1":"1 Main St","city":"Springfield","postal_code":"62701-1234","country":"US"}`),
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"postal_code":"62701-1234"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				u, err := app.FindRecordById(c.Users, shop.Customer.ID)
				if err != nil {
					t.Fatal(err)
				}
				addr, err := c.NewUser(u).ShippingAddress()
				if err != nil || addr.PostalCode != "62701-1234" {
					t.Fatalf("stored address %+v, %v", addr, err)
				}
			},
		},
	})
}

// TestUsersCannotTouchOtherAccounts: nobody but a superuser edits another
// account, and accounts are deleted through DELETE /api/v1/me only.
func TestUsersCannotTouchOtherAccounts(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	other := shoptest.SeededRecord(t, c.Users, shop.Customer2.ID)
	otherUntouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Users, shop.Customer2.ID, c.UserName, other.GetString(c.UserName)),
		shoptest.ExpectStored(c.Users, shop.Customer2.ID, c.UserRole, c.RoleCustomer),
		shoptest.ExpectStored(c.Users, shop.Customer2.ID, "updated", other.GetString("updated")),
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
				Name:            who.name + " cannot rename another customer",
				Method:          http.MethodPatch,
				URL:             "/api/collections/users/records/" + shop.Customer2.ID,
				Body:            strings.NewReader(`{"name":"Hijacked"}`),
				Headers:         headers,
				ExpectedStatus:  ruleHidesRecord,
				ExpectedContent: []string{notFoundMessage},
				AfterTestFunc:   otherUntouched,
			},
			tests.ApiScenario{
				Name:            who.name + " cannot delete another customer",
				Method:          http.MethodDelete,
				URL:             "/api/collections/users/records/" + shop.Customer2.ID,
				Headers:         headers,
				ExpectedStatus:  superusersOnly,
				ExpectedContent: []string{onlySuperusersMessage},
				AfterTestFunc:   otherUntouched,
			},
		)
	}
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name:            "customer cannot delete themself through the records API",
			Method:          http.MethodDelete,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  superusersOnly,
			ExpectedContent: []string{onlySuperusersMessage},
			AfterTestFunc:   shoptest.ExpectStored(c.Users, shop.Customer.ID, "email", shop.Customer.Email),
		},
		tests.ApiScenario{
			Name:            "customer cannot change another customer's role",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer2.ID,
			Body:            strings.NewReader(`{"role":"store"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  ruleHidesRecord,
			ExpectedContent: []string{notFoundMessage},
			AfterTestFunc:   otherUntouched,
		},
	)
	shoptest.RunScenarios(t, scenarios)
}

// TestSuperuserRoleChangeIsAudited: only superusers give roles, and every
// role they give lands in audit_log.
func TestSuperuserRoleChangeIsAudited(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	superuser := shoptest.Headers(shop.Superuser)
	target := c.AuditRef(c.Users, shop.Customer2.ID)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:            "superuser makes a customer support",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer2.ID,
			Body:            strings.NewReader(`{"role":"support"}`),
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"role":"support"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Users, shop.Customer2.ID, c.UserRole, c.RoleSupport),
				shoptest.ExpectAuditRows("user.role_change", target, 1),
				func(t testing.TB, app *tests.TestApp, res *http.Response) {
					entry, err := app.FindFirstRecordByData(c.AuditLog, c.AuditAction, "user.role_change")
					if err != nil {
						t.Fatal(err)
					}
					if got, want := entry.GetString(c.AuditActor), c.AuditRef(core.CollectionNameSuperusers, shop.Superuser.ID); got != want {
						t.Fatalf("audit actor %q, want %q", got, want)
					}
				},
			),
		},
		{
			Name:            "superuser renaming a user changes no role and writes no role entry",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer2.ID,
			Body:            strings.NewReader(`{"name":"Robin Renamed","role":"customer"}`),
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"Robin Renamed"`, `"role":"customer"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Users, shop.Customer2.ID, c.UserName, "Robin Renamed"),
				shoptest.ExpectAuditRows("user.role_change", "", 0),
			),
		},
		{
			Name:            "superuser creates a store account, audited",
			Method:          http.MethodPost,
			URL:             "/api/collections/users/records",
			Body:            strings.NewReader(`{"email":"new-store@example.com","password":"a-long-password-1","passwordConfirm":"a-long-password-1","role":"store"}`),
			Headers:         superuser,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"role":"store"`},
			AfterTestFunc:   shoptest.ExpectAuditRows("user.create", "", 1),
		},
	})
}

// withStripeCustomer gives a user a Stripe customer id straight in the
// database, as a scenario's starting point.
func withStripeCustomer(user, stripeCustomer string) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
	return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		_, err := app.DB().Update(c.Users, dbx.Params{c.UserStripeCustomer: stripeCustomer}, dbx.HashExp{"id": user}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
}
