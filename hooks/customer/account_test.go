package customer_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

const (
	accountMeURL     = "/api/v1/me"
	accountExportURL = "/api/v1/me/export"
)

// accountSetStripeCustomer gives a user a Stripe customer id straight in
// the database, so that a test can show it is never answered.
func accountSetStripeCustomer(tb testing.TB, app core.App, user, stripeCustomer string) {
	tb.Helper()
	_, err := app.DB().Update(c.Users, dbx.Params{c.UserStripeCustomer: stripeCustomer}, dbx.HashExp{"id": user}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
}

// accountInsertEmail puts a sent order email in the outbox.
func accountInsertEmail(tb testing.TB, app core.App, id, order, user, recipient, template string) {
	tb.Helper()
	now := purchasesStamp(time.Now().UTC())
	_, err := app.DB().Insert(c.EmailJobs, dbx.Params{
		"id": id, c.EmailJobOrder: order, c.EmailJobUser: user, c.EmailJobRecipient: recipient,
		c.EmailJobTemplate: template, c.EmailJobLanguage: "en", c.EmailJobStatus: c.EmailSent, c.EmailJobAttempts: 1,
		c.EmailJobSentAt: now, c.EmailJobCreated: now, c.EmailJobUpdated: now,
	}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
}

// accountSecrets are what no account route may answer: the hidden fields'
// names, a bcrypt hash and the Stripe customer ids the tests set.
var accountSecrets = []string{`"password"`, `"tokenKey"`, `"stripe_customer"`, `$2a$`, "cus_"}

func TestAccountRoutesWhoMay(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	superuserStays := func(t testing.TB, app *tests.TestApp, res *http.Response) {
		if _, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, shop.Superuser.Email); err != nil {
			t.Fatalf("superuser: %v", err)
		}
	}
	customerStays := shoptest.ExpectStored(c.Users, shop.Customer.ID, core.FieldNameEmail, shop.Customer.Email)
	var scenarios []tests.ApiScenario
	for _, route := range []struct{ method, url, body string }{
		{http.MethodGet, accountMeURL, ""},
		{http.MethodGet, accountExportURL, ""},
		{http.MethodDelete, accountMeURL, `{"password":"` + seed.DemoPassword + `"}`},
	} {
		scenarios = append(scenarios,
			tests.ApiScenario{
				Name: "guest " + route.method + " " + route.url, Method: route.method, URL: route.url, Body: strings.NewReader(route.body),
				ExpectedStatus:     http.StatusUnauthorized,
				ExpectedContent:    []string{`"status":401`},
				NotExpectedContent: []string{`"permissions"`, `"profile"`},
				AfterTestFunc:      shoptest.AfterAll(customerStays, shoptest.ExpectAuditRows("user.delete_account", "", 0)),
			},
			tests.ApiScenario{
				// a superuser is not a shop account: no profile, nothing to delete
				Name: "superuser " + route.method + " " + route.url, Method: route.method, URL: route.url,
				Body:               strings.NewReader(strings.ReplaceAll(route.body, seed.DemoPassword, "admin-password-123")),
				Headers:            shoptest.Headers(shop.Superuser),
				ExpectedStatus:     http.StatusForbidden,
				ExpectedContent:    []string{`"status":403`, `"message":"The authorized record is not allowed to perform this action."`},
				NotExpectedContent: []string{`"permissions"`, `"profile"`, shop.Superuser.Email},
				AfterTestFunc:      shoptest.AfterAll(superuserStays, shoptest.ExpectAuditRows("user.delete_account", "", 0)),
			},
		)
	}
	shoptest.RunScenarios(t, scenarios)
}

func TestMeShowsProfileAndPermissions(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	// the roles table of CONTRACT §2, by row
	customer := []string{"get:orders", "create:orders", "cancel:orders", "get:products", "get:users"}
	support := []string{"get:orders", "update:orders", "cancel:orders", "refund:orders", "get:products", "get:users"}
	store := []string{"get:products", "create:products", "update:products", "delete:products"}
	cases := []struct {
		account     shoptest.Account
		role        string
		permissions []string
	}{
		{shop.Customer, "customer", customer},
		{shop.Customer2, "customer", customer},
		{shop.Support, "support", support},
		{shop.Store, "store", store},
	}
	for _, tc := range cases {
		s := tests.ApiScenario{
			Name: tc.role + " " + tc.account.Email, Method: http.MethodGet, URL: accountMeURL,
			Headers: shoptest.Headers(tc.account),
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := shoptest.NewApp(tb)
				accountSetStripeCustomer(tb, app, tc.account.ID, "cus_meSecret")
				return app
			},
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{shoptest.IDJSON(tc.account.ID), `"email":"` + tc.account.Email + `"`, `"role":"` + tc.role + `"`, `"permissions":[`},
			NotExpectedContent: accountSecrets,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				var body map[string]any
				if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
					t.Fatal(err)
				}
				var got []string
				list, _ := body["permissions"].([]any)
				for _, p := range list {
					got = append(got, p.(string))
				}
				want := slices.Clone(tc.permissions)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("permissions %v, want %v", got, want)
				}
				for _, hidden := range []string{"password", "tokenKey", c.UserStripeCustomer} {
					if _, ok := body[hidden]; ok {
						t.Fatalf("the profile shows %s", hidden)
					}
				}
			},
		}
		s.Test(t)
	}
}

// accountExport is the body of GET /api/v1/me/export.
type accountExport struct {
	ExportedAt string         `json:"exported_at"`
	Profile    map[string]any `json:"profile"`
	Orders     []struct {
		ID    string `json:"id"`
		User  string `json:"user"`
		Items []struct {
			ID    string `json:"id"`
			Order string `json:"order"`
		} `json:"items"`
	} `json:"orders"`
	Emails []struct {
		Order    string `json:"order"`
		Template string `json:"template"`
		Status   string `json:"status"`
	} `json:"emails"`
}

func TestMeExportHoldsEverythingAboutTheUser(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		accountSetStripeCustomer(tb, app, shop.Customer.ID, "cus_exportSecret")
		accountSetStripeCustomer(tb, app, shop.Customer2.ID, "cus_otherSecret")
		accountInsertEmail(tb, app, purchasesID("exportmail", 1), shop.CustomerPaidOrder, shop.Customer.ID, shop.Customer.Email, c.TemplateOrderPaid)
		accountInsertEmail(tb, app, purchasesID("exportmail", 2), shop.CustomerOrder, shop.Customer.ID, shop.Customer.Email, c.TemplateOrderCancelled)
		accountInsertEmail(tb, app, purchasesID("exportmail", 3), shop.Customer2Order, shop.Customer2.ID, shop.Customer2.Email, c.TemplateOrderShipped)
		return app
	}
	s := tests.ApiScenario{
		Method: http.MethodGet, URL: accountExportURL, Headers: shoptest.Headers(shop.Customer),
		TestAppFactory:  factory,
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"profile":{`, `"email":"` + shop.Customer.Email + `"`, shoptest.IDJSON(shop.CustomerPaidOrder), shoptest.IDJSON(shop.CustomerItem)},
		NotExpectedContent: append([]string{
			shop.Customer2.ID, shop.Customer2.Email, shop.Customer2Order, shop.Customer2Item, seed.DemoAccounts[1].Name,
			c.TemplateOrderShipped,
		}, accountSecrets...),
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			today := time.Now().UTC().Format(time.DateOnly)
			if got := res.Header.Get("Content-Disposition"); got != `attachment; filename="shopdash-export-`+today+`.json"` {
				t.Fatalf("Content-Disposition %q", got)
			}
			var body accountExport
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.Profile["id"] != shop.Customer.ID || body.Profile["name"] != seed.DemoAccounts[0].Name || !strings.HasPrefix(body.ExportedAt, today) {
				t.Fatalf("profile %v exported at %q", body.Profile, body.ExportedAt)
			}
			if _, ok := body.Profile[c.UserStripeCustomer]; ok {
				t.Fatal("the export shows stripe_customer")
			}

			orders, err := app.FindAllRecords(c.Orders, dbx.HashExp{c.OrderUser: shop.Customer.ID})
			if err != nil || len(orders) != shop.CustomerOrders {
				t.Fatalf("%d orders in the database (%v), want %d", len(orders), err, shop.CustomerOrders)
			}
			if len(body.Orders) != len(orders) {
				t.Fatalf("%d orders exported, want %d", len(body.Orders), len(orders))
			}
			exported := 0
			for _, o := range body.Orders {
				if o.User != shop.Customer.ID || !slices.ContainsFunc(orders, func(r *core.Record) bool { return r.Id == o.ID }) {
					t.Fatalf("exported order %s of %q", o.ID, o.User)
				}
				items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: o.ID})
				if err != nil || len(items) == 0 || len(o.Items) != len(items) {
					t.Fatalf("order %s: %d items exported, %d stored (%v)", o.ID, len(o.Items), len(items), err)
				}
				for _, it := range o.Items {
					if it.Order != o.ID || !slices.ContainsFunc(items, func(r *core.Record) bool { return r.Id == it.ID }) {
						t.Fatalf("item %s of %s exported under order %s", it.ID, it.Order, o.ID)
					}
				}
				exported += len(o.Items)
			}
			if exported != shop.CustomerItems {
				t.Fatalf("%d items exported, want %d", exported, shop.CustomerItems)
			}

			var emails []string
			for _, e := range body.Emails {
				emails = append(emails, e.Order+" "+e.Template+" "+e.Status)
			}
			slices.Sort(emails)
			want := []string{shop.CustomerOrder + " order_cancelled sent", shop.CustomerPaidOrder + " order_paid sent"}
			slices.Sort(want)
			if !slices.Equal(emails, want) {
				t.Fatalf("emails %v, want %v", emails, want)
			}
		},
	}
	s.Test(t)

	staff := tests.ApiScenario{
		Name: "support has nothing but a profile", Method: http.MethodGet, URL: accountExportURL, Headers: shoptest.Headers(shop.Support),
		TestAppFactory:     factory,
		ExpectedStatus:     http.StatusOK,
		ExpectedContent:    []string{`"emails":[]`, `"orders":[]`, `"email":"` + shop.Support.Email + `"`, `"role":"support"`},
		NotExpectedContent: append([]string{shop.Customer.ID, shop.Customer2.ID, shop.CustomerOrder}, accountSecrets...),
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			if got := res.Header.Get("Content-Disposition"); !strings.HasPrefix(got, `attachment; filename="shopdash-export-`) {
				t.Fatalf("Content-Disposition %q", got)
			}
		},
	}
	staff.Test(t)
}

// accountExpectKept checks that nothing of the customer was deleted or
// anonymised: account, orders, items, emails and no audit entry.
func accountExpectKept(t testing.TB, app *tests.TestApp, res *http.Response) {
	t.Helper()
	shop := shoptest.Shop()
	if _, err := app.FindRecordById(c.Users, shop.Customer.ID); err != nil {
		t.Fatalf("the account is gone: %v", err)
	}
	for collection, want := range map[string]int{c.Orders: shop.CustomerOrders, c.OrderItems: shop.CustomerItems} {
		if n, err := app.CountRecords(collection, dbx.HashExp{"user": shop.Customer.ID}); err != nil || int(n) != want {
			t.Fatalf("%d %s of the customer (%v), want %d", n, collection, err, want)
		}
	}
	shoptest.ExpectAuditRows("user.delete_account", "", 0)(t, app, res)
}

// TestDeleteMeRefusesWithoutTheRightPassword: the fixtures' tokens carry
// no recent sign-in, so no password is 401 reauth_required.
func TestDeleteMeRefusesWithoutTheRightPassword(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	missing := []string{`"status":401`, `"password":{"code":"reauth_required"`}
	var scenarios []tests.ApiScenario
	for _, tc := range []struct {
		name, body string
		status     int
		content    []string
	}{
		{"no body", "", http.StatusUnauthorized, missing},
		{"no password", `{}`, http.StatusUnauthorized, missing},
		{"an empty password", `{"password":""}`, http.StatusUnauthorized, missing},
		{"a body that is not JSON", `password=` + seed.DemoPassword, http.StatusBadRequest, []string{`"status":400`}},
		{"the right password with something after the JSON", `{"password":"` + seed.DemoPassword + `"} trailing`, http.StatusBadRequest, []string{`"status":400`, `The body must be JSON`}},
		{"a broken string in the password", `{"password":"` + seed.DemoPassword + `\ud800x"}`, http.StatusBadRequest, []string{`"password":{"code":"validation_invalid_json"`}},
		{"a wrong password", `{"password":"not-the-password"}`, http.StatusForbidden, []string{`"status":403`, `"message":"The password is not right."`}},
		{"another account's password", `{"password":"admin-password-123"}`, http.StatusForbidden, []string{`"status":403`}},
	} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: tc.name, Method: http.MethodDelete, URL: accountMeURL, Body: strings.NewReader(tc.body),
			Headers:            shoptest.Headers(shop.Customer),
			ExpectedStatus:     tc.status,
			ExpectedContent:    tc.content,
			NotExpectedContent: []string{seed.DemoPassword, "not-the-password"},
			AfterTestFunc:      accountExpectKept,
		})
	}
	shoptest.RunScenarios(t, scenarios)
}

func TestDeleteMeKeepsOrdersWithoutPersonalData(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var orders, items, otherOrders []string
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		ids := func(collection, user string) []string {
			var out []string
			if err := app.DB().Select("id").From(collection).Where(dbx.HashExp{"user": user}).Column(&out); err != nil {
				tb.Fatal(err)
			}
			return out
		}
		orders, items, otherOrders = ids(c.Orders, shop.Customer.ID), ids(c.OrderItems, shop.Customer.ID), ids(c.Orders, shop.Customer2.ID)
		if len(orders) != shop.CustomerOrders || len(items) != shop.CustomerItems || len(otherOrders) == 0 {
			tb.Fatalf("%d orders and %d items of the customer, %d of the other", len(orders), len(items), len(otherOrders))
		}
		accountInsertEmail(tb, app, purchasesID("deletemail", 1), shop.CustomerPaidOrder, shop.Customer.ID, shop.Customer.Email, c.TemplateOrderPaid)
		accountInsertEmail(tb, app, purchasesID("deletemail", 2), shop.Customer2Order, shop.Customer2.ID, shop.Customer2.Email, c.TemplateOrderPaid)
		return app
	}
	type personal struct {
		User, Name, Email, Address string
	}
	read := func(t testing.TB, app core.App, order string) personal {
		var p personal
		err := app.DB().NewQuery("SELECT user, customer_name, customer_email, coalesce(shipping_address, '') FROM orders WHERE id = {:id}").
			Bind(dbx.Params{"id": order}).Row(&p.User, &p.Name, &p.Email, &p.Address)
		if err != nil {
			t.Fatalf("order %s: %v", order, err)
		}
		return p
	}
	s := tests.ApiScenario{
		Method: http.MethodDelete, URL: accountMeURL, Body: strings.NewReader(`{"password":"` + seed.DemoPassword + `"}`),
		Headers:        shoptest.Headers(shop.Customer),
		TestAppFactory: factory,
		ExpectedStatus: http.StatusNoContent,
		AfterTestFunc: shoptest.AfterAll(
			shoptest.ExpectGone(c.Users, shop.Customer.ID),
			shoptest.ExpectRecordCount(c.Orders, shop.Orders),
			shoptest.ExpectRecordCount(c.OrderItems, shop.Items),
			shoptest.ExpectAuditRows("user.delete_account", c.AuditRef(c.Users, shop.Customer.ID), 1),
			shoptest.ExpectAuditRows("user.delete_account", "", 1),
			func(t testing.TB, app *tests.TestApp, res *http.Response) {
				for _, order := range orders {
					if p := read(t, app, order); p.User != "" || p.Name != "" || p.Email != "" || (p.Address != "" && p.Address != "null" && p.Address != "{}") {
						t.Fatalf("order %s keeps %+v", order, p)
					}
				}
				for _, item := range items {
					shoptest.ExpectStored(c.OrderItems, item, c.ItemUser, "")(t, app, res)
				}
				for _, order := range otherOrders {
					if p := read(t, app, order); p.User != shop.Customer2.ID || p.Name == "" || p.Email != shop.Customer2.Email || len(p.Address) < 10 {
						t.Fatalf("the other customer's order %s is now %+v", order, p)
					}
				}
				if n, _ := app.CountRecords(c.OrderItems, dbx.HashExp{c.ItemUser: shop.Customer2.ID}); n == 0 {
					t.Fatal("the other customer's items lost their user")
				}
				shoptest.ExpectStored(c.Users, shop.Customer2.ID, core.FieldNameEmail, shop.Customer2.Email)(t, app, res)
				shoptest.ExpectStored(c.EmailJobs, purchasesID("deletemail", 1), c.EmailJobRecipient, "")(t, app, res)
				shoptest.ExpectStored(c.EmailJobs, purchasesID("deletemail", 1), c.EmailJobUser, "")(t, app, res)
				shoptest.ExpectStored(c.EmailJobs, purchasesID("deletemail", 2), c.EmailJobRecipient, shop.Customer2.Email)(t, app, res)
				shoptest.ExpectStored(c.EmailJobs, purchasesID("deletemail", 2), c.EmailJobUser, shop.Customer2.ID)(t, app, res)

				entry, err := app.FindFirstRecordByData(c.AuditLog, c.AuditAction, "user.delete_account")
				if err != nil {
					t.Fatal(err)
				}
				var data struct {
					OrdersKept int `json:"orders_kept"`
				}
				if err := json.Unmarshal([]byte(entry.GetString(c.AuditData)), &data); err != nil || data.OrdersKept != shop.CustomerOrders ||
					entry.GetString(c.AuditActor) != c.AuditRef(c.Users, shop.Customer.ID) {
					t.Fatalf("audit entry %v (%v)", entry.PublicExport(), err)
				}
				if strings.Contains(entry.GetString(c.AuditData), shop.Customer.Email) {
					t.Fatal("the audit entry keeps the email address")
				}
			},
		),
	}
	s.Test(t)
}

// TestDeleteMeByStaff: the route is for anyone signed in, and staff have no
// orders to keep.
func TestDeleteMeByStaff(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var scenarios []tests.ApiScenario
	for _, account := range []shoptest.Account{shop.Support, shop.Store} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: account.Email, Method: http.MethodDelete, URL: accountMeURL,
			Body:           strings.NewReader(`{"password":"` + seed.DemoPassword + `"}`),
			Headers:        shoptest.Headers(account),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectGone(c.Users, account.ID),
				shoptest.ExpectAuditRows("user.delete_account", c.AuditRef(c.Users, account.ID), 1),
				shoptest.ExpectRecordCount(c.Orders, shop.Orders),
				shoptest.ExpectStored(c.Users, shop.Customer.ID, core.FieldNameEmail, shop.Customer.Email),
			),
		})
	}
	shoptest.RunScenarios(t, scenarios)
}

// TestSuperuserDeletingAnAccountForgetsItsPersonalData: an account deleted
// in /_/ (the records API) keeps its orders without name, email and address,
// as DELETE /api/v1/me does.
func TestSuperuserDeletingAnAccountForgetsItsPersonalData(t *testing.T) {
	shop := shoptest.Shop()
	s := tests.ApiScenario{
		Method:         http.MethodDelete,
		URL:            "/api/collections/users/records/" + shop.Customer.ID,
		Headers:        shoptest.Headers(shop.Superuser),
		ExpectedStatus: http.StatusNoContent,
		TestAppFactory: shoptest.Factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			var leftover int
			err := app.DB().NewQuery(`SELECT count(*) FROM orders WHERE customer_email = {:e} OR customer_name = 'Casey Customer' OR user = {:u}`).
				Bind(dbx.Params{"e": shop.Customer.Email, "u": shop.Customer.ID}).Row(&leftover)
			if err != nil || leftover != 0 {
				t.Fatalf("%d orders still carry the deleted customer's data (%v)", leftover, err)
			}
			if n, _ := app.CountRecords(c.Orders); int(n) != shop.Orders {
				t.Fatalf("%d orders after the delete, want all %d kept", n, shop.Orders)
			}
		},
	}
	s.Test(t)
}
