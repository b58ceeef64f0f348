// Package shoptest builds test apps of the shop: one migrated and seeded
// template data dir per test binary, copied for each test (10–20 ms), with
// the demo accounts' tokens and a few well-known records at hand.
package shoptest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/jobs"
	_ "shopdash/pb_migrations"
	"shopdash/seed"
)

// Account is a seeded login with a ready auth token.
type Account struct {
	ID    string
	Email string
	Token string
}

// Fixtures are records of the template shop that tests refer to by id.
type Fixtures struct {
	Customer, Customer2, Support, Store, Superuser Account

	// CustomerOrder and Customer2Order are each customer's pending order.
	CustomerOrder, Customer2Order string
	// CustomerPaidOrder is the customer's paid order (with a digital item).
	CustomerPaidOrder string
	// CustomerItem and Customer2Item are items of those pending orders.
	CustomerItem, Customer2Item string
	// ActiveProduct is sold in orders; InactiveProduct never was.
	ActiveProduct, InactiveProduct string
	// PhysicalProduct and SecondPhysicalProduct are active, in stock and
	// shipped; DigitalProduct is an active download.
	PhysicalProduct, SecondPhysicalProduct, DigitalProduct string

	// Counts of the template shop.
	Orders, CustomerOrders, Items, CustomerItems, Products, ActiveProducts int
}

// OrdersPerCustomer is how many orders each template customer has.
const OrdersPerCustomer = 8

var (
	templateDir string
	fixtures    Fixtures
)

// Main builds the template shop, runs the package's tests and removes it.
// Call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "shopdash-template-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	templateDir = dir
	if err := buildTemplate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "build template shop:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Shop returns the template shop's accounts, record ids and counts.
func Shop() Fixtures { return fixtures }

// AppURL is the shop's public URL in tests.
const AppURL = "http://shop.test"

// NewApp returns a fresh copy of the template shop with every hook bound
// and no Stripe. The caller owns it: ApiScenario cleans it up, other tests
// call Cleanup.
func NewApp(tb testing.TB) *tests.TestApp {
	return NewAppWith(tb, hooks.Config{AppURL: AppURL})
}

// NewAppWith is NewApp with the given configuration, e.g. a fake Stripe.
func NewAppWith(tb testing.TB, cfg hooks.Config) *tests.TestApp {
	app, _ := NewAppWithJobs(tb, cfg)
	return app
}

// NewAppWithJobs is NewAppWith that also returns the shop's background
// jobs, to run them directly.
func NewAppWithJobs(tb testing.TB, cfg hooks.Config) (*tests.TestApp, *jobs.Jobs) {
	tb.Helper()
	return newAppOn(tb, templateDir, cfg)
}

// NewBareApp is a copy of the template shop with no hook bound: its
// collections as the migrations left them, for what is built from them
// (the API document).
func NewBareApp(tb testing.TB) *tests.TestApp {
	tb.Helper()
	app, err := tests.NewTestApp(templateDir)
	if err != nil {
		tb.Fatalf("new test app: %v", err)
	}
	return app
}

// newAppOn is an app on a copy of the data dir, with every hook bound.
func newAppOn(tb testing.TB, dataDir string, cfg hooks.Config) (*tests.TestApp, *jobs.Jobs) {
	tb.Helper()
	app, err := tests.NewTestApp(dataDir)
	if err != nil {
		tb.Fatalf("new test app: %v", err)
	}
	jobs, err := hooks.Register(app, fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>shopdash</title>")}}, cfg)
	if err != nil {
		tb.Fatalf("register hooks: %v", err)
	}
	checkAnswers(tb, app)
	return app, jobs
}

// WebhookSecret signs the Stripe events of tests.
const WebhookSecret = "whsec_test_shopdash"

// StripeConfig is the shop's configuration against a fake Stripe at
// baseURL: no client retries, short catalogue push retries.
func StripeConfig(baseURL string) hooks.Config {
	return hooks.Config{
		StripeSecretKey:      "sk_test_shopdash",
		StripeAPIBase:        baseURL,
		StripeWebhookSecrets: []string{WebhookSecret},
		AppURL:               AppURL,
		PushRetryDelays:      []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
	}
}

// StripeEvent returns a Stripe event of the type around the object, and
// its Stripe-Signature header signed with WebhookSecret.
func StripeEvent(tb testing.TB, id, eventType string, object any) (payload []byte, signature string) {
	tb.Helper()
	raw, err := json.Marshal(object)
	if err != nil {
		tb.Fatal(err)
	}
	payload, err = json.Marshal(map[string]any{
		"id": id, "object": "event", "type": eventType, "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "data": map[string]any{"object": json.RawMessage(raw)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: WebhookSecret})
	return signed.Payload, signed.Header
}

// Factory is NewApp in the shape of ApiScenario.TestAppFactory.
func Factory(tb testing.TB) *tests.TestApp { return NewApp(tb) }

// Headers returns the Authorization header of an account; a zero account
// is a guest.
func Headers(a Account) map[string]string {
	if a.Token == "" {
		return nil
	}
	return map[string]string{"Authorization": a.Token}
}

func buildTemplate(dir string) error {
	app, err := tests.NewTestApp(dir)
	if err != nil {
		return err
	}
	defer app.Cleanup()

	opts := seed.DefaultOptions()
	opts.OrdersPerCustomer = OrdersPerCustomer
	if _, err := seed.Run(app, opts); err != nil {
		return err
	}
	superusers, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return err
	}
	admin := core.NewRecord(superusers)
	admin.SetEmail("admin@example.com")
	admin.SetPassword("admin-password-123")
	if err := app.Save(admin); err != nil {
		return err
	}
	if err := readFixtures(app); err != nil {
		return err
	}
	// NewTestApp worked on a copy: the copy becomes the template.
	if err := app.ClearBootstrap(); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(app.DataDir(), dir)
}

func readFixtures(app core.App) error {
	f := &fixtures
	accounts := []struct {
		to         *Account
		collection string
		email      string
	}{
		{&f.Customer, c.Users, seed.DemoAccounts[0].Email},
		{&f.Customer2, c.Users, seed.DemoAccounts[1].Email},
		{&f.Support, c.Users, seed.DemoAccounts[2].Email},
		{&f.Store, c.Users, seed.DemoAccounts[3].Email},
		{&f.Superuser, core.CollectionNameSuperusers, "admin@example.com"},
	}
	for _, a := range accounts {
		rec, err := app.FindAuthRecordByEmail(a.collection, a.email)
		if err != nil {
			return fmt.Errorf("%s: %w", a.email, err)
		}
		token, err := rec.NewStaticAuthToken(24 * time.Hour)
		if err != nil {
			return err
		}
		*a.to = Account{ID: rec.Id, Email: a.email, Token: token}
	}

	order := func(user string, status c.OrderStatus) (string, error) {
		rec, err := app.FindFirstRecordByFilter(c.Orders, "user = {:u} && status = {:s}", dbx.Params{"u": user, "s": string(status)})
		if err != nil {
			return "", fmt.Errorf("%s order of %s: %w", status, user, err)
		}
		return rec.Id, nil
	}
	item := func(order string) (string, error) {
		rec, err := app.FindFirstRecordByData(c.OrderItems, c.ItemOrder, order)
		if err != nil {
			return "", fmt.Errorf("item of order %s: %w", order, err)
		}
		return rec.Id, nil
	}
	var err error
	if f.CustomerOrder, err = order(f.Customer.ID, c.StatusPending); err != nil {
		return err
	}
	if f.Customer2Order, err = order(f.Customer2.ID, c.StatusPending); err != nil {
		return err
	}
	if f.CustomerPaidOrder, err = order(f.Customer.ID, c.StatusPaid); err != nil {
		return err
	}
	if f.CustomerItem, err = item(f.CustomerOrder); err != nil {
		return err
	}
	if f.Customer2Item, err = item(f.Customer2Order); err != nil {
		return err
	}

	inactive, err := app.FindFirstRecordByFilter(c.Products, "active = false")
	if err != nil {
		return err
	}
	f.InactiveProduct = inactive.Id
	var sold string
	if err := app.DB().Select(c.ItemProduct).From(c.OrderItems).Limit(1).Row(&sold); err != nil {
		return err
	}
	f.ActiveProduct = sold
	physical, err := app.FindRecordsByFilter(c.Products, "active = true && digital = false && stock >= 10", "name", 2, 0)
	if err != nil || len(physical) < 2 {
		return fmt.Errorf("two physical products in stock: %v", err)
	}
	f.PhysicalProduct, f.SecondPhysicalProduct = physical[0].Id, physical[1].Id
	digital, err := app.FindFirstRecordByFilter(c.Products, "active = true && digital = true")
	if err != nil {
		return err
	}
	f.DigitalProduct = digital.Id

	counts := []struct {
		to         *int
		collection string
		filter     dbx.Expression
	}{
		{&f.Orders, c.Orders, nil},
		{&f.CustomerOrders, c.Orders, dbx.HashExp{c.OrderUser: f.Customer.ID}},
		{&f.Items, c.OrderItems, nil},
		{&f.CustomerItems, c.OrderItems, dbx.HashExp{c.ItemUser: f.Customer.ID}},
		{&f.Products, c.Products, nil},
		{&f.ActiveProducts, c.Products, dbx.HashExp{c.ProductActive: true}},
	}
	for _, n := range counts {
		var exprs []dbx.Expression
		if n.filter != nil {
			exprs = append(exprs, n.filter)
		}
		total, err := app.CountRecords(n.collection, exprs...)
		if err != nil {
			return err
		}
		*n.to = int(total)
	}
	return nil
}
