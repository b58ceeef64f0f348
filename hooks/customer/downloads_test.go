package customer_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

const downloadsURL = "/api/v1/downloads"

// downloadsShop holds what the download tests need from the template
// shop. Every test app is a copy of the template, so a file token minted
// on one copy is valid on all of them.
type downloadsShop struct {
	// digitalItem is the digital item of the customer's paid order and
	// digitalName its product's name, which the asset's text holds.
	digitalItem, digitalName string
	// otherDigitalItem is a digital item of the other customer's paid order.
	otherDigitalItem string
	// token and otherToken are valid file tokens of the two customers,
	// expiredToken an expired one of the customer.
	token, otherToken, expiredToken string
	// superuserToken is a valid file token of the superuser.
	superuserToken string
}

func downloadsSetUp(t *testing.T) downloadsShop {
	t.Helper()
	shop := shoptest.Shop()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	var d downloadsShop
	digital := func(user string, status c.OrderStatus) (item, name string) {
		err := app.DB().NewQuery(`SELECT i.id, p.name FROM order_items i
			JOIN orders o ON o.id = i."order" JOIN products p ON p.id = i.product
			WHERE o.user = {:user} AND o.status = {:status} AND p.digital = 1 AND p.asset != ''
			ORDER BY o.created DESC LIMIT 1`).
			Bind(dbx.Params{"user": user, "status": string(status)}).Row(&item, &name)
		if err != nil {
			t.Fatalf("a digital item of a %s order of %s: %v", status, user, err)
		}
		return item, name
	}
	d.digitalItem, d.digitalName = digital(shop.Customer.ID, c.StatusPaid)
	d.otherDigitalItem, _ = digital(shop.Customer2.ID, c.StatusPaid)
	item, err := app.FindRecordById(c.OrderItems, d.digitalItem)
	if err != nil || item.GetString(c.ItemOrder) != shop.CustomerPaidOrder {
		t.Fatalf("item %s is not of the paid order %s (%v)", d.digitalItem, shop.CustomerPaidOrder, err)
	}

	fileToken := func(collection, id string) string {
		record, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatal(err)
		}
		token, err := record.NewFileToken()
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	d.token = fileToken(c.Users, shop.Customer.ID)
	d.otherToken = fileToken(c.Users, shop.Customer2.ID)
	d.superuserToken = fileToken(core.CollectionNameSuperusers, shop.Superuser.ID)
	user, err := app.FindRecordById(c.Users, shop.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	d.expiredToken, err = security.NewJWT(jwt.MapClaims{
		core.TokenClaimType: core.TokenTypeFile, core.TokenClaimId: user.Id, core.TokenClaimCollectionId: user.Collection().Id,
	}, user.TokenKey()+user.Collection().FileToken.Secret, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// downloadsExpectAttachment checks that the answer is a text file sent to
// be saved, not shown, and not kept in shared caches.
func downloadsExpectAttachment(t testing.TB, app *tests.TestApp, res *http.Response) {
	t.Helper()
	disposition := res.Header.Get("Content-Disposition")
	if !strings.HasPrefix(disposition, "attachment; filename=") || !strings.Contains(disposition, ".txt") {
		t.Fatalf("Content-Disposition %q", disposition)
	}
	if cache := res.Header.Get("Cache-Control"); !strings.Contains(cache, "no-store") {
		t.Fatalf("Cache-Control %q lets the download be cached", cache)
	}
	if !strings.Contains(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("Content-Type %q", res.Header.Get("Content-Type"))
	}
}

// downloadsLeftoverAsset gives the physical product a file in its asset
// field, as a product that was digital once keeps: being digital, not
// having a file, is what makes an item downloadable.
func downloadsLeftoverAsset(tb testing.TB, app core.App) {
	tb.Helper()
	_, err := app.DB().Update(c.Products, dbx.Params{c.ProductAsset: "leftover.txt"}, dbx.HashExp{"id": shoptest.Shop().PhysicalProduct}).Execute()
	if err != nil {
		tb.Fatal(err)
	}
}

func downloadsItemURL(item, token string) string {
	u := downloadsURL + "/" + item
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	return u
}

func TestDownloadsWhoMay(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	d := downloadsSetUp(t)
	asset := d.digitalName + "\n\nThank you for your purchase."
	item := downloadsItemURL(d.digitalItem, "")
	shoptest.RunScenarios(t, []tests.ApiScenario{
		{
			Name: "guest lists", Method: http.MethodGet, URL: downloadsURL,
			ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`"status":401`}, NotExpectedContent: []string{d.digitalItem},
		},
		{
			Name: "superuser lists", Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Superuser),
			ExpectedStatus:     http.StatusForbidden,
			ExpectedContent:    []string{`"status":403`, `"message":"The authorized record is not allowed to perform this action."`},
			NotExpectedContent: []string{d.digitalItem},
		},
		{
			Name: "support lists nothing", Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Support),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"items":[]}`},
		},
		{
			Name: "store lists nothing", Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Store),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"items":[]}`},
		},
		{
			Name: "customer lists their download", Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Customer),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"item":"` + d.digitalItem + `"`, `"url":"` + shoptest.AppURL + item + `?token=`},
			NotExpectedContent: []string{d.otherDigitalItem},
		},
		{
			Name: "guest fetches", Method: http.MethodGet, URL: item,
			ExpectedStatus:     http.StatusUnauthorized,
			ExpectedContent:    []string{`"status":401`, `"message":"Sign in, or use a link from your downloads."`},
			NotExpectedContent: []string{asset},
		},
		{
			// a superuser signs in to /_/, not to the shop: no downloads
			Name: "superuser fetches", Method: http.MethodGet, URL: item, Headers: shoptest.Headers(shop.Superuser),
			ExpectedStatus:     http.StatusUnauthorized,
			ExpectedContent:    []string{`"status":401`, `"message":"Sign in, or use a link from your downloads."`},
			NotExpectedContent: []string{asset},
		},
		{
			Name: "superuser's file token fetches", Method: http.MethodGet, URL: downloadsItemURL(d.digitalItem, d.superuserToken),
			ExpectedStatus:     http.StatusUnauthorized,
			ExpectedContent:    []string{`"status":401`},
			NotExpectedContent: []string{asset},
		},
		{
			Name: "support fetches a customer's download", Method: http.MethodGet, URL: item, Headers: shoptest.Headers(shop.Support),
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}, NotExpectedContent: []string{asset},
		},
		{
			Name: "store fetches a customer's download", Method: http.MethodGet, URL: item, Headers: shoptest.Headers(shop.Store),
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}, NotExpectedContent: []string{asset},
		},
		{
			Name: "the owner fetches", Method: http.MethodGet, URL: item, Headers: shoptest.Headers(shop.Customer),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{asset},
			AfterTestFunc: downloadsExpectAttachment,
		},
	})
}

// downloadsListed is the body of GET /api/v1/downloads.
type downloadsListed struct {
	Items []struct {
		Item        string `json:"item"`
		Order       string `json:"order"`
		OrderNumber string `json:"order_number"`
		Product     string `json:"product"`
		ProductName string `json:"product_name"`
		URL         string `json:"url"`
		Expires     string `json:"expires"`
	} `json:"items"`
}

// TestDownloadsListOnlyPaidDigitalItems adds the digital product to an
// order of the customer in every status, and a physical line to the paid
// order, then compares the list with what the orders table says.
func TestDownloadsListOnlyPaidDigitalItems(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	added := map[c.OrderStatus]string{}
	physical := purchasesID("dlphysical", 1)
	factory := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		for n, status := range c.OrderStatuses {
			// an order of its own, so that the seeded orders keep their status
			order := purchasesID("dlorder", n)
			purchasesInsertOrder(tb, app, purchasesOrder{id: order, user: shop.Customer.ID, status: status, total: 1500, created: time.Now().UTC().AddDate(0, -2, 0)})
			added[status] = purchasesID("dldigital", n)
			purchasesInsertItem(tb, app, purchasesItem{
				id: added[status], order: order, user: shop.Customer.ID, product: shop.DigitalProduct,
				name: "Digital " + string(status), unitPrice: 1500, quantity: 1, created: time.Now().UTC().Add(-time.Hour),
			})
		}
		purchasesInsertItem(tb, app, purchasesItem{
			id: physical, order: shop.CustomerPaidOrder, user: shop.Customer.ID, product: shop.PhysicalProduct,
			name: "Physical", unitPrice: 1000, quantity: 2, created: time.Now().UTC().Add(-time.Hour),
		})
		downloadsLeftoverAsset(tb, app)
		return app
	}
	s := tests.ApiScenario{
		Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Customer),
		TestAppFactory:     factory,
		ExpectedStatus:     http.StatusOK,
		ExpectedContent:    []string{`"items":[{`},
		NotExpectedContent: []string{physical, shop.Customer2Order, `"Authorization"`},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			var body downloadsListed
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			// every digital item of the customer's paid, shipped and delivered orders
			var want []string
			orders, err := app.FindAllRecords(c.Orders, dbx.HashExp{c.OrderUser: shop.Customer.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range orders {
				if s := c.NewOrder(o).Status(); s != c.StatusPaid && s != c.StatusShipped && s != c.StatusDelivered {
					continue
				}
				items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: o.Id})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range items {
					p, err := app.FindRecordById(c.Products, it.GetString(c.ItemProduct))
					if err != nil {
						t.Fatal(err)
					}
					if c.NewProduct(p).Digital() {
						want = append(want, it.Id)
					}
				}
			}
			var got []string
			now := time.Now().UTC()
			for _, it := range body.Items {
				got = append(got, it.Item)
				prefix := shoptest.AppURL + downloadsURL + "/" + it.Item + "?token="
				if !strings.HasPrefix(it.URL, prefix) || len(it.URL) <= len(prefix) {
					t.Fatalf("url %q, want %s…", it.URL, prefix)
				}
				token := strings.TrimPrefix(it.URL, prefix)
				holder, err := app.FindAuthRecordByToken(token, core.TokenTypeFile)
				if err != nil || holder.Id != shop.Customer.ID {
					t.Fatalf("the link's token is not the customer's file token: %v", err)
				}
				record, err := app.FindRecordById(c.OrderItems, it.Item)
				if err != nil || it.Order != record.GetString(c.ItemOrder) || it.Product != record.GetString(c.ItemProduct) ||
					it.ProductName != record.GetString(c.ItemProductName) || it.OrderNumber == "" {
					t.Fatalf("listed %+v, stored %v (%v)", it, record, err)
				}
				expires, err := time.Parse("2006-01-02 15:04:05.000Z", it.Expires)
				if err != nil || expires.Before(now.Add(time.Minute)) || expires.After(now.Add(15*time.Minute)) {
					t.Fatalf("the link expires at %q, want in a few minutes (%v)", it.Expires, err)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("downloads %v, want %v", got, want)
			}
			for status, item := range added {
				listed := slices.Contains(got, item)
				if listed != (status == c.StatusPaid || status == c.StatusShipped || status == c.StatusDelivered) {
					t.Fatalf("the digital item of a %s order listed: %v", status, listed)
				}
			}
		},
	}
	s.Test(t)
}

// TestDownloadsLinkServesTheAsset follows the link of the list as a plain
// browser link would: no Authorization header.
func TestDownloadsLinkServesTheAsset(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	d := downloadsSetUp(t)
	var link string
	list := tests.ApiScenario{
		Name: "list", Method: http.MethodGet, URL: downloadsURL, Headers: shoptest.Headers(shop.Customer),
		TestAppFactory:  shoptest.Factory,
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"item":"` + d.digitalItem + `"`},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			var body downloadsListed
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			for _, it := range body.Items {
				if it.Item == d.digitalItem {
					link = strings.TrimPrefix(it.URL, shoptest.AppURL)
				}
			}
		},
	}
	list.Test(t)
	if !strings.HasPrefix(link, downloadsURL+"/"+d.digitalItem+"?token=") {
		t.Fatalf("link %q", link)
	}
	fetch := tests.ApiScenario{
		Name: "follow the link", Method: http.MethodGet, URL: link,
		TestAppFactory:  shoptest.Factory,
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{d.digitalName + "\n\nThank you for your purchase.\n"},
		AfterTestFunc:   downloadsExpectAttachment,
	}
	fetch.Test(t)
}

func TestDownloadsRefused(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	d := downloadsSetUp(t)
	asset := "Thank you for your purchase."
	physical := purchasesID("dlphysical", 2)
	withStatus := func(status c.OrderStatus) func(testing.TB) *tests.TestApp {
		return func(tb testing.TB) *tests.TestApp {
			app := shoptest.NewApp(tb)
			shoptest.SetStatus(tb, app, shop.CustomerPaidOrder, status)
			return app
		}
	}
	withPhysical := func(tb testing.TB) *tests.TestApp {
		app := shoptest.NewApp(tb)
		purchasesInsertItem(tb, app, purchasesItem{
			id: physical, order: shop.CustomerPaidOrder, user: shop.Customer.ID, product: shop.PhysicalProduct,
			name: "Physical", unitPrice: 1000, quantity: 1, created: time.Now().UTC(),
		})
		downloadsLeftoverAsset(tb, app)
		return app
	}
	customer := shoptest.Headers(shop.Customer)
	scenarios := []tests.ApiScenario{
		{
			Name: "an expired link", URL: downloadsItemURL(d.digitalItem, d.expiredToken),
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`"status":401`, `This download link has expired`},
		},
		{
			// an auth token must not work as a link: links end up in logs and histories
			Name: "an auth token as the link's token", URL: downloadsItemURL(d.digitalItem, shop.Customer.Token),
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`"status":401`},
		},
		{
			Name: "a forged token", URL: downloadsItemURL(d.digitalItem, "not-a-token"),
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`"status":401`},
		},
		{
			Name: "an expired link with a valid Authorization", URL: downloadsItemURL(d.digitalItem, d.expiredToken), Headers: customer,
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`"status":401`},
		},
		{
			Name: "another customer's link", URL: downloadsItemURL(d.digitalItem, d.otherToken),
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
		{
			Name: "someone else's item with one's own Authorization", URL: downloadsItemURL(d.otherDigitalItem, ""), Headers: customer,
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
		{
			Name: "someone else's item with one's own link", URL: downloadsItemURL(d.otherDigitalItem, d.token),
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
		{
			Name: "an unknown item", URL: downloadsItemURL("nosuchitem0000", ""), Headers: customer,
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
		{
			Name: "a physical item", URL: downloadsItemURL(physical, ""), Headers: customer, TestAppFactory: withPhysical,
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`, `"message":"This item has nothing to download."`},
		},
		{
			Name: "a physical item by link", URL: downloadsItemURL(physical, d.token), TestAppFactory: withPhysical,
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`, `"message":"This item has nothing to download."`},
		},
	}
	for _, status := range []c.OrderStatus{c.StatusRefunded, c.StatusCancelled, c.StatusPending} {
		for _, how := range []struct {
			name, token string
			headers     map[string]string
		}{{"by link", d.token, nil}, {"signed in", "", customer}} {
			scenarios = append(scenarios, tests.ApiScenario{
				Name: "a " + string(status) + " order " + how.name, URL: downloadsItemURL(d.digitalItem, how.token), Headers: how.headers,
				TestAppFactory:  withStatus(status),
				ExpectedStatus:  http.StatusForbidden,
				ExpectedContent: []string{`"status":403`, `"message":"The download is not available: the order is ` + string(status) + `."`},
			})
		}
	}
	for _, s := range scenarios {
		s.Method = http.MethodGet
		s.NotExpectedContent = append(s.NotExpectedContent, asset)
		if s.TestAppFactory == nil {
			s.TestAppFactory = shoptest.Factory
		}
		s.Test(t)
	}

	// the same requests that are refused above go through for the right
	// person and status, so the refusals are about the reason they name
	var allowed []tests.ApiScenario
	allowed = append(allowed,
		tests.ApiScenario{Name: "the other customer's own item", URL: downloadsItemURL(d.otherDigitalItem, ""), Headers: shoptest.Headers(shop.Customer2)},
		tests.ApiScenario{Name: "the other customer's own link", URL: downloadsItemURL(d.otherDigitalItem, d.otherToken)},
		tests.ApiScenario{Name: "a valid link with another's Authorization", URL: downloadsItemURL(d.digitalItem, d.token), Headers: shoptest.Headers(shop.Customer2)},
	)
	for _, status := range []c.OrderStatus{c.StatusPaid, c.StatusShipped, c.StatusDelivered} {
		allowed = append(allowed, tests.ApiScenario{
			Name: "a " + string(status) + " order by link", URL: downloadsItemURL(d.digitalItem, d.token), TestAppFactory: withStatus(status),
		})
	}
	for _, s := range allowed {
		s.Method, s.ExpectedStatus, s.ExpectedContent = http.MethodGet, http.StatusOK, []string{asset}
		if s.TestAppFactory == nil {
			s.TestAppFactory = shoptest.Factory
		}
		s.AfterTestFunc = downloadsExpectAttachment
		s.Test(t)
	}
}
