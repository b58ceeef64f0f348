package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/spf13/cobra"

	"shopdash/cli"
	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// jobsShop is an empty migrated shop with every hook bound, as main builds
// it for the commands. The package has no template shop (no TestMain), so
// it is built here rather than with shoptest.NewAppWithJobs.
func jobsShop(t *testing.T, cfg hooks.Config) (*tests.TestApp, *jobs.Jobs) {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Registered after any fake Stripe's cleanup, so it runs first.
	t.Cleanup(app.Cleanup)
	runner, err := hooks.Register(app, fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return app, runner
}

// jobsExec runs a command with args and returns its output and error.
func jobsExec(cmd *cobra.Command, args ...string) (string, error) {
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func jobsPaused(t *testing.T, app core.App, name string) bool {
	t.Helper()
	var paused bool
	if err := app.DB().Select(c.JobPaused).From(c.Jobs).Where(dbx.HashExp{c.JobName: name}).Row(&paused); err != nil {
		t.Fatal(err)
	}
	return paused
}

// jobsListLine is the line of `jobs list` that shows a job, as fields.
func jobsListLine(t *testing.T, out, name string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == name {
			return fields
		}
	}
	t.Fatalf("jobs list shows no %s:\n%s", name, out)
	return nil
}

func jobsAuditRows(t *testing.T, app core.App, action, actor string) int {
	t.Helper()
	n, err := app.CountRecords(c.AuditLog, dbx.HashExp{c.AuditAction: action, c.AuditActor: actor, c.AuditTarget: "jobs/stripe_sync"})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestJobsCommandListsPausesAndResumes(t *testing.T) {
	app, runner := jobsShop(t, hooks.Config{AppURL: shoptest.AppURL})

	out, err := jobsExec(cli.NewJobsCommand(app, runner), "list")
	if err != nil {
		t.Fatalf("jobs list: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "JOB") {
		t.Fatalf("jobs list has no header:\n%s", out)
	}
	for _, name := range runner.Names() {
		if got := jobsListLine(t, out, name); got[1] != "active" || got[2] != "-" {
			t.Errorf("jobs list shows %v, want %s active and never run", got, name)
		}
	}

	out, err = jobsExec(cli.NewJobsCommand(app, runner), "pause", "stripe_sync")
	if err != nil || strings.TrimSpace(out) != "stripe_sync: paused" {
		t.Fatalf("jobs pause stripe_sync: %v %q, want \"stripe_sync: paused\"", err, out)
	}
	if !jobsPaused(t, app, payments.JobStripeSync) || jobsPaused(t, app, payments.JobStaleOrders) {
		t.Fatal("pause stripe_sync did not pause exactly the sync")
	}
	if n := jobsAuditRows(t, app, "job.pause", "cli"); n != 1 {
		t.Fatalf("%d job.pause audit rows by cli, want 1", n)
	}
	out, err = jobsExec(cli.NewJobsCommand(app, runner), "list")
	if err != nil {
		t.Fatal(err)
	}
	if got := jobsListLine(t, out, "stripe_sync"); got[1] != "paused" {
		t.Fatalf("after the pause jobs list shows %v, want stripe_sync paused", got)
	}

	out, err = jobsExec(cli.NewJobsCommand(app, runner), "resume", "stripe_sync")
	if err != nil || strings.TrimSpace(out) != "stripe_sync: resumed" {
		t.Fatalf("jobs resume stripe_sync: %v %q, want \"stripe_sync: resumed\"", err, out)
	}
	if jobsPaused(t, app, payments.JobStripeSync) {
		t.Fatal("resume stripe_sync left it paused")
	}
	if n := jobsAuditRows(t, app, "job.resume", "cli"); n != 1 {
		t.Fatalf("%d job.resume audit rows by cli, want 1", n)
	}

	out, err = jobsExec(cli.NewJobsCommand(app, runner), "pause", "nosuch")
	if !errors.Is(err, jobs.ErrUnknownJob) || strings.Contains(out, "nosuch: paused") {
		t.Fatalf("jobs pause nosuch: %v %q, want ErrUnknownJob and no confirmation", err, out)
	}
	if _, err := jobsExec(cli.NewJobsCommand(app, runner), "pause"); err == nil {
		t.Fatal("jobs pause without a name succeeded")
	}
}

func TestSyncCommandDryRunPrintsTheCountsAndWritesNothing(t *testing.T) {
	fake := fakestripe.New(t)
	app, runner := jobsShop(t, shoptest.StripeConfig(fake.URL))
	created := time.Now().Add(-48 * time.Hour).Unix()
	for i := 1; i <= 3; i++ {
		fake.AddInvoices(map[string]any{
			"id": fmt.Sprintf("in_cli_%d", i), "object": "invoice", "status": "paid", "currency": "usd",
			"amount_paid": 1200, "created": created, "customer_email": "someone@example.com",
			"lines": map[string]any{"object": "list", "data": []any{map[string]any{
				"id": fmt.Sprintf("il_cli_%d", i), "object": "line_item", "description": "Notebook A5", "quantity": 1, "amount": 1200,
			}}},
		})
	}

	out, err := jobsExec(cli.NewSyncCommand(app, runner), "stripe", "--dry-run")
	if err != nil {
		t.Fatalf("sync stripe --dry-run: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "stripe sync succeeded (run ") ||
		!strings.HasSuffix(out, ", dry run: nothing written): fetched 3, created 3, updated 0, skipped 0, failed 0\n") {
		t.Fatalf("sync stripe --dry-run printed %q, want the succeeded counts line of a dry run", out)
	}
	if n, _ := app.CountRecords(c.Orders); n != 0 {
		t.Fatalf("a dry run wrote %d orders", n)
	}
	if n, _ := app.CountRecords(c.JobRuns, dbx.HashExp{c.JobRunStatus: c.JobSucceeded, c.JobRunTrigger: "cli"}); n != 1 {
		t.Fatalf("%d succeeded cli runs in job_runs, want 1", n)
	}

	if out, err := jobsExec(cli.NewSyncCommand(app, runner), "stripe", "--since", "yesterday"); err == nil ||
		!strings.Contains(err.Error(), "--since") {
		t.Fatalf("sync stripe --since yesterday: %v %q, want an error about --since", err, out)
	}

	out, err = jobsExec(cli.NewSyncCommand(app, runner), "stripe")
	if err != nil || !strings.Contains(out, "): fetched 3, created 3, updated 0, skipped 0, failed 0") || strings.Contains(out, "dry run") {
		t.Fatalf("sync stripe: %v %q, want 3 created", err, out)
	}
	if n, _ := app.CountRecords(c.Orders); n != 3 {
		t.Fatalf("the sync wrote %d orders, want 3", n)
	}
}

// jobsEmail writes an email job of an order in a status.
func jobsEmail(t *testing.T, app core.App, order, template, status string) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.EmailJobs)
	if err != nil {
		t.Fatal(err)
	}
	job := core.NewRecord(col)
	job.Set(c.EmailJobOrder, order)
	job.Set(c.EmailJobRecipient, "someone@example.com")
	job.Set(c.EmailJobTemplate, template)
	job.Set(c.EmailJobLanguage, "en")
	job.Set(c.EmailJobStatus, status)
	job.Set(c.EmailJobAttempts, 6)
	job.Set(c.EmailJobLastError, "smtp: connection refused")
	if err := app.Save(job); err != nil {
		t.Fatal(err)
	}
	return job.Id
}

func TestEmailsRetryCommandQueuesFailedAndWithDeadDeadEmails(t *testing.T) {
	app, _ := jobsShop(t, hooks.Config{AppURL: shoptest.AppURL})
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	order := core.NewRecord(orders)
	order.Set(c.OrderNumber, c.FormatOrderNumber(rand.Uint64()))
	order.Set(c.OrderStatusField, string(c.StatusPending))
	order.Set(c.OrderCurrency, "usd")
	if err := app.Save(order); err != nil {
		t.Fatal(err)
	}
	dead := jobsEmail(t, app, order.Id, c.TemplateOrderPaid, c.EmailDead)
	failed := jobsEmail(t, app, order.Id, c.TemplateOrderShipped, c.EmailFailed)
	sent := jobsEmail(t, app, order.Id, c.TemplateOrderCancelled, c.EmailSent)
	expect := func(step string, want map[string]string) {
		t.Helper()
		for id, status := range want {
			job, err := app.FindRecordById(c.EmailJobs, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := job.GetString(c.EmailJobStatus); got != status {
				t.Errorf("after %s email %s is %s, want %s", step, id, got, status)
			}
			if status == c.EmailQueued && job.GetInt(c.EmailJobAttempts) != 0 {
				t.Errorf("after %s queued email %s has %d attempts, want a fresh count", step, id, job.GetInt(c.EmailJobAttempts))
			}
		}
	}

	out, err := jobsExec(cli.NewEmailsCommand(app), "retry")
	if err != nil || !strings.HasPrefix(out, "1 emails queued again") {
		t.Fatalf("emails retry: %v %q, want 1 queued again", err, out)
	}
	expect("retry", map[string]string{dead: c.EmailDead, failed: c.EmailQueued, sent: c.EmailSent})

	out, err = jobsExec(cli.NewEmailsCommand(app), "retry", "--dead")
	if err != nil || !strings.HasPrefix(out, "1 emails queued again") {
		t.Fatalf("emails retry --dead: %v %q, want 1 queued again", err, out)
	}
	expect("retry --dead", map[string]string{dead: c.EmailQueued, failed: c.EmailQueued, sent: c.EmailSent})
}
