package schemagen_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/internal/schemagen"
	_ "shopdash/pb_migrations"
)

var update = flag.Bool("update", false, "rewrite the generated files instead of comparing them")

// generated are the committed files this package writes, relative to it.
var generated = map[string]func([]schemagen.Collection) []byte{
	"../../clients/ts/collections.d.ts": schemagen.TypeScript,
	"../../docs/schema.md":              schemagen.Markdown,
}

func loadShop(t *testing.T) []schemagen.Collection {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Cleanup)
	cols, err := schemagen.Load(app, "../../collections")
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestGeneratedFilesAreCurrent regenerates the TypeScript types and the
// schema diagram from a freshly migrated shop and fails when a committed
// file differs; with -update (make types) it rewrites them.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	cols := loadShop(t)
	for path, render := range generated {
		want := render(cols)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run make types", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run make types): %s", path, firstDifference(got, want))
		}
	}
}

func firstDifference(got, want []byte) string {
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gotLines), len(wantLines)) {
		if gotLines[i] != wantLines[i] {
			return fmt.Sprintf("line %d is\n\t%s\nand should be\n\t%s", i+1, gotLines[i], wantLines[i])
		}
	}
	return fmt.Sprintf("it has %d lines and should have %d", len(gotLines), len(wantLines))
}

// TestRecordTypesLeaveOutHiddenFields checks the record types against what
// a client may receive: no hidden field, select values as unions, relation
// ids as strings.
func TestRecordTypesLeaveOutHiddenFields(t *testing.T) {
	ts := string(schemagen.TypeScript(loadShop(t)))
	for _, hidden := range []string{"password:", "tokenKey:", "stripe_customer:", "claim:", "claimed_at:", "refund_pending:", "stock_taken:"} {
		if strings.Contains(ts, "  "+hidden) {
			t.Errorf("a record type declares the hidden field %s", hidden)
		}
	}
	for _, want := range []string{
		`export type OrdersStatus = "pending" | "paid" | "shipped" | "delivered" | "cancelled" | "refunded";`,
		"  status: OrdersStatus;\n",
		"  user: RecordId;\n",
		"  shipping_address: Address | null;\n",
		"  orders: OrdersRecord;\n",
		`  collection(idOrName: "orders"): RecordService<OrdersRecord>;`,
	} {
		if !strings.Contains(ts, want) {
			t.Errorf("collections.d.ts lacks %q", want)
		}
	}
}
