package seed_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	_ "shopdash/pb_migrations"
	"shopdash/seed"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func seededApp(t *testing.T, opts seed.Options) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Cleanup)
	opts.Now = now
	if _, err := seed.Run(app, opts); err != nil {
		t.Fatal(err)
	}
	return app
}

// fingerprint reads what a seed produced, in a stable order.
func fingerprint(t *testing.T, app *tests.TestApp) []string {
	t.Helper()
	var rows []struct {
		ID     string `db:"id"`
		Number string `db:"number"`
		Status string `db:"status"`
		Total  int    `db:"total"`
	}
	if err := app.DB().Select("id", "number", "status", "total").From(c.Orders).OrderBy("id").All(&rows); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r.ID, r.Number, r.Status, r.Total)
	}
	return out
}

func TestSeedIsDeterministic(t *testing.T) {
	opts := seed.DefaultOptions()
	opts.OrdersPerCustomer = 12
	a, b := fingerprint(t, seededApp(t, opts)), fingerprint(t, seededApp(t, opts))
	if len(a) != 24 {
		t.Fatalf("seeded %d orders, want 24", len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("order %d differs between two runs with seed %d", i, opts.Seed)
		}
	}
	opts.Seed = 2
	if c := fingerprint(t, seededApp(t, opts)); c[0] == a[0] {
		t.Fatal("another seed gave the same first order")
	}
}

// TestDemoCustomersHaveEveryStatus checks what the demo is for: each demo
// customer sees every status, a paid digital purchase, and orders on both
// sides of the 12-month window.
func TestDemoCustomersHaveEveryStatus(t *testing.T) {
	app := seededApp(t, seed.DefaultOptions())
	for _, a := range seed.DemoAccounts[:2] {
		user, err := app.FindAuthRecordByEmail(c.Users, a.Email)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range c.OrderStatuses {
			n, err := app.CountRecords(c.Orders, dbx.HashExp{c.OrderUser: user.Id, c.OrderStatusField: string(s)})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("%s has no %s order", a.Email, s)
			}
		}
		var digitalPaid int
		err = app.DB().NewQuery(`SELECT count(*) FROM order_items i JOIN orders o ON o.id = i."order"
			JOIN products p ON p.id = i.product WHERE o.user = {:u} AND o.status = 'paid' AND p.digital = TRUE`).
			Bind(dbx.Params{"u": user.Id}).Row(&digitalPaid)
		if err != nil {
			t.Fatal(err)
		}
		if digitalPaid == 0 {
			t.Errorf("%s has no paid digital purchase", a.Email)
		}
		yearAgo := now.AddDate(-1, 0, 0).Format("2006-01-02 15:04:05.000Z")
		for _, cmp := range []string{"<", ">="} {
			var n int
			err := app.DB().NewQuery("SELECT count(*) FROM orders WHERE user = {:u} AND created " + cmp + " {:t}").
				Bind(dbx.Params{"u": user.Id, "t": yearAgo}).Row(&n)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("%s has no order with created %s a year ago", a.Email, cmp)
			}
		}
	}
	if u, err := app.FindAuthRecordByEmail(c.Users, "customer@example.com"); err != nil || !u.ValidatePassword(seed.DemoPassword) {
		t.Fatalf("the demo password does not sign in: %v", err)
	}
}

// TestSeededOrdersAreConsistent checks the invariants the hooks would have
// enforced on the bulk-inserted rows.
func TestSeededOrdersAreConsistent(t *testing.T) {
	app := seededApp(t, seed.Options{Customers: 20, OrdersPerCustomer: 15, Months: 14, Seed: 7})
	checks := map[string]string{
		"total is the sum of the items": `SELECT count(*) FROM orders o WHERE o.total !=
			(SELECT coalesce(sum(unit_price * quantity), 0) FROM order_items WHERE "order" = o.id)`,
		"item_count is the sum of quantities": `SELECT count(*) FROM orders o WHERE o.item_count !=
			(SELECT coalesce(sum(quantity), 0) FROM order_items WHERE "order" = o.id)`,
		"every order has items":              `SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items WHERE "order" = o.id)`,
		"items carry their order's user":     `SELECT count(*) FROM order_items i JOIN orders o ON o.id = i."order" WHERE i.user != o.user`,
		"items carry their order's date":     `SELECT count(*) FROM order_items i JOIN orders o ON o.id = i."order" WHERE i.created != o.created`,
		"pending orders are under a day old": `SELECT count(*) FROM orders WHERE status = 'pending' AND created < '2026-11-23 12:00:00.000Z'`,
		"no order is in the future":          `SELECT count(*) FROM orders WHERE created > '2026-11-24 12:00:00.000Z'`,
		"paid orders have paid_at":           `SELECT count(*) FROM orders WHERE status IN ('paid','shipped','delivered','refunded') AND paid_at = ''`,
		"inactive products were never sold":  `SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product WHERE p.active = FALSE`,
	}
	for name, query := range checks {
		var bad int
		if err := app.DB().NewQuery(query).Row(&bad); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bad != 0 {
			t.Errorf("%s: %d rows break it", name, bad)
		}
	}
	if n, _ := app.CountRecords(c.Orders); n != 20*15 {
		t.Errorf("seeded %d orders, want %d", n, 20*15)
	}
}

func TestSeedLeavesAShopWithDataAlone(t *testing.T) {
	app := seededApp(t, seed.DefaultOptions())
	before, _ := app.CountRecords(c.Orders)
	report, err := seed.Run(app, seed.Options{Customers: 5, OrdersPerCustomer: 3, Months: 14, Seed: 9})
	if !errors.Is(err, seed.ErrNotEmpty) || !report.Skipped {
		t.Fatalf("seeding a shop with data: report %+v, error %v", report, err)
	}
	if after, _ := app.CountRecords(c.Orders); after != before {
		t.Fatalf("orders went from %d to %d", before, after)
	}

	report, err = seed.Run(app, seed.Options{Customers: 5, OrdersPerCustomer: 3, Months: 14, Seed: 9, Reset: true})
	if err != nil {
		t.Fatal(err)
	}
	users, _ := app.CountRecords(c.Users)
	orders, _ := app.CountRecords(c.Orders)
	if report.Customers != 5 || users != 7 || orders != 15 {
		t.Fatalf("after --reset: report %+v, %d users, %d orders; want 5 customers + 2 staff, 15 orders", report, users, orders)
	}
}

func TestSeedRejectsBadOptions(t *testing.T) {
	for _, o := range []seed.Options{
		{Customers: 1, OrdersPerCustomer: 1, Months: 1},
		{Customers: 2, OrdersPerCustomer: -1, Months: 1},
		{Customers: 2, OrdersPerCustomer: 1, Months: 0},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
