package customer

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/cache"
	"shopdash/hooks/records"
)

// maxFeatured is how many featured products the dashboard shows.
const maxFeatured = 8

// spendingStatuses are the orders that count as bought in the stats:
// paid and not given back.
var spendingStatuses = []any{string(c.StatusPaid), string(c.StatusShipped), string(c.StatusDelivered)}

func registerDashboard(app core.App, answers *cache.Answers) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		access.V1(se).GET("/dashboard", func(e *core.RequestEvent) error {
			return showDashboard(e, answers)
		}).Bind(access.SignedIn())
		return se.Next()
	})
}

// showDashboard answers the customer's home screen: the profile, and two
// cached parts, the featured products (the same for everyone) and the
// customer's own newest order and 12-month stats.
func showDashboard(e *core.RequestEvent, answers *cache.Answers) error {
	featured, err := answers.JSON(cache.CatalogueOwner, "featured", func() (any, error) {
		return featuredProducts(e.App)
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	recent, err := answers.JSON(e.Auth.Id, "dashboard/recent_order", func() (any, error) {
		return recentOrder(e.App, e.Auth.Id)
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	stats, err := answers.JSON(e.Auth.Id, "dashboard/stats", func() (any, error) {
		return spendingStats(e.App, e.Auth.Id, time.Now().UTC().AddDate(-1, 0, 0))
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	user, err := cache.Marshal(profile(e.Auth))
	if err != nil {
		return e.InternalServerError("", err)
	}
	// The parts are JSON already: joined, not encoded again (writeAnswer).
	parts := []struct {
		name  string
		value []byte
	}{{"user", user}, {"featured_products", featured}, {"recent_order", recent}, {"stats", stats}}
	var body bytes.Buffer
	body.WriteByte('{')
	for i, part := range parts {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(strconv.Quote(part.name) + ":")
		body.Write(part.value)
	}
	body.WriteByte('}')
	return cache.Write(e, body.Bytes())
}

// featuredProducts is up to maxFeatured active featured products, the most
// recently changed first.
func featuredProducts(app core.App) ([]map[string]any, error) {
	featured, err := app.FindRecordsByFilter(c.Products, "active = true && featured = true", "-updated", maxFeatured, 0)
	if err != nil {
		return nil, fmt.Errorf("featured products: %w", err)
	}
	products := make([]map[string]any, len(featured))
	for i, p := range featured {
		products[i] = p.PublicExport()
	}
	return products, nil
}

// recentOrder is the user's newest order with its items, or nil (an
// untyped nil: a nil map would be written as {}).
func recentOrder(app core.App, userID string) (any, error) {
	orders, err := app.FindRecordsByFilter(c.Orders, "user = {:user}", "-created,-id", 1, 0, dbx.Params{"user": userID})
	if err != nil {
		return nil, fmt.Errorf("recent order: %w", err)
	}
	if len(orders) == 0 {
		return nil, nil
	}
	return orderWithItems(app, orders[0])
}

// orderWithItems is an order's public fields with its items under "items".
func orderWithItems(app core.App, order *core.Record) (map[string]any, error) {
	items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order.Id})
	if err != nil {
		return nil, fmt.Errorf("items of order %s: %w", order.Id, err)
	}
	out := order.PublicExport()
	list := make([]map[string]any, len(items))
	for i, item := range items {
		list[i] = item.PublicExport()
	}
	out["items"] = list
	return out, nil
}

// spendingStats counts the user's paid orders since a time and what they
// cost, in the currency most of them were in (orders in other currencies
// are left out of the sum rather than added across currencies).
func spendingStats(app core.App, userID string, since time.Time) (map[string]any, error) {
	var rows []struct {
		Currency string `db:"currency"`
		Orders   int    `db:"orders"`
		Spent    int    `db:"spent"`
	}
	err := app.DB().Select("currency", "count(*) AS orders", "coalesce(sum(total), 0) AS spent").
		From(c.Orders).
		Where(dbx.HashExp{c.OrderUser: userID}).
		AndWhere(dbx.NewExp("created >= {:since}", dbx.Params{"since": records.Stamp(since).String()})).
		AndWhere(dbx.In(c.OrderStatusField, spendingStatuses...)).
		GroupBy("currency").OrderBy("orders DESC", "currency ASC").
		All(&rows)
	if err != nil {
		return nil, fmt.Errorf("spending stats: %w", err)
	}
	stats := map[string]any{"orders_12m": 0, "spent_12m": 0, "currency": c.DefaultCurrency}
	if len(rows) > 0 {
		stats = map[string]any{"orders_12m": rows[0].Orders, "spent_12m": rows[0].Spent, "currency": rows[0].Currency}
	}
	return stats, nil
}
