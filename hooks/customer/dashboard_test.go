package customer_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

func dashboardRead(t testing.TB, res *http.Response) shoptest.DashboardBody {
	t.Helper()
	var body shoptest.DashboardBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("dashboard body: %v", err)
	}
	if body.Stats == nil || body.Stats.Orders == nil || body.Stats.Spent == nil || body.Stats.Currency == nil {
		t.Fatalf("stats incomplete: %+v", body.Stats)
	}
	return body
}

// dashboardExpectEmpty checks the dashboard of a user without orders.
func dashboardExpectEmpty(user string) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		body := dashboardRead(t, res)
		if body.RecentOrder != nil || *body.Stats.Orders != 0 || *body.Stats.Spent != 0 || *body.Stats.Currency != c.DefaultCurrency {
			t.Fatalf("recent order %+v, stats %d %d %s; want none, 0 0 usd",
				body.RecentOrder, *body.Stats.Orders, *body.Stats.Spent, *body.Stats.Currency)
		}
		if body.User["id"] != user || len(body.FeaturedProducts) == 0 {
			t.Fatalf("user %v with %d featured products", body.User["id"], len(body.FeaturedProducts))
		}
	}
}

func TestDashboardWhoMay(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name: "guest", Method: http.MethodGet, URL: shoptest.DashboardURL,
			ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}, NotExpectedContent: []string{`"featured_products"`},
		},
		{
			Name: "superuser", Method: http.MethodGet, URL: shoptest.DashboardURL, Headers: shoptest.Headers(shop.Superuser),
			ExpectedStatus:     http.StatusForbidden,
			ExpectedContent:    []string{`"status":403`, `"message":"The authorized record is not allowed to perform this action."`},
			NotExpectedContent: []string{`"featured_products"`},
		},
		{
			Name: "support has no orders", Method: http.MethodGet, URL: shoptest.DashboardURL, Headers: shoptest.Headers(shop.Support),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"recent_order":null`, `"email":"` + shop.Support.Email + `"`},
			NotExpectedContent: []string{shop.CustomerOrder, shop.Customer2Order},
			AfterTestFunc:      dashboardExpectEmpty(shop.Support.ID),
		},
		{
			Name: "store has no orders", Method: http.MethodGet, URL: shoptest.DashboardURL, Headers: shoptest.Headers(shop.Store),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"recent_order":null`, `"email":"` + shop.Store.Email + `"`},
			NotExpectedContent: []string{shop.CustomerOrder, shop.Customer2Order},
			AfterTestFunc:      dashboardExpectEmpty(shop.Store.ID),
		},
		{
			Name: "customer", Method: http.MethodGet, URL: shoptest.DashboardURL, Headers: shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"email":"` + shop.Customer.Email + `"`, `"recent_order":{`},
			NotExpectedContent: []string{shop.Customer2.ID, `"password"`, `"tokenKey"`},
		},
	})
}

func TestDashboardFeaturedProducts(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	// expect checks the featured products against the catalogue: want of
	// them, each active and featured, and absent not among them.
	expect := func(want int, absent *string) shoptest.AfterFunc {
		return func(t testing.TB, app *tests.TestApp, res *http.Response) {
			body := dashboardRead(t, res)
			if len(body.FeaturedProducts) != want {
				t.Fatalf("%d featured products, want %d", len(body.FeaturedProducts), want)
			}
			seen := map[string]bool{}
			for _, p := range body.FeaturedProducts {
				id, _ := p["id"].(string)
				record, err := app.FindRecordById(c.Products, id)
				if err != nil {
					t.Fatalf("featured product %q: %v", id, err)
				}
				if product := c.NewProduct(record); !product.Active() || !product.Featured() || seen[id] {
					t.Fatalf("featured product %s: active %v, featured %v, repeated %v", id, product.Active(), product.Featured(), seen[id])
				}
				seen[id] = true
			}
			if absent != nil && seen[*absent] {
				t.Fatalf("product %s is featured", *absent)
			}
		}
	}
	featureAll := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		if _, err := app.DB().Update(c.Products, dbx.Params{c.ProductFeatured: true}, nil).Execute(); err != nil {
			tb.Fatal(err)
		}
		return app
	}
	var unfeatured string
	retireOne := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		featured, err := app.FindRecordsByFilter(c.Products, "active = true && featured = true", "name", 1, 0)
		if err != nil || len(featured) != 1 {
			tb.Fatalf("a featured product: %v", err)
		}
		unfeatured = featured[0].Id
		if _, err := app.DB().Update(c.Products, dbx.Params{c.ProductActive: false}, dbx.HashExp{"id": unfeatured}).Execute(); err != nil {
			tb.Fatal(err)
		}
		return app
	}
	var activeFeatured int
	{
		app := shoptest.NewApp(t)
		n, err := app.CountRecords(c.Products, dbx.HashExp{c.ProductActive: true, c.ProductFeatured: true})
		app.Cleanup()
		if err != nil || n < 2 || n > 8 {
			t.Fatalf("the template has %d active featured products (%v): the cases below need 2 to 8", n, err)
		}
		activeFeatured = int(n)
	}
	for _, s := range []tests.ApiScenario{
		{
			Name: "the seeded featured products", TestAppFactory: shoptest.Factory, AfterTestFunc: expect(activeFeatured, nil),
		},
		{
			// every product featured, inactive ones too: eight, all active
			Name: "at most eight", TestAppFactory: featureAll, AfterTestFunc: expect(8, &shop.InactiveProduct),
			NotExpectedContent: []string{`"id":"` + shop.InactiveProduct + `"`},
		},
		{
			Name: "a featured product made inactive is left out", TestAppFactory: retireOne,
			AfterTestFunc: expect(activeFeatured-1, &unfeatured),
		},
	} {
		s.Method, s.URL, s.Headers = http.MethodGet, shoptest.DashboardURL, shoptest.Headers(shop.Customer)
		s.ExpectedStatus, s.ExpectedContent = http.StatusOK, []string{`"featured_products":[{`}
		s.Test(t)
	}
}

// dashboardExpectRecentOrderAndStats works out the user's newest order and
// 12-month stats from the orders table and compares them with the body.
func dashboardExpectRecentOrderAndStats(user string, newest *string) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		body := dashboardRead(t, res)
		orders, err := app.FindAllRecords(c.Orders, dbx.HashExp{c.OrderUser: user})
		if err != nil || len(orders) == 0 {
			t.Fatalf("orders of %s: %d, %v", user, len(orders), err)
		}
		sort.Slice(orders, func(i, j int) bool {
			a, b := orders[i].GetDateTime(c.OrderCreated).Time(), orders[j].GetDateTime(c.OrderCreated).Time()
			if !a.Equal(b) {
				return a.After(b)
			}
			return orders[i].Id > orders[j].Id
		})
		recent := orders[0]
		if newest != nil && *newest != recent.Id {
			t.Fatalf("the test's newest order %s is not the newest in the database (%s)", *newest, recent.Id)
		}
		if body.RecentOrder == nil || body.RecentOrder.ID != recent.Id || body.RecentOrder.User != user ||
			body.RecentOrder.Status != recent.GetString(c.OrderStatusField) {
			t.Fatalf("recent order %+v, want %s", body.RecentOrder, recent.Id)
		}
		items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: recent.Id})
		if err != nil || len(items) == 0 {
			t.Fatalf("items of %s: %d, %v", recent.Id, len(items), err)
		}
		var want, got []string
		for _, it := range items {
			want = append(want, it.Id)
		}
		for _, it := range body.RecentOrder.Items {
			if it.Order != recent.Id {
				t.Fatalf("item %s of order %s in recent order %s", it.ID, it.Order, recent.Id)
			}
			got = append(got, it.ID)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("recent order items %v, want %v", got, want)
		}

		since := time.Now().UTC().AddDate(0, -12, 0)
		count, spent := 0, 0
		for _, o := range orders {
			order := c.NewOrder(o)
			switch order.Status() {
			case c.StatusPaid, c.StatusShipped, c.StatusDelivered:
				if !order.Created().Time().Before(since) {
					count++
					spent += order.Total()
				}
			}
		}
		if count == 0 || *body.Stats.Orders != count || *body.Stats.Spent != spent || *body.Stats.Currency != c.DefaultCurrency {
			t.Fatalf("stats %d orders, %d spent, %s; want %d, %d, usd", *body.Stats.Orders, *body.Stats.Spent, *body.Stats.Currency, count, spent)
		}
	}
}

func TestDashboardRecentOrderAndStats(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	// orders at the edges of the stats: the ones that must not count are
	// large, so that counting one shows in the sum
	edges := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		yearAgo := time.Now().UTC().AddDate(0, -12, 0)
		for _, o := range []purchasesOrder{
			{id: purchasesID("dashin", 1), user: shop.Customer.ID, status: c.StatusDelivered, total: 1234, created: yearAgo.Add(time.Minute)},
			{id: purchasesID("dashout", 1), user: shop.Customer.ID, status: c.StatusDelivered, total: 9_000_000, created: yearAgo.Add(-time.Minute)},
			{id: purchasesID("dashrefund", 1), user: shop.Customer.ID, status: c.StatusRefunded, total: 8_000_000, created: yearAgo.AddDate(0, 6, 0)},
			{id: purchasesID("dashcancel", 1), user: shop.Customer.ID, status: c.StatusCancelled, total: 7_000_000, created: yearAgo.AddDate(0, 6, 0)},
			{id: purchasesID("dashother", 1), user: shop.Customer2.ID, status: c.StatusPaid, total: 6_000_000, created: yearAgo.AddDate(0, 6, 0)},
		} {
			purchasesInsertOrder(tb, app, o)
		}
		return app
	}
	newest := purchasesID("dashnew", 1)
	newOrder := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		created := time.Now().UTC().Add(-time.Second)
		purchasesInsertOrder(tb, app, purchasesOrder{id: newest, user: shop.Customer.ID, status: c.StatusPaid, total: 4000, created: created})
		for n := 1; n <= 2; n++ {
			purchasesInsertItem(tb, app, purchasesItem{
				id: purchasesID("dashnewi", n), order: newest, user: shop.Customer.ID, product: shop.PhysicalProduct,
				name: "Canvas Tote", unitPrice: 2000, quantity: 1, created: created,
			})
		}
		return app
	}
	for _, s := range []tests.ApiScenario{
		{
			Name: "customer", Headers: shoptest.Headers(shop.Customer), TestAppFactory: shoptest.Factory,
			NotExpectedContent: []string{shop.Customer2Order}, AfterTestFunc: dashboardExpectRecentOrderAndStats(shop.Customer.ID, nil),
		},
		{
			Name: "the other customer", Headers: shoptest.Headers(shop.Customer2), TestAppFactory: shoptest.Factory,
			NotExpectedContent: []string{shop.CustomerOrder}, AfterTestFunc: dashboardExpectRecentOrderAndStats(shop.Customer2.ID, nil),
		},
		{
			Name: "orders at the edge of 12 months, refunded, cancelled and someone else's", Headers: shoptest.Headers(shop.Customer),
			TestAppFactory: edges, ExpectedContent: []string{`"recent_order":{`},
			AfterTestFunc: dashboardExpectRecentOrderAndStats(shop.Customer.ID, nil),
		},
		{
			Name: "a new order is the recent one", Headers: shoptest.Headers(shop.Customer), TestAppFactory: newOrder,
			ExpectedContent: []string{`"recent_order":{`, shoptest.IDJSON(newest), shoptest.IDJSON(purchasesID("dashnewi", 1)), shoptest.IDJSON(purchasesID("dashnewi", 2))},
			AfterTestFunc:   dashboardExpectRecentOrderAndStats(shop.Customer.ID, &newest),
		},
		{
			// every order of the customer gone: nothing recent, nothing spent
			Name: "a customer without orders", Headers: shoptest.Headers(shop.Customer),
			TestAppFactory: func(tb testing.TB) *tests.TestApp {
				app := shoptest.NewApp(tb)
				for _, table := range []string{c.OrderItems, c.Orders} {
					if _, err := app.DB().Delete(table, dbx.HashExp{"user": shop.Customer.ID}).Execute(); err != nil {
						tb.Fatal(err)
					}
				}
				return app
			},
			ExpectedContent: []string{`"recent_order":null`, `"orders_12m":0`, `"spent_12m":0`},
			AfterTestFunc:   dashboardExpectEmpty(shop.Customer.ID),
		},
	} {
		s.Method, s.URL, s.ExpectedStatus = http.MethodGet, shoptest.DashboardURL, http.StatusOK
		if len(s.ExpectedContent) == 0 {
			s.ExpectedContent = []string{`"recent_order":{`}
		}
		s.Test(t)
	}
}

// TestDashboardHidesSecrets sets a Stripe customer id first, so that its
// absence from the body means something.
func TestDashboardHidesSecrets(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	s := tests.ApiScenario{
		Method: http.MethodGet, URL: shoptest.DashboardURL, Headers: shoptest.Headers(shop.Customer),
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := shoptest.NewApp(tb)
			accountSetStripeCustomer(tb, app, shop.Customer.ID, "cus_dashboardSecret")
			return app
		},
		ExpectedStatus:     http.StatusOK,
		ExpectedContent:    []string{`"user":{`, shoptest.IDJSON(shop.Customer.ID), `"email":"` + shop.Customer.Email + `"`},
		NotExpectedContent: []string{"cus_dashboardSecret", `"stripe_customer"`, `"password"`, `"tokenKey"`, `$2a$`},
	}
	s.Test(t)
}
