package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"

	"shopdash/cli"
	c "shopdash/collections"
	"shopdash/hooks"
)

// TestWebhooksCommandAddsListsDisablesAndReplays walks an endpoint through
// the command: added with its secret printed once, listed without it,
// refused with the field's message or the valid types, disabled, replayed.
func TestWebhooksCommandAddsListsDisablesAndReplays(t *testing.T) {
	app, _ := jobsShop(t, hooks.Config{})
	run := func(args ...string) (string, error) { return jobsExec(cli.NewWebhooksCommand(app), args...) }

	out, err := run("add", "https://hooks.example.com/shop", "--events", "order.paid,order.shipped", "--description", "fulfilment")
	if err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	secret := regexp.MustCompile(`secret: (whsec_\S+)`).FindStringSubmatch(out)
	id := regexp.MustCompile(`endpoint (\w+) added`).FindStringSubmatch(out)
	if secret == nil || id == nil {
		t.Fatalf("add printed no id or secret:\n%s", out)
	}
	stored, err := app.FindRecordById(c.WebhookEndpoints, id[1])
	if err != nil || stored.GetString(c.EndpointSecret) != secret[1] || !stored.GetBool(c.EndpointActive) {
		t.Fatalf("stored endpoint %v %v", stored, err)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "http://hooks.example.com/x"}, "url: "},
		{[]string{"add", "https://127.0.0.1/x"}, "url: "},
		{[]string{"add", "https://hooks.example.com/x", "--events", "order.lost"}, "order.created, order.paid"},
		{[]string{"disable", "nope"}, "no webhook endpoint"},
		{[]string{"replay", "nope"}, "no webhook endpoint"},
		{[]string{"replay", id[1], "--since", "yesterday"}, "since: "},
		{[]string{"replay", id[1], "--status", "lost"}, "status: "},
	} {
		if out, err := run(bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want an error with %q\n%s", bad.args, err, bad.want, out)
		}
	}
	if n, _ := app.CountRecords(c.WebhookEndpoints); n != 1 {
		t.Errorf("endpoints after the refused adds: %d", n)
	}

	out, err = run("list")
	if err != nil || !strings.Contains(out, id[1]) || !strings.Contains(out, "order.paid,order.shipped") ||
		!strings.Contains(out, "fulfilment") || strings.Contains(out, "whsec_") {
		t.Fatalf("list: %v\n%s", err, out)
	}

	if _, err := app.DB().Insert(c.WebhookDeliveries, dbx.Params{
		"id": "dlv000000000001", c.DeliveryEndpoint: id[1], c.DeliveryEventID: "msg_1", c.DeliveryType: c.EventOrderPaid,
		c.DeliveryStatus: c.DeliveryDead, c.DeliveryAttempts: 10, c.DeliveryPayload: `{}`, c.DeliveryClaim: "",
		c.DeliveryCreated: "2026-12-03 10:00:00.000Z", c.DeliveryUpdated: "2026-12-03 10:00:00.000Z",
	}).Execute(); err != nil {
		t.Fatal(err)
	}
	out, err = run("replay", id[1], "--since", "2026-12-01T00:00:00Z", "--status", "dead")
	if err != nil || !strings.Contains(out, "1 deliveries queued again") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if out, err := run("replay", id[1], "--delivery", "dlv000000000001"); err != nil || !strings.Contains(out, "1 deliveries queued again") {
		t.Fatalf("replay one delivery: %v\n%s", err, out)
	}
	if _, err := run("replay", id[1], "--delivery", "nope"); err == nil || !strings.Contains(err.Error(), "has no delivery") {
		t.Errorf("replay of a delivery the endpoint does not have: %v", err)
	}
	replayed, _ := app.FindRecordById(c.WebhookDeliveries, "dlv000000000001")
	if replayed.GetString(c.DeliveryStatus) != c.DeliveryPending || replayed.GetInt(c.DeliveryAttempts) != 0 ||
		replayed.GetString(c.DeliveryEventID) != "msg_1" {
		t.Errorf("replayed delivery: %v", replayed)
	}

	if out, err := run("disable", id[1]); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	out, _ = run("list")
	if !strings.Contains(out, "disabled: Disabled from the command line.") {
		t.Errorf("list after disable:\n%s", out)
	}
}
