package customer

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"

	c "shopdash/collections"
)

// FuzzPurchasesQuery reads any query string as GET /api/v1/purchases
// does: the parser never panics, refuses only with field errors named
// after the parameters, and what it accepts keeps CONTRACT §3: page from 1,
// perPage 1–100, a sort among the listed fields with an optional '-', known
// statuses once each, and a window that starts before it ends and spans at
// most 24 months (the last 12 months when neither end is given).
func FuzzPurchasesQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page=2&perPage=50&sort=-total&status=paid,shipped&from=2026-01-01&to=2026-06-30",
		"sort=product_name", "sort=-estimated_arrival", "sort=--created", "sort=+created", "sort=id", "sort=i.created;DROP TABLE orders",
		"sort=created,total", "sort=(select 1)", "sort=-", "sort=%00created",
		"page=0", "page=-1", "page=1000001", "page=99999999999999999999", "page=1e3", "page=+5", "page= 5", "page=0x10",
		"perPage=0", "perPage=101", "perPage=100", "perPage=-2147483648", "perPage=1&perPage=1000",
		"status=paid,paid,pending", "status=paid,", "status=PAID", "status=,", "status=paid%00", "status=refunded;--",
		"from=2026-01-31&to=2026-01-31", "from=2026-02-01&to=2026-01-01", "from=2020-01-01&to=2026-01-01",
		"to=2026-01-31", "from=2025-12-01", "from=2026-01-31T12:00:00Z&to=2026-01-31T12:00:01Z",
		"from=2026-01-31T12:00:00+14:00&to=2026-01-31T12:00:00-12:00", "from=0000-01-01&to=0001-01-01",
		"from=9999-12-31&to=9999-12-31", "from=2026-02-30", "from=26-01-01", "from=2026-01-01T25:00:00Z", "from=now",
		"junk=" + strings.Repeat("x", 3000), "sort=" + strings.Repeat("-", 3000), "%zz&page=2", "page=%", ";;;&&&===",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	params := []string{"page", "perPage", "sort", "status", "from", "to"}
	sorts := []string{"created", "product_name", "unit_price", "quantity", "total", "status", "estimated_arrival"}
	f.Fuzz(func(t *testing.T, raw string) {
		values, _ := url.ParseQuery(raw) // the route reads what parses, as URL.Query does
		q, err := parsePurchasesQuery(values, now)
		if err != nil {
			var errs validation.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("%q: refused with %T %v, want field errors", raw, err, err)
			}
			for name := range errs {
				if !slices.Contains(params, name) {
					t.Fatalf("%q: an error on %q, which is no parameter", raw, name)
				}
			}
			return
		}
		if q.Page < 1 || q.Page > 1_000_000 || q.PerPage < 1 || q.PerPage > 100 {
			t.Fatalf("%q: accepted page %d perPage %d", raw, q.Page, q.PerPage)
		}
		if !slices.Contains(sorts, strings.TrimPrefix(q.Sort, "-")) {
			t.Fatalf("%q: accepted sort %q", raw, q.Sort)
		}
		for i, s := range q.Statuses {
			if !slices.Contains(c.OrderStatuses, c.OrderStatus(s)) || slices.Contains(q.Statuses[:i], s) {
				t.Fatalf("%q: accepted statuses %q", raw, q.Statuses)
			}
		}
		if !q.From.Before(q.To) || q.From.Before(q.To.AddDate(0, -purchasesMaxMonths, 0)) {
			t.Fatalf("%q: accepted the window %s to %s", raw, q.From, q.To)
		}
		if values.Get("from") == "" && values.Get("to") == "" && (!q.To.Equal(now) || !q.From.Equal(now.AddDate(-1, 0, 0))) {
			t.Fatalf("%q: the default window is %s to %s, want the last 12 months", raw, q.From, q.To)
		}
		if order := q.orderBy(); len(order) == 0 || !strings.HasPrefix(order[0], purchaseSorts[strings.TrimPrefix(q.Sort, "-")]+" ") {
			t.Fatalf("%q: sort %q orders by %q", raw, q.Sort, order)
		}
		_ = q.cacheKey(values)
	})
}
