package customer

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/cache"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
)

// Paging and window limits of GET /api/v1/purchases.
const (
	purchasesPerPage    = 20
	purchasesMaxPerPage = 100
	purchasesMaxMonths  = 24
)

// purchaseSorts maps the sort names of CONTRACT §3 to SQL columns.
var purchaseSorts = map[string]string{
	"created":           "i.created",
	"product_name":      "i.product_name",
	"unit_price":        "i.unit_price",
	"quantity":          "i.quantity",
	"total":             "(i.unit_price * i.quantity)",
	"status":            "o.status",
	"estimated_arrival": "i.estimated_arrival",
}

// purchasesQuery is the validated query string of GET /api/v1/purchases.
type purchasesQuery struct {
	Page     int
	PerPage  int
	Sort     string
	Statuses []string
	From, To time.Time
}

// parsePurchasesQuery reads and checks the query string; every bad value
// is a field error named after its parameter.
func parsePurchasesQuery(q url.Values, now time.Time) (purchasesQuery, error) {
	errs := validation.Errors{}
	p := purchasesQuery{Page: 1, PerPage: purchasesPerPage, Sort: "-created", To: now, From: now.AddDate(-1, 0, 0)}
	readInt := func(name string, target *int, lo, hi int) {
		raw := q.Get(name)
		if raw == "" {
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			errs[name] = validation.NewError("validation_out_of_range", fmt.Sprintf("Must be a whole number from %d to %d.", lo, hi))
			return
		}
		*target = n
	}
	readInt("page", &p.Page, 1, 1_000_000)
	readInt("perPage", &p.PerPage, 1, purchasesMaxPerPage)

	if raw := q.Get("sort"); raw != "" {
		if _, ok := purchaseSorts[strings.TrimPrefix(raw, "-")]; !ok {
			errs["sort"] = validation.NewError("validation_invalid_sort",
				"Sort by created, product_name, unit_price, quantity, total, status or estimated_arrival, with - for descending.")
		} else {
			p.Sort = raw
		}
	}
	if raw := q.Get("status"); raw != "" {
		for _, s := range strings.Split(raw, ",") {
			if !slices.Contains(c.OrderStatuses, c.OrderStatus(s)) {
				errs["status"] = validation.NewError("validation_invalid_status",
					"Must be pending, paid, shipped, delivered, cancelled or refunded (several separated by commas).")
				break
			}
			if !slices.Contains(p.Statuses, s) {
				p.Statuses = append(p.Statuses, s)
			}
		}
	}
	readDate := func(name string, target *time.Time, endOfDay bool) {
		raw := q.Get(name)
		if raw == "" {
			return
		}
		t, dateOnly, err := parseDate(raw)
		if err != nil {
			errs[name] = validation.NewError("validation_invalid_date", "Must be a date (2026-01-31) or a UTC time (2026-01-31T12:00:00Z).")
			return
		}
		if dateOnly && endOfDay {
			t = t.AddDate(0, 0, 1) // "to=2026-01-31" includes that day
		}
		*target = t
	}
	readDate("from", &p.From, false)
	readDate("to", &p.To, true)
	if q.Get("from") == "" && q.Get("to") != "" {
		p.From = p.To.AddDate(-1, 0, 0) // "to" alone ends a 12-month window
	}
	if errs["from"] == nil && errs["to"] == nil {
		switch {
		case !p.From.Before(p.To):
			errs["from"] = validation.NewError("validation_from_after_to", "Must be before to.")
		case p.From.Before(p.To.AddDate(0, -purchasesMaxMonths, 0)):
			errs["from"] = validation.NewError("validation_window_too_long",
				fmt.Sprintf("The window is at most %d months.", purchasesMaxMonths))
		}
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// parseDate reads a date or an RFC 3339 time, in UTC.
func parseDate(raw string) (t time.Time, dateOnly bool, err error) {
	if t, err = time.Parse(time.DateOnly, raw); err == nil {
		return t.UTC(), true, nil
	}
	t, err = time.Parse(time.RFC3339, raw)
	return t.UTC(), false, err
}

// cacheKey names the answer to q in the answer cache: what decides it and
// nothing else, so that other parameters cannot fill the cache. The default
// window moves with the clock and is named as such.
func (p purchasesQuery) cacheKey(raw url.Values) string {
	window := "last-12-months"
	if raw.Get("from") != "" || raw.Get("to") != "" {
		to := "now" // a window open to the present, like the default one
		if raw.Get("to") != "" {
			to = records.Stamp(p.To).String()
		}
		window = records.Stamp(p.From).String() + "/" + to
	}
	statuses := slices.Sorted(slices.Values(p.Statuses))
	return fmt.Sprintf("purchases page=%d perPage=%d sort=%s status=%s window=%s",
		p.Page, p.PerPage, p.Sort, strings.Join(statuses, ","), window)
}

// orderBy is the ORDER BY columns: the chosen one, then newest first and
// the id, so equal values page stably.
func (p purchasesQuery) orderBy() []string {
	column := purchaseSorts[strings.TrimPrefix(p.Sort, "-")]
	dir := " ASC"
	if strings.HasPrefix(p.Sort, "-") {
		dir = " DESC"
	}
	if column == "i.created" {
		return []string{"i.created" + dir, "i.id" + dir}
	}
	return []string{column + dir, "i.created DESC", "i.id DESC"}
}

// purchase is one row of GET /api/v1/purchases.
type purchase struct {
	ID               string         `db:"id" json:"id"`
	Order            string         `db:"order" json:"order"`
	OrderNumber      string         `db:"order_number" json:"order_number"`
	Status           string         `db:"status" json:"status"`
	Product          string         `db:"product" json:"product"`
	ProductName      string         `db:"product_name" json:"product_name"`
	UnitPrice        int            `db:"unit_price" json:"unit_price"`
	Quantity         int            `db:"quantity" json:"quantity"`
	Total            int            `db:"total" json:"total"`
	Currency         string         `db:"currency" json:"currency"`
	EstimatedArrival types.DateTime `db:"estimated_arrival" json:"estimated_arrival"`
	Created          types.DateTime `db:"created" json:"created"`
}

func registerPurchases(app core.App, answers *cache.Answers, stmts *prepared.Statements) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		access.V1(se).GET("/purchases", func(e *core.RequestEvent) error {
			return listPurchases(e, answers, stmts)
		}).Bind(access.SignedIn(), access.RequirePermission(c.PermGetOrders))
		return se.Next()
	})
}

// listPurchases answers a page of the signed-in user's order items in a
// window, from the answer cache or from findPurchases.
func listPurchases(e *core.RequestEvent, answers *cache.Answers, stmts *prepared.Statements) error {
	query := e.Request.URL.Query()
	q, err := parsePurchasesQuery(query, time.Now().UTC())
	if err != nil {
		return e.BadRequestError("Check the query parameters.", err)
	}
	// The picked fields are applied by e.JSON to the whole answer.
	body, err := answers.JSON(e.Auth.Id, q.cacheKey(query), func() (any, error) {
		return findPurchases(e.App, stmts, e.Auth.Id, q)
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	return cache.Write(e, body)
}

// findPurchases reads a page of a user's order items with one indexed query
// for the page and one for the count: order_items carries its user, so the
// window is a range of idx_order_items_user_created. Both run as prepared
// statements (prepared.Statements).
func findPurchases(app core.App, stmts *prepared.Statements, userID string, q purchasesQuery) (map[string]any, error) {
	where := "i.`user` = ? AND i.`created` >= ? AND i.`created` < ?"
	args := []any{userID, records.Stamp(q.From).String(), records.Stamp(q.To).String()}
	join := ""
	if len(q.Statuses) > 0 {
		join = " INNER JOIN `orders` `o` ON o.id = i.\"order\""
		where += " AND o.`status` IN (?" + strings.Repeat(",?", len(q.Statuses)-1) + ")"
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}

	var total int
	err := stmts.Query(app, "SELECT count(*) FROM `order_items` `i`"+join+" WHERE "+where, args, func(rows *sql.Rows) error {
		return rows.Scan(&total)
	})
	if err != nil {
		return nil, fmt.Errorf("count purchases: %w", err)
	}

	items := make([]purchase, 0, q.PerPage)
	page := "SELECT i.id, i.\"order\", o.number, o.status, i.product, i.product_name, i.unit_price, i.quantity," +
		" i.unit_price * i.quantity, o.currency, i.estimated_arrival, i.created" +
		" FROM `order_items` `i` INNER JOIN `orders` `o` ON o.id = i.\"order\"" +
		" WHERE " + where + " ORDER BY " + strings.Join(q.orderBy(), ", ") +
		// The page size in the text, not a parameter: SQLite walks the
		// index in the ORDER BY's order and stops early only for a LIMIT it
		// knows (twice as fast a page); perPage is a bounded number.
		" LIMIT " + strconv.Itoa(q.PerPage) + " OFFSET ?"
	err = stmts.Query(app, page, append(args, (q.Page-1)*q.PerPage), func(rows *sql.Rows) error {
		var p purchase
		err := rows.Scan(&p.ID, &p.Order, &p.OrderNumber, &p.Status, &p.Product, &p.ProductName, &p.UnitPrice,
			&p.Quantity, &p.Total, &p.Currency, &p.EstimatedArrival, &p.Created)
		items = append(items, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list purchases: %w", err)
	}
	return map[string]any{
		"page":       q.Page,
		"perPage":    q.PerPage,
		"totalItems": total,
		"totalPages": (total + q.PerPage - 1) / q.PerPage,
		"items":      items,
	}, nil
}
