package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/cli"
	_ "shopdash/pb_migrations"
)

func runSeed(t *testing.T, app *tests.TestApp, args ...string) string {
	t.Helper()
	cmd := cli.NewSeedCommand(app)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("seed %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func TestSeedCommandSeedsOnceAndPrintsTheLogins(t *testing.T) {
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()

	first := runSeed(t, app, "--users", "3", "--orders-per-user", "6", "--seed", "4")
	for _, want := range []string{"Seeded 3 customers, 2 staff, 30 products, 18 orders", `password "shopdash-demo"`,
		"customer@example.com", "customer2@example.com", "support@example.com", "store@example.com"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run output lacks %q:\n%s", want, first)
		}
	}

	second := runSeed(t, app)
	if !strings.Contains(second, "seed skipped") || !strings.Contains(second, "customer@example.com") {
		t.Errorf("second run should skip and still print the logins:\n%s", second)
	}
	if n, _ := app.CountRecords("orders"); n != 18 {
		t.Errorf("%d orders after the second run, want 18", n)
	}
}

func TestSeedCommandRejectsBadFlags(t *testing.T) {
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	cmd := cli.NewSeedCommand(app)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--users", "1"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "users: must be no less than 2") {
		t.Fatalf("--users 1 gave %v, want an error naming --users", err)
	}
}
