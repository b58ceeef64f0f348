package records_test

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// expectStoredAddress checks a user's shipping address as the database
// holds it.
func expectStoredAddress(id string, want c.Address) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		user, err := app.FindRecordById(c.Users, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.NewUser(user).ShippingAddress()
		if err != nil || got != want {
			t.Fatalf("stored address %+v, %v; want %+v", got, err, want)
		}
	}
}

func TestUserNameWithControlOrInvisibleCharactersIsRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	seeded := shoptest.SeededRecord(t, c.Users, shop.Customer.ID)
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserName, seeded.GetString(c.UserName)),
		shoptest.ExpectAuditRows("user.update", "", 0),
	)
	var scenarios []tests.ApiScenario
	for _, tc := range []struct{ name, value, code string }{
		{"CR LF, as in a mail header injection", `Ann\r\nBcc: x@example.com`, "validation_control_character"},
		{"a NUL", `Ann\u0000Lee`, "validation_control_character"},
		{"a C1 control", `Ann\u009bLee`, "validation_control_character"},
		{"a right-to-left override", `Ann\u202egnp.exe`, "validation_invisible_character"},
		{"a bidi isolate", `\u2067Ann`, "validation_invisible_character"},
		{"a zero-width space", `Ad\u200bmin`, "validation_invisible_character"},
	} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:            "name with " + tc.name,
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"` + tc.value + `"}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"name":{"code":"` + tc.code + `"`},
			AfterTestFunc:   untouched,
		})
	}
	form, formType := formBody(t, c.UserName, "Ann\xffLee")
	scenarios = append(scenarios,
		tests.ApiScenario{
			Name:            "a form field that is not UTF-8",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            form,
			Headers:         map[string]string{"Authorization": shop.Customer.Token, "Content-Type": formType},
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"name":{"code":"validation_unreadable_text"`},
			AfterTestFunc:   untouched,
		},
		tests.ApiScenario{
			Name:            "a superuser in the dashboard is held to the same",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"name":"Ann\u202eLee"}`),
			Headers:         shoptest.Headers(shop.Superuser),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"name":{"code":"validation_invisible_character"`},
			AfterTestFunc:   untouched,
		},
		tests.ApiScenario{
			Name:   "sign-up with a line break in the name",
			Method: http.MethodPost,
			URL:    "/api/collections/users/records",
			Body: strings.NewReader(`{"email":"new.customer@example.com","password":"a-long-password","passwordConfirm":"a-long-password",` +
				`"name":"New\nCustomer"}`),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"name":{"code":"validation_control_character"`},
			AfterTestFunc:   shoptest.ExpectRecordCount(c.Users, countUsers(t)),
		},
	)
	shoptest.RunScenarios(t, scenarios)
}

func TestShippingAddressPartWithBidiOverrideIsRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	seeded := shoptest.SeededRecord(t, c.Users, shop.Customer.ID)
	before, err := c.NewUser(seeded).ShippingAddress()
	if err != nil {
		t.Fatal(err)
	}
	untouched := expectStoredAddress(shop.Customer.ID, before)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:   "right-to-left override in the city",
			Method: http.MethodPatch,
			URL:    "/api/collections/users/records/" + shop.Customer.ID,
			Body: strings.NewReader(`{"shipping_address":{"line1":"1 Main Street","city":"Spring\u202efield",` +
				`"postal_code":"62701","country":"US"}}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"shipping_address":{"city":{"code":"validation_invisible_character"`},
			AfterTestFunc:   untouched,
		},
		{
			Name:   "line break in the street and zero-width space in the postal code",
			Method: http.MethodPatch,
			URL:    "/api/collections/users/records/" + shop.Customer.ID,
			Body: strings.NewReader(`{"shipping_address":{"line1":"1 Main Street\r\nBcc: x","city":"Springfield",` +
				`"postal_code":"62701\u200b","country":"US"}}`),
			Headers:        shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedContent: []string{
				`"line1":{"code":"validation_control_character"`,
				`"postal_code":{"code":"validation_invisible_character"`,
			},
			AfterTestFunc: untouched,
		},
	})
}

func TestUserNameAndAddressAreStoredNormalised(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name:   "name trimmed and composed, postal code and country upper-case",
			Method: http.MethodPatch,
			URL:    "/api/collections/users/records/" + shop.Customer.ID,
			Body: strings.NewReader(`{"name":"  Jose\u0301  Garci\u0301a ",` +
				`"shipping_address":{"line1":" 1 King Street W ","line2":"","city":"Toronto ","region":" ON",` +
				`"postal_code":" m5v   2t6 ","country":"ca"}}`),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"name":"José  García"`, `"postal_code":"M5V 2T6"`},
			AfterTestFunc: shoptest.AfterAll(
				shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserName, "José  García"),
				expectStoredAddress(shop.Customer.ID, c.Address{
					Line1: "1 King Street W", City: "Toronto", Region: "ON", PostalCode: "M5V 2T6", Country: "CA",
				}),
			),
		},
	})
}

func TestUserSavedByTheAppIsNormalised(t *testing.T) {
	t.Parallel()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	user, err := app.FindRecordById(c.Users, shoptest.Shop().Customer2.ID)
	if err != nil {
		t.Fatal(err)
	}
	user.Set(c.UserName, "\tZoe\u0308 Ng ")
	if err := app.Save(user); err != nil {
		t.Fatalf("save a name with surrounding spaces: %v", err)
	}
	stored, err := app.FindRecordById(c.Users, user.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.GetString(c.UserName); got != "Zoë Ng" {
		t.Fatalf("stored name %q, want %q", got, "Zoë Ng")
	}

	stored.Set(c.UserName, "Zoë\u202eNg")
	err = app.Save(stored)
	var errs validation.Errors
	if !errors.As(err, &errs) || errs[c.UserName] == nil {
		t.Fatalf("saving a right-to-left override: %v, want a field error on name", err)
	}
}

func TestLanguageThatIsNotOneStringIsRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	seeded := shoptest.SeededRecord(t, c.Users, shop.Customer.ID)
	other := "es"
	if seeded.GetString(c.UserLanguage) == other {
		other = "fr"
	}
	untouched := shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserLanguage, seeded.GetString(c.UserLanguage))
	refused := []string{`"language":{"code":"validation_invalid_language"`}
	customer := shoptest.Headers(shop.Customer)
	patch := func(name, body string) tests.ApiScenario {
		return tests.ApiScenario{
			Name:            name,
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(body),
			Headers:         customer,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: refused,
			AfterTestFunc:   untouched,
		}
	}

	form, formType := formBody(t, c.UserLanguage, "en", c.UserLanguage, other)

	shoptest.RunScenarios(t, []tests.ApiScenario{
		patch("a list of two", `{"language":["en","`+other+`"]}`),
		patch("a list of one", `{"language":["`+other+`"]}`),
		patch("an append modifier", `{"language+":"`+other+`"}`),
		patch("a number", `{"language":1}`),
		patch("an empty string", `{"language":""}`),
		{
			Name:            "a form field given twice",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            form,
			Headers:         map[string]string{"Authorization": shop.Customer.Token, "Content-Type": formType},
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: refused,
			AfterTestFunc:   untouched,
		},
		{
			Name:   "sign-up with a list",
			Method: http.MethodPost,
			URL:    "/api/collections/users/records",
			Body: strings.NewReader(`{"email":"new.customer@example.com","password":"a-long-password","passwordConfirm":"a-long-password",` +
				`"language":["fr","de"]}`),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: refused,
			AfterTestFunc:   shoptest.ExpectRecordCount(c.Users, countUsers(t)),
		},
		{
			Name:            "one language of the list is taken",
			Method:          http.MethodPatch,
			URL:             "/api/collections/users/records/" + shop.Customer.ID,
			Body:            strings.NewReader(`{"language":"` + other + `"}`),
			Headers:         customer,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"language":"` + other + `"`},
			AfterTestFunc:   shoptest.ExpectStored(c.Users, shop.Customer.ID, c.UserLanguage, other),
		},
	})
}

// formBody is a multipart/form-data body of the given name, value pairs
// and its content type.
func formBody(t *testing.T, pairs ...string) (io.Reader, string) {
	t.Helper()
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := w.WriteField(pairs[i], pairs[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &form, w.FormDataContentType()
}

// countUsers is how many users the template shop has.
func countUsers(t *testing.T) int {
	t.Helper()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	n, err := app.CountRecords(c.Users)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestNameStoredBeforeTheChecksDoesNotBlockAPayment: the checks apply to
// what a save changes, so an account whose name was stored before them
// still gets its Stripe customer remembered when its order is paid.
func TestNameStoredBeforeTheChecksDoesNotBlockAPayment(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	shoptest.WebhookStockOrder(t, rig.App)
	shoptest.WebhookSetFields(t, rig.App, c.Users, shop.Customer.ID, dbx.Params{c.UserName: "Casey \u202eremotsuC"})
	rig.Deliver(t, "evt_test_old_name", "checkout.session.completed", shoptest.WebhookSession(shop.CustomerOrder, "paid"), true)
	rig.Check(t, shoptest.WebhookOrderPaid())
}
