package cache_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// cacheDashboard is the customer's dashboard.
func cacheDashboard(t *testing.T, handler http.Handler, token string) shoptest.DashboardBody {
	t.Helper()
	var body shoptest.DashboardBody
	if code := shoptest.CacheGet(t, handler, shoptest.DashboardURL, token, &body); code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	return body
}

// TestCachedAnswersShowAnOrderChangeAtOnce: a status change saved by the
// shop (as a webhook or support does) is in the very next purchases page
// and dashboard, although both were cached just before.
func TestCachedAnswersShowAnOrderChangeAtOnce(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, handler := shoptest.ServedShop(t)

	before := shoptest.CachePurchases(t, handler, shop.Customer.Token)
	if got := before[shop.CustomerItem][0]; got != string(c.StatusPending) {
		t.Fatalf("item %s status %q before, want pending", shop.CustomerItem, got)
	}
	cacheDashboard(t, handler, shop.Customer.Token)

	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)

	if got := shoptest.CachePurchases(t, handler, shop.Customer.Token)[shop.CustomerItem][0]; got != string(c.StatusPaid) {
		t.Fatalf("item status %q after the payment, want paid", got)
	}
	dash := cacheDashboard(t, handler, shop.Customer.Token)
	if dash.RecentOrder == nil || dash.RecentOrder.ID != shop.CustomerOrder || dash.RecentOrder.Status != string(c.StatusPaid) {
		t.Fatalf("recent order %+v, want %s paid", dash.RecentOrder, shop.CustomerOrder)
	}
}

// TestCachedAnswersAreEachCustomersOwn: with both customers' answers
// cached, each still sees only their own items, and a change of one
// customer's order leaves the other's answer as it was.
func TestCachedAnswersAreEachCustomersOwn(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, handler := shoptest.ServedShop(t)

	for round := range 2 { // the second round is served from the cache
		mine := shoptest.CachePurchases(t, handler, shop.Customer.Token)
		theirs := shoptest.CachePurchases(t, handler, shop.Customer2.Token)
		if _, ok := mine[shop.CustomerItem]; !ok {
			t.Fatalf("round %d: customer's purchases lack their item %s", round, shop.CustomerItem)
		}
		if _, ok := mine[shop.Customer2Item]; ok {
			t.Fatalf("round %d: customer's purchases show customer2's item %s", round, shop.Customer2Item)
		}
		if _, ok := theirs[shop.CustomerItem]; ok {
			t.Fatalf("round %d: customer2's purchases show the customer's item %s", round, shop.CustomerItem)
		}
		if d := cacheDashboard(t, handler, shop.Customer2.Token); d.RecentOrder == nil || d.RecentOrder.User != shop.Customer2.ID {
			t.Fatalf("round %d: customer2's recent order %+v, want one of theirs", round, d.RecentOrder)
		}
	}

	theirsBefore := shoptest.CachePurchases(t, handler, shop.Customer2.Token)
	setItemName(t, app, shop.Customer2Item, "renamed past the hooks")
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	if got := shoptest.CachePurchases(t, handler, shop.Customer.Token)[shop.CustomerItem][0]; got != string(c.StatusPaid) {
		t.Fatalf("customer's item status %q after their payment, want paid", got)
	}
	// customer2's answer is still the cached one: the SQL rename is unseen.
	if got := shoptest.CachePurchases(t, handler, shop.Customer2.Token); !reflect.DeepEqual(got, theirsBefore) {
		t.Fatalf("customer2's purchases changed with the customer's order:\n%v\nwant\n%v", got, theirsBefore)
	}
}

// TestCachedFeaturedProductsFollowTheCatalogue: a featured product the
// store renames is renamed on the next dashboard.
func TestCachedFeaturedProductsFollowTheCatalogue(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app, handler := shoptest.ServedShop(t)

	first := cacheDashboard(t, handler, shop.Customer.Token)
	if len(first.FeaturedProducts) == 0 {
		t.Fatal("no featured products in the template shop")
	}
	id, _ := first.FeaturedProducts[0]["id"].(string)
	product, err := app.FindRecordById(c.Products, id)
	if err != nil {
		t.Fatal(err)
	}
	product.Set(c.ProductName, "Renamed by the store")
	if err := app.Save(product); err != nil {
		t.Fatal(err)
	}
	again := cacheDashboard(t, handler, shop.Customer2.Token)
	found := false
	for _, p := range again.FeaturedProducts {
		if p["id"] == id {
			found = true
			if p["name"] != "Renamed by the store" {
				t.Fatalf("featured product %s still named %v", id, p["name"])
			}
		}
	}
	if !found {
		t.Fatalf("featured product %s left the dashboard when renamed", id)
	}
}

// TestAnswerCacheServesRepeatedReads: a write that bypasses the shop's
// hooks (another process writing SQL) is not seen while an answer is
// cached, which shows the second read came from memory; with the cache
// off (SHOPDASH_CACHE_TTL=off) it is seen at once.
func TestAnswerCacheServesRepeatedReads(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	for _, tc := range []struct {
		name     string
		ttl      time.Duration // Config.CacheTTL: 0 is the default, negative off
		wantName string
	}{
		{"cache on", 0, "before"},
		{"cache off", -1, "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := shoptest.NewAppWith(t, hooks.Config{AppURL: shoptest.AppURL, CacheTTL: tc.ttl})
			defer app.Cleanup()
			handler := shoptest.ServeShop(t, app)
			setItemName(t, app, shop.CustomerItem, "before")
			if got := shoptest.CachePurchases(t, handler, shop.Customer.Token)[shop.CustomerItem][1]; got != "before" {
				t.Fatalf("product name %q, want before", got)
			}
			setItemName(t, app, shop.CustomerItem, "after")
			if got := shoptest.CachePurchases(t, handler, shop.Customer.Token)[shop.CustomerItem][1]; got != tc.wantName {
				t.Fatalf("product name %q on the second read, want %s", got, tc.wantName)
			}
		})
	}
}

// setItemName renames an order item with plain SQL, past the hooks.
func setItemName(t *testing.T, app core.App, item, name string) {
	t.Helper()
	if _, err := app.DB().Update(c.OrderItems, dbx.Params{c.ItemProductName: name}, dbx.HashExp{"id": item}).Execute(); err != nil {
		t.Fatal(err)
	}
}

// TestCachedAnswersKeepPocketBaseFieldsPicking: a cached answer is sent
// as stored, as JSON, and ?fields= still picks from it as e.JSON does.
func TestCachedAnswersKeepPocketBaseFieldsPicking(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	_, handler := shoptest.ServedShop(t)
	for _, tc := range []struct {
		path string
		keys []string
	}{
		{shoptest.PurchasesURL, []string{"items", "page", "perPage", "totalItems", "totalPages"}},
		{shoptest.PurchasesURL + "?fields=page,totalItems", []string{"page", "totalItems"}},
		{shoptest.DashboardURL, []string{"featured_products", "recent_order", "stats", "user"}},
		{shoptest.DashboardURL + "?fields=stats", []string{"stats"}},
	} {
		for round := range 2 { // built, then from the cache
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Authorization", shop.Customer.Token)
			res := httptest.NewRecorder()
			handler.ServeHTTP(res, req)
			var body map[string]any
			if err := json.Unmarshal(res.Body.Bytes(), &body); err != nil || res.Code != http.StatusOK {
				t.Fatalf("%s round %d: %d %v %.200s", tc.path, round, res.Code, err, res.Body)
			}
			if ct := res.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s round %d: Content-Type %q", tc.path, round, ct)
			}
			keys := slices.Sorted(maps.Keys(body))
			if !slices.Equal(keys, tc.keys) {
				t.Errorf("%s round %d: keys %v, want %v", tc.path, round, keys, tc.keys)
			}
		}
	}
}
