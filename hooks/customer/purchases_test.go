package customer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// purchasesID makes a record id of PocketBase's shape (15 characters,
// a-z0-9) that says which test inserted it.
func purchasesID(prefix string, n int) string {
	return fmt.Sprintf("%s%0*d", prefix, 15-len(prefix), n)
}

// purchasesStamp is a time as PocketBase stores it; the zero time is "".
func purchasesStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d, _ := types.ParseDateTime(t)
	return d.String()
}

// purchasesOrder is an order a test inserts straight into the database,
// with the personal data a checkout copies, so that anonymising it shows.
type purchasesOrder struct {
	id, user string
	status   c.OrderStatus
	total    int
	created  time.Time
}

func purchasesInsertOrder(tb testing.TB, app core.App, o purchasesOrder) {
	tb.Helper()
	_, err := app.DB().Insert(c.Orders, dbx.Params{
		"id": o.id, c.OrderNumber: "SD-T-" + o.id, c.OrderUser: o.user, c.OrderStatusField: string(o.status),
		c.OrderTotal: o.total, c.OrderCurrency: c.DefaultCurrency, c.OrderItemCount: 1,
		c.OrderCustomerName: "Test Buyer", c.OrderCustomerEmail: "buyer@example.com",
		c.OrderShippingAddress: `{"line1":"1 Test Street","city":"Springfield","postal_code":"62701","country":"US"}`,
		c.OrderCreated:         purchasesStamp(o.created), c.OrderUpdated: purchasesStamp(o.created),
	}).Execute()
	if err != nil {
		tb.Fatalf("insert order %s: %v", o.id, err)
	}
}

// purchasesItem is an order item a test inserts straight into the database.
type purchasesItem struct {
	id, order, user, product, name string
	unitPrice, quantity            int
	arrival, created               time.Time
}

func purchasesInsertItem(tb testing.TB, app core.App, it purchasesItem) {
	tb.Helper()
	if it.quantity == 0 {
		it.quantity = 1
	}
	_, err := app.DB().Insert(c.OrderItems, dbx.Params{
		"id": it.id, c.ItemOrder: it.order, c.ItemUser: it.user, c.ItemProduct: it.product, c.ItemProductName: it.name,
		c.ItemUnitPrice: it.unitPrice, c.ItemQuantity: it.quantity,
		c.ItemEstimatedArrival: purchasesStamp(it.arrival), c.ItemCreated: purchasesStamp(it.created),
	}).Execute()
	if err != nil {
		tb.Fatalf("insert item %s: %v", it.id, err)
	}
}

// purchasesOrderWithItem inserts an order of one item, both created at the
// same moment, and returns the item's id.
func purchasesOrderWithItem(tb testing.TB, app core.App, prefix string, n int, user string, status c.OrderStatus, created time.Time) string {
	tb.Helper()
	order, item := purchasesID(prefix+"o", n), purchasesID(prefix+"i", n)
	purchasesInsertOrder(tb, app, purchasesOrder{id: order, user: user, status: status, total: 1000, created: created})
	purchasesInsertItem(tb, app, purchasesItem{
		id: item, order: order, user: user, product: shoptest.Shop().PhysicalProduct,
		name: "Inserted " + item, unitPrice: 1000, quantity: 1, created: created,
	})
	return item
}

// purchasesPage is the body of GET /api/v1/purchases.
type purchasesPage struct {
	Page       int            `json:"page"`
	PerPage    int            `json:"perPage"`
	TotalItems int            `json:"totalItems"`
	TotalPages int            `json:"totalPages"`
	Items      []purchasesRow `json:"items"`
}

type purchasesRow struct {
	ID               string `json:"id"`
	Order            string `json:"order"`
	OrderNumber      string `json:"order_number"`
	Status           string `json:"status"`
	Product          string `json:"product"`
	ProductName      string `json:"product_name"`
	UnitPrice        int    `json:"unit_price"`
	Quantity         int    `json:"quantity"`
	Total            int    `json:"total"`
	Currency         string `json:"currency"`
	EstimatedArrival string `json:"estimated_arrival"`
	Created          string `json:"created"`
}

func purchasesRead(t testing.TB, res *http.Response) purchasesPage {
	t.Helper()
	var page purchasesPage
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatalf("purchases body: %v", err)
	}
	if page.Items == nil {
		t.Fatal(`"items" is missing or null`)
	}
	return page
}

// purchasesExpected builds the rows a user should see, from the orders the
// user placed (not from the user column copied onto order_items, which the
// route reads), in the window [from, to) and the statuses (all when none).
// The rows come in no particular order.
func purchasesExpected(t testing.TB, app core.App, user string, from, to time.Time, statuses ...string) []purchasesRow {
	t.Helper()
	orders, err := app.FindAllRecords(c.Orders, dbx.HashExp{c.OrderUser: user})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*c.Order{}
	ids := make([]any, 0, len(orders))
	for _, o := range orders {
		byID[o.Id] = c.NewOrder(o)
		ids = append(ids, o.Id)
	}
	if len(ids) == 0 {
		return []purchasesRow{}
	}
	items, err := app.FindAllRecords(c.OrderItems, dbx.In(c.ItemOrder, ids...))
	if err != nil {
		t.Fatal(err)
	}
	rows := []purchasesRow{}
	for _, rec := range items {
		it := c.NewOrderItem(rec)
		o := byID[it.OrderID()]
		created := rec.GetDateTime(c.ItemCreated).Time()
		if created.Before(from) || !created.Before(to) {
			continue
		}
		if len(statuses) > 0 && !slices.Contains(statuses, string(o.Status())) {
			continue
		}
		rows = append(rows, purchasesRow{
			ID: rec.Id, Order: o.Id, OrderNumber: o.Number(), Status: string(o.Status()),
			Product: it.ProductID(), ProductName: it.ProductName(), UnitPrice: it.UnitPrice(), Quantity: it.Quantity(),
			Total: it.UnitPrice() * it.Quantity(), Currency: o.Currency(),
			EstimatedArrival: rec.GetDateTime(c.ItemEstimatedArrival).String(),
			Created:          rec.GetDateTime(c.ItemCreated).String(),
		})
	}
	return rows
}

// purchasesSort orders rows as CONTRACT §3 says: by the column, then newest
// first and by id, so that equal values page stably; created itself breaks
// ties by id in its own direction. Times compare as their stored text,
// which is fixed-width UTC and so sorts chronologically.
func purchasesSort(rows []purchasesRow, sort string) {
	column := strings.TrimPrefix(sort, "-")
	desc := column != sort
	value := func(a, b purchasesRow) int {
		switch column {
		case "created":
			return strings.Compare(a.Created, b.Created)
		case "product_name":
			return strings.Compare(a.ProductName, b.ProductName)
		case "unit_price":
			return a.UnitPrice - b.UnitPrice
		case "quantity":
			return a.Quantity - b.Quantity
		case "total":
			return a.Total - b.Total
		case "status":
			return strings.Compare(a.Status, b.Status)
		case "estimated_arrival":
			return strings.Compare(a.EstimatedArrival, b.EstimatedArrival)
		}
		panic("unknown sort " + sort)
	}
	slices.SortFunc(rows, func(a, b purchasesRow) int {
		n := value(a, b)
		if column == "created" && n == 0 {
			n = strings.Compare(a.ID, b.ID)
		}
		if desc {
			n = -n
		}
		if n != 0 || column == "created" {
			return n
		}
		if n = strings.Compare(b.Created, a.Created); n != 0 {
			return n
		}
		return strings.Compare(b.ID, a.ID)
	})
}

func purchasesIDs(rows []purchasesRow) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// purchasesExpectRows checks a page's rows, field by field and in order.
func purchasesExpectRows(t testing.TB, got, want []purchasesRow) {
	t.Helper()
	if !slices.Equal(purchasesIDs(got), purchasesIDs(want)) {
		t.Fatalf("items\n got %v\nwant %v", purchasesIDs(got), purchasesIDs(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// purchasesLastYear is the default window as of now.
func purchasesLastYear() (from, to time.Time) {
	now := time.Now().UTC()
	return now.AddDate(0, -12, 0), now
}

func TestPurchasesWhoMay(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name: "guest", Method: http.MethodGet, URL: shoptest.PurchasesURL,
			ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}, NotExpectedContent: []string{`"items"`},
		},
		{
			// a superuser is not a shop user: they have no purchases
			Name: "superuser", Method: http.MethodGet, URL: shoptest.PurchasesURL, Headers: shoptest.Headers(shop.Superuser),
			ExpectedStatus:     http.StatusForbidden,
			ExpectedContent:    []string{`"status":403`, `"message":"The authorized record is not allowed to perform this action."`},
			NotExpectedContent: []string{`"items"`},
		},
		{
			Name: "store has no get:orders", Method: http.MethodGet, URL: shoptest.PurchasesURL, Headers: shoptest.Headers(shop.Store),
			ExpectedStatus:     http.StatusForbidden,
			ExpectedContent:    []string{`"status":403`, `"message":"Your role does not allow get:orders."`},
			NotExpectedContent: []string{`"items"`},
		},
		{
			Name: "support has no orders of their own", Method: http.MethodGet, URL: shoptest.PurchasesURL + "?perPage=100",
			Headers:            shoptest.Headers(shop.Support),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"items":[]`, `"page":1`, `"perPage":100`, `"totalItems":0`, `"totalPages":0`},
			NotExpectedContent: []string{shop.CustomerItem, shop.Customer2Item},
		},
		{
			Name: "customer lists their purchases", Method: http.MethodGet, URL: shoptest.PurchasesURL,
			Headers:            shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"page":1`, `"perPage":20`, shoptest.IDJSON(shop.CustomerItem)},
			NotExpectedContent: []string{shop.Customer2Item},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				from, to := purchasesLastYear()
				want := purchasesExpected(t, app, shop.Customer.ID, from, to)
				if got := purchasesRead(t, res); got.TotalItems != len(want) || len(want) == 0 {
					t.Fatalf("totalItems %d, want %d (> 0)", got.TotalItems, len(want))
				}
			},
		},
	})
}

func TestPurchasesRefuseBadParameters(t *testing.T) {
	t.Parallel()
	cases := []struct{ query, field, code string }{
		{"page=0", "page", "validation_out_of_range"},
		{"page=-1", "page", "validation_out_of_range"},
		{"page=abc", "page", "validation_out_of_range"},
		{"page=1.5", "page", "validation_out_of_range"},
		{"perPage=0", "perPage", "validation_out_of_range"},
		{"perPage=101", "perPage", "validation_out_of_range"},
		{"perPage=ten", "perPage", "validation_out_of_range"},
		{"sort=password", "sort", "validation_invalid_sort"},
		{"sort=-", "sort", "validation_invalid_sort"},
		{"sort=--created", "sort", "validation_invalid_sort"},
		{"sort=" + url.QueryEscape("+created"), "sort", "validation_invalid_sort"},
		{"sort=user", "sort", "validation_invalid_sort"},
		{"sort=" + url.QueryEscape("created;DROP TABLE orders"), "sort", "validation_invalid_sort"},
		{"status=lost", "status", "validation_invalid_status"},
		{"status=paid,lost", "status", "validation_invalid_status"},
		{"status=paid,", "status", "validation_invalid_status"},
		{"from=2026-13-01", "from", "validation_invalid_date"},
		{"from=2026-02-30", "from", "validation_invalid_date"},
		{"to=yesterday", "to", "validation_invalid_date"},
		{"to=2026-01-31T25:00:00Z", "to", "validation_invalid_date"},
		{"from=2023-05-01&to=2023-03-01", "from", "validation_from_after_to"},
		{"from=2023-03-01T12:00:00Z&to=2023-03-01T12:00:00Z", "from", "validation_from_after_to"},
		{"from=2023-01-01&to=2025-01-01", "from", "validation_window_too_long"},
		{"from=" + time.Now().UTC().AddDate(0, -25, 0).Format(time.DateOnly), "from", "validation_window_too_long"},
	}
	shop := shoptest.Shop()
	scenarios := make([]tests.ApiScenario, 0, len(cases))
	for _, tc := range cases {
		scenarios = append(scenarios, tests.ApiScenario{
			Name:               tc.query,
			Method:             http.MethodGet,
			URL:                shoptest.PurchasesURL + "?" + tc.query,
			Headers:            shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusBadRequest,
			ExpectedContent:    []string{`"status":400`, fmt.Sprintf(`%q:{"code":%q`, tc.field, tc.code)},
			NotExpectedContent: []string{`"items"`},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				var body struct {
					Data map[string]struct{ Code, Message string } `json:"data"`
				}
				if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
					t.Fatal(err)
				}
				if len(body.Data) != 1 || body.Data[tc.field].Message == "" {
					t.Fatalf("field errors %+v, want one on %s", body.Data, tc.field)
				}
			},
		})
	}
	// the edges that are still allowed
	for _, query := range []string{
		"page=1000000&perPage=100", "perPage=1", "sort=-estimated_arrival", "status=pending,paid,shipped,delivered,cancelled,refunded",
		"from=2023-01-01&to=2024-12-31", "from=2023-03-01&to=2023-03-01", "from=2023-03-01T00:00:00%2B02:00&to=2023-03-02T00:00:00Z",
	} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: "allowed " + query, Method: http.MethodGet, URL: shoptest.PurchasesURL + "?" + query,
			Headers:        shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"items":[`}, NotExpectedContent: []string{`"data"`},
		})
	}
	shoptest.RunScenarios(t, scenarios)
}

func TestPurchasesDefaultWindowIsTheLastTwelveMonths(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var inside, outside string
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		yearAgo := time.Now().UTC().AddDate(0, -12, 0)
		inside = purchasesOrderWithItem(tb, app, "edge", 1, shop.Customer.ID, c.StatusDelivered, yearAgo.Add(time.Minute))
		outside = purchasesOrderWithItem(tb, app, "edge", 2, shop.Customer.ID, c.StatusDelivered, yearAgo.Add(-time.Minute))
		return app
	}
	s := tests.ApiScenario{
		Method: http.MethodGet, URL: shoptest.PurchasesURL + "?perPage=100",
		Headers:         shoptest.Headers(shop.Customer),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"items":[`},
		TestAppFactory:  factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			got := purchasesIDs(purchasesRead(t, res).Items)
			if !slices.Contains(got, inside) || slices.Contains(got, outside) {
				t.Fatalf("12 months minus a minute listed: %v; plus a minute listed: %v",
					slices.Contains(got, inside), slices.Contains(got, outside))
			}
			// the inserted item inside is the oldest the default window holds
			if got[len(got)-1] != inside {
				t.Fatalf("last item %s, want the oldest %s", got[len(got)-1], inside)
			}
		},
	}
	s.Test(t)

	wider := s
	wider.Name = "a from before the edge takes both"
	wider.URL = shoptest.PurchasesURL + "?perPage=100&from=" + url.QueryEscape(time.Now().UTC().AddDate(0, -12, 0).Add(-time.Hour).Format(time.RFC3339))
	wider.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
		got := purchasesIDs(purchasesRead(t, res).Items)
		if n := len(got); n < 2 || got[n-2] != inside || got[n-1] != outside {
			t.Fatalf("items %v, want ... %s %s last", got, inside, outside)
		}
	}
	wider.Test(t)
}

// TestPurchasesFromAndToChangeTheWindow uses 2023, long before the seeded
// orders, so that the inserted items are the only ones in the windows.
func TestPurchasesFromAndToChangeTheWindow(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	at := func(s string) time.Time {
		d, err := types.ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Time()
	}
	// n → created
	items := []time.Time{
		at("2023-02-28 23:59:59.999Z"),
		at("2023-03-01 00:00:00.000Z"),
		at("2023-03-15 12:00:00.000Z"),
		at("2023-03-31 23:59:59.999Z"),
		at("2023-04-01 00:00:00.000Z"),
	}
	item := func(n int) string { return purchasesID("windowi", n) }
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		for n, created := range items {
			purchasesOrderWithItem(tb, app, "window", n, shop.Customer.ID, c.StatusDelivered, created)
		}
		// another customer's purchase in the same window
		purchasesOrderWithItem(tb, app, "windowx", 1, shop.Customer2.ID, c.StatusDelivered, items[2])
		return app
	}
	cases := []struct {
		name, query string
		want        []string // the inserted items listed, newest first
		seeded      bool     // seeded purchases are in the window too
	}{
		{"a date-only to includes the whole day", "from=2023-03-01&to=2023-03-31", []string{item(3), item(2), item(1)}, false},
		{"the same day for both is that day", "from=2023-03-01&to=2023-03-01", []string{item(1)}, false},
		{"a wider window", "from=2023-02-28&to=2023-04-01", []string{item(4), item(3), item(2), item(1), item(0)}, false},
		{"a time to is exclusive", "from=2023-03-01&to=" + url.QueryEscape("2023-03-31T23:59:59.999Z"), []string{item(2), item(1)}, false},
		{"a time from is inclusive", "from=" + url.QueryEscape("2023-03-15T12:00:00Z") + "&to=2023-04-30", []string{item(4), item(3), item(2)}, false},
		{"an offset is read as UTC", "from=" + url.QueryEscape("2023-03-01T02:00:00+02:00") + "&to=" + url.QueryEscape("2023-03-01T02:00:00+01:00"), []string{item(1)}, false},
		{"a window before them is empty", "from=2023-01-01&to=2023-02-27", nil, false},
		{"the default window holds none of them", "perPage=100", nil, true},
	}
	scenarios := make([]tests.ApiScenario, 0, len(cases))
	for _, tc := range cases {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: tc.name, Method: http.MethodGet, URL: shoptest.PurchasesURL + "?" + tc.query,
			Headers:            shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"items":[`},
			NotExpectedContent: []string{purchasesID("windowxi", 1)},
			TestAppFactory:     factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				page := purchasesRead(t, res)
				var got []string
				for _, id := range purchasesIDs(page.Items) {
					if strings.HasPrefix(id, "windowi") {
						got = append(got, id)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("inserted items listed %v, want %v", got, tc.want)
				}
				if tc.seeded == (page.TotalItems == len(tc.want)) {
					t.Fatalf("totalItems %d with %d inserted items listed (seeded ones expected: %v)", page.TotalItems, len(tc.want), tc.seeded)
				}
			},
		})
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestPurchasesSortByEveryColumn(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	// three equal lines of one order, so that only the id tells them apart
	// whatever the column
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		created := time.Now().UTC().AddDate(0, -3, 0)
		order := purchasesID("sorto", 1)
		purchasesInsertOrder(tb, app, purchasesOrder{id: order, user: shop.Customer.ID, status: c.StatusDelivered, total: 6000, created: created})
		for _, n := range []int{2, 1, 3} {
			purchasesInsertItem(tb, app, purchasesItem{
				id: purchasesID("sorti", n), order: order, user: shop.Customer.ID, product: shop.PhysicalProduct,
				name: "Ceramic Mug", unitPrice: 2000, quantity: 1, created: created, arrival: created.AddDate(0, 0, 4),
			})
		}
		return app
	}
	var sorts []string
	for _, column := range []string{"created", "product_name", "unit_price", "quantity", "total", "status", "estimated_arrival"} {
		sorts = append(sorts, column, "-"+column)
	}
	sorts = append(sorts, "") // the default, -created
	for _, sort := range sorts {
		query := "?perPage=100"
		if sort != "" {
			query += "&sort=" + sort
		}
		s := tests.ApiScenario{
			Name: "sort " + sort, Method: http.MethodGet, URL: shoptest.PurchasesURL + query,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"items":[`},
			TestAppFactory:  factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				from, to := purchasesLastYear()
				want := purchasesExpected(t, app, shop.Customer.ID, from, to)
				if sort == "" {
					purchasesSort(want, "-created")
				} else {
					purchasesSort(want, sort)
				}
				page := purchasesRead(t, res)
				if page.TotalItems != len(want) || page.Page != 1 || page.PerPage != 100 {
					t.Fatalf("page %d perPage %d totalItems %d, want 1, 100, %d", page.Page, page.PerPage, page.TotalItems, len(want))
				}
				purchasesExpectRows(t, page.Items, want)
			},
		}
		s.Test(t)
	}
}

func TestPurchasesPaging(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const perPage = 5
	seen := map[string]int{}
	pages := 0
	for page := 1; page == 1 || page <= pages+1; page++ {
		s := tests.ApiScenario{
			Name: fmt.Sprintf("page %d", page), Method: http.MethodGet, URL: fmt.Sprintf("%s?perPage=%d&page=%d", shoptest.PurchasesURL, perPage, page),
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{fmt.Sprintf(`"page":%d`, page), fmt.Sprintf(`"perPage":%d`, perPage)},
			TestAppFactory:  shoptest.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				from, to := purchasesLastYear()
				all := purchasesExpected(t, app, shop.Customer.ID, from, to)
				purchasesSort(all, "-created")
				if len(all) <= 2*perPage {
					t.Fatalf("the customer has %d purchases in the window: too few to page", len(all))
				}
				got := purchasesRead(t, res)
				pages = (len(all) + perPage - 1) / perPage
				if got.TotalItems != len(all) || got.TotalPages != pages {
					t.Fatalf("totalItems %d totalPages %d, want %d and %d", got.TotalItems, got.TotalPages, len(all), pages)
				}
				lo, hi := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
				purchasesExpectRows(t, got.Items, all[lo:hi])
				for _, r := range got.Items {
					seen[r.ID]++
				}
				if page == pages+1 {
					if len(got.Items) != 0 {
						t.Fatalf("a page past the end holds %d items", len(got.Items))
					}
					// every item once over all pages: no overlap, no gap
					for _, r := range all {
						if seen[r.ID] != 1 {
							t.Fatalf("item %s was on %d pages", r.ID, seen[r.ID])
						}
					}
					if len(seen) != len(all) {
						t.Fatalf("%d items over the pages, want %d", len(seen), len(all))
					}
				}
			},
		}
		s.Test(t)
		if t.Failed() {
			return
		}
	}
}

func TestPurchasesFilterByStatus(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, statuses := range [][]string{{"paid"}, {"paid", "shipped"}, {"cancelled", "refunded", "delivered"}, {"pending"}} {
		query := strings.Join(statuses, ",")
		s := tests.ApiScenario{
			Name: query, Method: http.MethodGet, URL: shoptest.PurchasesURL + "?perPage=100&status=" + query,
			Headers:         shoptest.Headers(shop.Customer),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"items":[`},
			TestAppFactory:  shoptest.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				from, to := purchasesLastYear()
				all := purchasesExpected(t, app, shop.Customer.ID, from, to)
				want := purchasesExpected(t, app, shop.Customer.ID, from, to, statuses...)
				if len(want) == 0 || len(want) == len(all) {
					t.Fatalf("%d of %d items are %v: the filter would show nothing", len(want), len(all), statuses)
				}
				purchasesSort(want, "-created")
				page := purchasesRead(t, res)
				if page.TotalItems != len(want) || page.TotalPages != 1 {
					t.Fatalf("totalItems %d totalPages %d, want %d and 1", page.TotalItems, page.TotalPages, len(want))
				}
				purchasesExpectRows(t, page.Items, want)
			},
		}
		s.Test(t)
	}
}

// TestPurchasesNeverMixCustomers lists each customer's purchases over the
// widest window, which holds every seeded order.
func TestPurchasesNeverMixCustomers(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	from := time.Now().UTC().AddDate(0, -23, 0)
	query := "?perPage=100&from=" + url.QueryEscape(from.Format(time.RFC3339))
	for _, pair := range [][2]shoptest.Account{{shop.Customer, shop.Customer2}, {shop.Customer2, shop.Customer}} {
		me, other := pair[0], pair[1]
		s := tests.ApiScenario{
			Name: me.Email, Method: http.MethodGet, URL: shoptest.PurchasesURL + query,
			Headers:            shoptest.Headers(me),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"items":[`},
			NotExpectedContent: []string{other.ID},
			TestAppFactory:     shoptest.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				page := purchasesRead(t, res)
				mine := purchasesExpected(t, app, me.ID, from, time.Now().UTC())
				theirs := purchasesExpected(t, app, other.ID, from, time.Now().UTC())
				if len(theirs) == 0 {
					t.Fatal("the other customer has no purchases to leak")
				}
				var allMine int64
				if err := app.DB().Select("count(*)").From(c.OrderItems+" i").
					InnerJoin(c.Orders+" o", dbx.NewExp(`o.id = i."order"`)).
					Where(dbx.HashExp{"o.user": me.ID}).Row(&allMine); err != nil {
					t.Fatal(err)
				}
				if page.TotalItems != len(mine) || int64(len(mine)) != allMine {
					t.Fatalf("totalItems %d, want all %d (%d in the window)", page.TotalItems, allMine, len(mine))
				}
				purchasesSort(mine, "-created")
				purchasesExpectRows(t, page.Items, mine)
				for _, r := range theirs {
					if slices.Contains(purchasesIDs(page.Items), r.ID) {
						t.Fatalf("%s sees %s's item %s", me.Email, other.Email, r.ID)
					}
				}
			},
		}
		s.Test(t)
	}
}

// TestPurchasesToAloneEndsATwelveMonthWindow asks for the year up to a past
// day without a from: the window should be the 12 months before to, as the
// default window is the 12 months before now.
func TestPurchasesToAloneEndsATwelveMonthWindow(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	at := func(s string) time.Time {
		d, err := types.ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Time()
	}
	// n → created; to=2023-03-31 ends at 2023-04-01 00:00, so the window
	// starts at 2022-04-01 00:00
	items := []time.Time{
		at("2022-03-31 23:59:59.999Z"),
		at("2022-04-01 00:00:00.000Z"),
		at("2023-03-31 23:59:59.999Z"),
		at("2023-04-01 00:00:00.000Z"),
	}
	s := tests.ApiScenario{
		Method: http.MethodGet, URL: shoptest.PurchasesURL + "?to=2023-03-31",
		Headers:         shoptest.Headers(shop.Customer),
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"totalItems":2`, shoptest.IDJSON(purchasesID("toalonei", 2)), shoptest.IDJSON(purchasesID("toalonei", 1))},
		NotExpectedContent: []string{
			`"data"`, purchasesID("toalonei", 0), purchasesID("toalonei", 3),
		},
		TestAppFactory: func(tb testing.TB) *tests.TestApp {
			app := shoptest.NewApp(tb)
			for n, created := range items {
				purchasesOrderWithItem(tb, app, "toalone", n, shop.Customer.ID, c.StatusDelivered, created)
			}
			return app
		},
	}
	s.Test(t)
}
