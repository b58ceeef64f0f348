package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"

	"shopdash/cli"
	c "shopdash/collections"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// TestStripeReplayPrintsTheContractCounts: `shopdash stripe replay`
// prints fetched, applied, already applied, ignored and failed, applies a
// missed event once (a product made in Stripe's dashboard), and refuses a
// window it cannot have.
func TestStripeReplayPrintsTheContractCounts(t *testing.T) {
	fake := fakestripe.New(t)
	app, runner := jobsShop(t, shoptest.StripeConfig(fake.URL))
	event := func(id, typ string, object map[string]any) map[string]any {
		return map[string]any{"id": id, "type": typ, "created": time.Now().Add(-time.Hour).Unix(), "data": map[string]any{"object": object}}
	}
	fake.AddEvents(
		event("evt_cli_paid", "product.created", map[string]any{"id": "prod_cli", "object": "product", "name": "Mug", "active": true}),
		event("evt_cli_other", "customer.created", map[string]any{"id": "cus_cli", "object": "customer"}),
	)

	out, err := jobsExec(cli.NewStripeCommand(app, runner), "replay", "--since", "3h", "--dry-run")
	if err != nil || !strings.Contains(out, "): fetched 2, would apply (dry run) 1, already applied 0, ignored 1, failed 0\n") {
		t.Fatalf("replay --dry-run: %v %q", err, out)
	}
	out, err = jobsExec(cli.NewStripeCommand(app, runner), "replay", "--since", "3h")
	if err != nil || !strings.HasPrefix(out, "stripe replay succeeded (run ") ||
		!strings.HasSuffix(out, "): fetched 2, applied 1, already applied 0, ignored 1, failed 0\n") {
		t.Fatalf("replay: %v %q", err, out)
	}
	out, err = jobsExec(cli.NewStripeCommand(app, runner), "replay", "--since", "3h")
	if err != nil || !strings.HasSuffix(out, "): fetched 2, applied 0, already applied 1, ignored 1, failed 0\n") {
		t.Fatalf("replay again: %v %q", err, out)
	}
	if n, _ := app.CountRecords(c.StripeEvents, dbx.HashExp{c.StripeEventID: "evt_cli_paid"}); n != 1 {
		t.Fatalf("%d ledger rows of the event, want 1", n)
	}
	if n, _ := app.CountRecords(c.Products, dbx.HashExp{c.ProductStripeProduct: "prod_cli"}); n != 1 {
		t.Fatalf("%d products of prod_cli, want 1", n)
	}
	if n, _ := app.CountRecords(c.AuditLog, dbx.HashExp{c.AuditAction: "job.run", c.AuditTarget: "jobs/stripe_replay"}); n != 3 {
		t.Fatalf("%d job.run audit rows, want 3", n)
	}

	for _, bad := range [][]string{{"replay"}, {"replay", "--since", "yesterday"}, {"replay", "--since", "800h"}, {"replay", "--since", "-3h"}} {
		if out, err := jobsExec(cli.NewStripeCommand(app, runner), bad...); err == nil {
			t.Fatalf("%v: no error, printed %q", bad, out)
		}
	}
}
