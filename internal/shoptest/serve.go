package shoptest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// ServeShop is the app's HTTP handler with every route, for tests that
// send several requests to one app.
func ServeShop(t *testing.T, app *tests.TestApp) http.Handler {
	t.Helper()
	router, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: router}, func(e *core.ServeEvent) error {
		handler, err = e.Router.BuildMux()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return handler
}

// ServedShop is a fresh shop and its HTTP handler, for tests that send it
// several requests; the shop is removed when the test ends.
func ServedShop(t *testing.T) (*tests.TestApp, http.Handler) {
	t.Helper()
	app := NewApp(t)
	t.Cleanup(app.Cleanup)
	return app, ServeShop(t, app)
}

// CacheGet sends a GET with token to handler and decodes the JSON answer.
func CacheGet(t *testing.T, handler http.Handler, path, token string, out any) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res := httptest.NewRecorder()
	handler.ServeHTTP(res, req)
	if res.Code == http.StatusOK && out != nil {
		if err := json.Unmarshal(res.Body.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, res.Body)
		}
	}
	return res.Code
}

// CachePurchases is the customer's purchases page 1: item id to status
// and product name.
func CachePurchases(t *testing.T, handler http.Handler, token string) map[string][2]string {
	t.Helper()
	var page struct {
		Items []struct {
			ID          string `json:"id"`
			Status      string `json:"status"`
			ProductName string `json:"product_name"`
		} `json:"items"`
	}
	if code := CacheGet(t, handler, PurchasesURL+"?perPage=100", token, &page); code != http.StatusOK {
		t.Fatalf("purchases: %d", code)
	}
	out := map[string][2]string{}
	for _, it := range page.Items {
		out[it.ID] = [2]string{it.Status, it.ProductName}
	}
	return out
}

const DashboardURL = "/api/v1/dashboard"

// DashboardBody is the body of GET /api/v1/dashboard.
type DashboardBody struct {
	User             map[string]any   `json:"user"`
	FeaturedProducts []map[string]any `json:"featured_products"`
	RecentOrder      *struct {
		ID     string `json:"id"`
		User   string `json:"user"`
		Status string `json:"status"`
		Items  []struct {
			ID    string `json:"id"`
			Order string `json:"order"`
		} `json:"items"`
	} `json:"recent_order"`
	Stats *struct {
		Orders   *int    `json:"orders_12m"`
		Spent    *int    `json:"spent_12m"`
		Currency *string `json:"currency"`
	} `json:"stats"`
}

const PurchasesURL = "/api/v1/purchases"
