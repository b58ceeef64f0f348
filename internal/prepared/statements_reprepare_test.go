package prepared_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	c "shopdash/collections"
	"shopdash/internal/prepared"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

// limitParameter is a kept statement with its LIMIT as a parameter: SQLite
// reads a bound LIMIT when it plans and compiles the statement again on
// every call, whatever the statistics.
const limitParameter = "SELECT `id` FROM `orders` WHERE `user` = ? LIMIT ?"

// TestKeptStatementsStayCompiledAfterTheNightlyOptimize: on a shop the
// nightly optimize has analyzed, the customer routes' kept statements, the
// sign-in's and the webhook's lookups run a second customer's values
// without SQLite compiling any of them again. SQLite compiles a statement
// again on each call when its plan read a bound value, and its planner
// reads the value of `column = ?` on an index with sqlite_stat4 samples;
// PRAGMA optimize analyzes within a limit, which writes no sqlite_stat4
// rows, so the samples are never there unless someone runs a full ANALYZE
// (docs/performance.md). The statement with a LIMIT parameter shows that
// the count sees a statement compiled again.
func TestKeptStatementsStayCompiledAfterTheNightlyOptimize(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	customers := growShop(t, app)
	runNightlyOptimize(t, app)
	if n := countRows(t, app, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = {:t}", dbx.Params{"t": c.Orders}); n == 0 {
		t.Fatal("the nightly optimize did not analyze orders")
	}
	if n := countRows(t, app, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'", nil); n != 0 {
		if n = countRows(t, app, "SELECT count(*) FROM sqlite_stat4", nil); n != 0 {
			t.Fatalf("the nightly optimize wrote %d sqlite_stat4 rows: kept statements with `column = ?` "+
				"on an index are now compiled on every call (docs/performance.md)", n)
		}
	}

	read := readWithNewStatistics(app)
	read.SetMaxOpenConns(1) // every kept statement on the connection reprepares reads
	handler := shoptest.ServeShop(t, app)
	var s prepared.Statements
	visit := func(customer *core.Record) {
		t.Helper()
		token, err := customer.NewStaticAuthToken(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{shoptest.DashboardURL, shoptest.PurchasesURL, shoptest.PurchasesURL + "?status=paid,shipped&page=2&perPage=5"} {
			if code := shoptest.CacheGet(t, handler, path, token, nil); code != http.StatusOK {
				t.Fatalf("GET %s: %d", path, code)
			}
		}
		// The webhook's lookups, here on the reading pool.
		if _, err := s.FindRecordBy(app, c.Orders, c.OrderStripeSession, "cs_"+customer.Id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exists(app, c.StripeEvents, c.StripeEventID, "evt_"+customer.Id); err != nil {
			t.Fatal(err)
		}
		if err := s.Query(app, limitParameter, []any{customer.Id, 2}, func(*sql.Rows) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	visit(customers[0])
	reprepares(t, read) // counted from here
	visit(customers[1])
	counts := reprepares(t, read)
	if counts[limitParameter] == 0 {
		t.Fatalf("the LIMIT parameter's statement was not counted compiling again: %v", counts)
	}
	delete(counts, limitParameter)
	if len(counts) < 8 {
		t.Fatalf("%d kept statements on the reading pool, want the routes' and the lookups': %v", len(counts), counts)
	}
	for text, n := range counts {
		if n != 0 {
			t.Errorf("compiled again %d times: %s", n, text)
		}
	}
}

// growShop replaces the template shop's data with 60 customers of 40
// orders each, enough rows for the statistics to weigh, and returns two of
// them.
func growShop(t testing.TB, app *tests.TestApp) []*core.Record {
	t.Helper()
	opts := seed.Options{Customers: 60, OrdersPerCustomer: 40, Months: 12, Seed: 22, Reset: true}
	if _, err := seed.Run(app, opts); err != nil {
		t.Fatal(err)
	}
	customers, err := app.FindRecordsByFilter(c.Users, "role = 'customer'", "email", 2, 0)
	if err != nil || len(customers) != 2 {
		t.Fatalf("%d customers, %v", len(customers), err)
	}
	return customers
}

// runNightlyOptimize runs the nightly job: checkpoints and PRAGMA optimize.
func runNightlyOptimize(t testing.TB, app *tests.TestApp) {
	t.Helper()
	for _, job := range app.Cron().Jobs() {
		if job.Id() == "__pbDBOptimize__" {
			job.Run()
			return
		}
	}
	t.Fatal("no nightly optimize job")
}

// readWithNewStatistics closes the reading pool's connections: a
// connection reads the statistics when it opens, and keeps them.
func readWithNewStatistics(app core.App) *sql.DB {
	read := app.ConcurrentDB().(*dbx.DB).DB()
	read.SetMaxIdleConns(0)
	read.SetMaxIdleConns(core.DefaultDataMaxIdleConns)
	return read
}

func countRows(t testing.TB, app core.App, query string, params dbx.Params) int {
	t.Helper()
	var n int
	if err := app.DB().NewQuery(query).Bind(params).Row(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// reprepares is how many times SQLite compiled again each statement kept
// on the one connection of db since the last call, by text: the
// SQLITE_STMTSTATUS_REPREPARE counter of every statement of modernc's
// connection.
func reprepares(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	counts := map[string]int{}
	err = conn.Raw(func(dc any) error {
		field := reflect.ValueOf(dc).Elem().FieldByName("db") // modernc's sqlite3 handle
		if field.Kind() != reflect.Uintptr {
			return fmt.Errorf("the driver's connection is a %T with no sqlite3 handle", dc)
		}
		handle := uintptr(field.Uint())
		tls := libc.NewTLS()
		defer tls.Close()
		for stmt := sqlite3.Xsqlite3_next_stmt(tls, handle, 0); stmt != 0; stmt = sqlite3.Xsqlite3_next_stmt(tls, handle, stmt) {
			text := libc.GoString(sqlite3.Xsqlite3_sql(tls, stmt))
			counts[text] += int(sqlite3.Xsqlite3_stmt_status(tls, stmt, sqlite3.SQLITE_STMTSTATUS_REPREPARE, 1))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// BenchmarkRecentOrderAfterAnalysis reads a customer's newest order as the
// dashboard does, with the statistics of the nightly optimize and then
// with those of a full ANALYZE, which has SQLite compile the kept
// statement again on every call.
func BenchmarkRecentOrderAfterAnalysis(b *testing.B) {
	app := shoptest.NewApp(b)
	defer app.Cleanup()
	customers := growShop(b, app)
	runNightlyOptimize(b, app)
	var s prepared.Statements
	read := func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			found, err := s.FindPublic(app, c.Orders, "`user` = ?", "`created` DESC, `id` DESC", 1, customers[i%2].Id)
			if err != nil || len(found) != 1 {
				b.Fatalf("%d orders, %v", len(found), err)
			}
		}
	}
	b.Run("nightly optimize", read)
	if _, err := app.DB().NewQuery("ANALYZE").Execute(); err != nil {
		b.Fatal(err)
	}
	readWithNewStatistics(app)
	b.Run("full ANALYZE", read)
}
