package customer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"database/sql"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/cache"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
)

// maxFeatured is how many featured products the dashboard shows.
const maxFeatured = 8

// spendingStatuses are the orders that count as bought in the stats:
// paid and not given back.
var spendingStatuses = []any{string(c.StatusPaid), string(c.StatusShipped), string(c.StatusDelivered)}

func registerDashboard(app core.App, answers *cache.Answers, stmts *prepared.Statements) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		access.V1(se).GET("/dashboard", func(e *core.RequestEvent) error {
			return showDashboard(e, answers, stmts)
		}).Bind(access.SignedIn())
		return se.Next()
	})
}

// showDashboard answers the customer's home screen: the profile, and two
// cached parts, the featured products (the same for everyone) and the
// customer's own newest order and 12-month stats.
func showDashboard(e *core.RequestEvent, answers *cache.Answers, stmts *prepared.Statements) error {
	featured, err := answers.JSON(cache.CatalogueOwner, "featured", func() (any, error) {
		return featuredProducts(e.App, stmts)
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	recent, err := answers.JSON(e.Auth.Id, "dashboard/recent_order", func() (any, error) {
		return recentOrder(e.App, stmts, e.Auth.Id)
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	stats, err := answers.JSON(e.Auth.Id, "dashboard/stats", func() (any, error) {
		return spendingStats(e.App, stmts, e.Auth.Id, time.Now().UTC().AddDate(-1, 0, 0))
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
func featuredProducts(app core.App, stmts *prepared.Statements) ([]map[string]any, error) {
	featured, err := stmts.FindPublic(app, c.Products, "`active` = 1 AND `featured` = 1", "`updated` DESC", maxFeatured)
	if err != nil {
		return nil, fmt.Errorf("featured products: %w", err)
	}
	if featured == nil {
		featured = []map[string]any{}
	}
	return featured, nil
}

// recentOrder is the user's newest order with its items, or nil (an
// untyped nil: a nil map would be written as {}).
func recentOrder(app core.App, stmts *prepared.Statements, userID string) (any, error) {
	orders, err := stmts.FindPublic(app, c.Orders, "`user` = ?", "`created` DESC, `id` DESC", 1, userID)
	if err != nil {
		return nil, fmt.Errorf("recent order: %w", err)
	}
	if len(orders) == 0 {
		return nil, nil
	}
	return orderWithItems(app, stmts, orders[0])
}

// orderWithItems is an order's public fields with its items under "items".
func orderWithItems(app core.App, stmts *prepared.Statements, order map[string]any) (map[string]any, error) {
	id, _ := order[core.FieldNameId].(string)
	items, err := stmts.FindPublic(app, c.OrderItems, "`order` = ?", "", 0, id)
	if err != nil {
		return nil, fmt.Errorf("items of order %s: %w", id, err)
	}
	if items == nil {
		items = []map[string]any{}
	}
	order["items"] = items
	return order, nil
}

// spendingStats counts the user's paid orders since a time and what they
// cost, in the currency most of them were in (orders in other currencies
// are left out of the sum rather than added across currencies).
func spendingStats(app core.App, stmts *prepared.Statements, userID string, since time.Time) (map[string]any, error) {
	stats := map[string]any{"orders_12m": 0, "spent_12m": 0, "currency": c.DefaultCurrency}
	args := append([]any{userID, records.Stamp(since).String()}, spendingStatuses...)
	first := true
	err := stmts.Query(app, spendingQuery, args, func(rows *sql.Rows) error {
		var currency string
		var orders, spent int
		if err := rows.Scan(&currency, &orders, &spent); err != nil || !first {
			return err
		}
		first = false
		stats = map[string]any{"orders_12m": orders, "spent_12m": spent, "currency": currency}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spending stats: %w", err)
	}
	return stats, nil
}

// spendingQuery sums a customer's paid orders since a time, by currency,
// the currency with the most orders first; idx_orders_user_created covers
// it.
var spendingQuery = "SELECT `currency`, count(*) AS orders, coalesce(sum(`total`), 0) AS spent FROM `orders`" +
	" WHERE `user` = ? AND `created` >= ? AND `status` IN (?" + strings.Repeat(", ?", len(spendingStatuses)-1) + ")" +
	" GROUP BY `currency` ORDER BY orders DESC, `currency` ASC"
