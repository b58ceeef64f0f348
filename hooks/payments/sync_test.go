package payments_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// syncInvoicePage is the invoice list route as the fake counts it.
const syncInvoicePage = "GET /v1/invoices"

// syncRig is a shop whose Stripe is the fake seen through a proxy: the
// fake records neither query strings nor delays, and the sync's
// created[gte] filter and a slow Stripe are what some tests are about.
type syncRig struct {
	app    *tests.TestApp
	runner *jobs.Jobs
	fake   *fakestripe.Server

	delay   atomic.Int64 // nanoseconds each invoice page waits
	mu      sync.Mutex
	queries []url.Values // of every invoice page, in order
}

func syncNewRig(t *testing.T) *syncRig {
	t.Helper()
	rig := &syncRig{fake: fakestripe.New(t)}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/invoices" {
			rig.mu.Lock()
			rig.queries = append(rig.queries, r.URL.Query())
			rig.mu.Unlock()
			if d := time.Duration(rig.delay.Load()); d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
		}
		rig.fake.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	cfg := shoptest.StripeConfig(proxy.URL)
	cfg.SyncBatch = 100 // a page a transaction: the tests write many batches
	rig.app, rig.runner = shoptest.NewAppWithJobs(t, cfg)
	// Registered last so it runs first: the app stops before Stripe does.
	t.Cleanup(rig.app.Cleanup)
	return rig
}

// invoiceQuery is the query string of the n-th invoice page served (0-based).
func (r *syncRig) invoiceQuery(t *testing.T, n int) url.Values {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if n >= len(r.queries) {
		t.Fatalf("only %d invoice pages were asked for, want page %d", len(r.queries), n+1)
	}
	return r.queries[n]
}

func (r *syncRig) invoicePagesServed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queries)
}

// syncInvoiceID names the n-th test invoice; the prefix keeps them apart
// from any Stripe ids of the template shop.
func syncInvoiceID(n int) string { return fmt.Sprintf("in_sync_%05d", n) }

// syncInvoice is a paid invoice of the template customer made outside the
// shop, one line, created n minutes after base.
func syncInvoice(n int, base time.Time) map[string]any {
	created := base.Add(time.Duration(n) * time.Minute).Unix()
	return map[string]any{
		"id": syncInvoiceID(n), "object": "invoice", "status": "paid", "currency": "usd", "amount_paid": 1200,
		"created": created, "customer_email": shoptest.Shop().Customer.Email, "customer_name": "Casey Customer",
		"status_transitions": map[string]any{"paid_at": created},
		"lines": map[string]any{"object": "list", "has_more": false, "data": []any{map[string]any{
			"id": fmt.Sprintf("il_sync_%05d", n), "object": "line_item", "description": "Notebook A5",
			"quantity": 1, "amount": 1200, "currency": "usd",
			"price": map[string]any{"id": "price_sync", "object": "price", "unit_amount": 1200, "currency": "usd"},
		}}},
	}
}

// syncInvoices returns invoices 1..n, oldest first as the fake wants them.
func syncInvoices(n int) []map[string]any {
	base := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = syncInvoice(i+1, base)
	}
	return out
}

// syncRun runs the Stripe sync and fails the test when it did not start.
func syncRun(t *testing.T, runner *jobs.Jobs, opts jobs.RunOptions) jobs.JobRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := runner.Run(ctx, payments.JobStripeSync, opts)
	if err != nil {
		t.Fatalf("sync did not start: %v", err)
	}
	return run
}

// syncExpectRun checks a run's status and counts as Run returned them and
// as job_runs stored them, and returns the stored row.
func syncExpectRun(t *testing.T, app core.App, run jobs.JobRun, status string, want jobs.RunCounts) *core.Record {
	t.Helper()
	if run.Status != status || run.RunCounts != want {
		t.Fatalf("run %s %+v (error %v), want %s %+v", run.Status, run.RunCounts, run.Err, status, want)
	}
	row, err := app.FindRecordById(c.JobRuns, run.ID)
	if err != nil {
		t.Fatalf("job_runs row of run %q: %v", run.ID, err)
	}
	stored := jobs.RunCounts{
		Fetched: row.GetInt(c.JobRunFetched), Created: row.GetInt(c.JobRunCreated), Updated: row.GetInt(c.JobRunUpdated),
		Skipped: row.GetInt(c.JobRunSkipped), Failed: row.GetInt(c.JobRunFailed),
	}
	if got := row.GetString(c.JobRunStatus); got != status || stored != want {
		t.Fatalf("job_runs row: %s %+v, want %s %+v", got, stored, status, want)
	}
	if row.GetString(c.JobRunJob) != payments.JobStripeSync || row.GetDateTime(c.JobRunFinished).IsZero() {
		t.Fatalf("job_runs row of job %q finished %q, want stripe_sync with a finish time",
			row.GetString(c.JobRunJob), row.GetString(c.JobRunFinished))
	}
	return row
}

// syncCount runs a COUNT query.
func syncCount(t *testing.T, app core.App, query string, params dbx.Params) int {
	t.Helper()
	var n int
	if err := app.DB().NewQuery(query).Bind(params).Row(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// syncExpectOrders checks that the test invoices made exactly want orders,
// each invoice once, each with its one item.
func syncExpectOrders(t *testing.T, app core.App, want int) {
	t.Helper()
	orders := syncCount(t, app, "SELECT COUNT(*) FROM orders WHERE stripe_invoice GLOB 'in_sync_*'", nil)
	distinct := syncCount(t, app, "SELECT COUNT(DISTINCT stripe_invoice) FROM orders WHERE stripe_invoice GLOB 'in_sync_*'", nil)
	items := syncCount(t, app, "SELECT COUNT(*) FROM order_items WHERE [[order]] IN "+
		"(SELECT id FROM orders WHERE stripe_invoice GLOB 'in_sync_*')", nil)
	if orders != want || distinct != want || items != want {
		t.Fatalf("%d synced orders for %d distinct invoices with %d items, want %d of each", orders, distinct, items, want)
	}
}

// syncExpectSilent checks that no synced order queued an email, and that
// this means something: the orders belong to a customer who would get one.
func syncExpectSilent(t *testing.T, app core.App, orders int) {
	t.Helper()
	owned := syncCount(t, app, "SELECT COUNT(*) FROM orders WHERE stripe_invoice GLOB 'in_sync_*' AND user = {:u}",
		dbx.Params{"u": shoptest.Shop().Customer.ID})
	if owned != orders {
		t.Fatalf("%d synced orders belong to the customer, want %d", owned, orders)
	}
	emails := syncCount(t, app, "SELECT COUNT(*) FROM email_jobs WHERE [[order]] IN "+
		"(SELECT id FROM orders WHERE stripe_invoice GLOB 'in_sync_*')", nil)
	if emails != 0 {
		t.Fatalf("the sync queued %d emails, want none: emails follow live events only", emails)
	}
}

// syncEditInvoices changes invoices the fake already serves. Calls takes
// the fake's lock before and after, which orders the edit between the
// runs' reads of the same maps.
func syncEditInvoices(fake *fakestripe.Server, edit func()) {
	fake.Calls(syncInvoicePage)
	edit()
	fake.Calls(syncInvoicePage)
}

func TestSyncCreatesEveryInvoiceOnceThenOnlyUpdatesChanged(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	invoices := syncInvoices(2500)
	rig.fake.AddInvoices(invoices...)

	started := time.Now().UTC()
	first := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	finished := time.Now().UTC()
	row := syncExpectRun(t, rig.app, first, c.JobSucceeded, jobs.RunCounts{Fetched: 2500, Created: 2500})
	if pages := rig.fake.Calls(syncInvoicePage); pages != 25 {
		t.Fatalf("the sync asked for %d invoice pages, want 25", pages)
	}
	watermark := row.GetDateTime(c.JobRunWatermark).Time()
	if watermark.Before(started.Add(-time.Second)) || watermark.After(finished) {
		t.Fatalf("watermark %v, want the run's start (between %v and %v)", watermark, started, finished)
	}
	if q := rig.invoiceQuery(t, 0); q.Has("created[gte]") || q.Get("status") != "paid" || q.Get("limit") != "100" {
		t.Fatalf("first run's first page asked %v, want paid invoices, 100 a page, from the beginning", q)
	}
	syncExpectOrders(t, rig.app, 2500)
	syncExpectSilent(t, rig.app, 2500)
	var checkpoint int
	if err := rig.app.NonconcurrentDB().NewQuery("PRAGMA wal_autocheckpoint").Row(&checkpoint); err != nil || checkpoint != 1000 {
		t.Fatalf("after the run the writer checkpoints every %d pages (%v), want SQLite's 1000 back", checkpoint, err)
	}

	// The payment intent is news the stored orders lack.
	changed := []int{7, 1300, 2500}
	syncEditInvoices(rig.fake, func() {
		for _, n := range changed {
			invoices[n-1]["payment_intent"] = fmt.Sprintf("pi_sync_%05d", n)
		}
	})
	pagesBefore := rig.invoicePagesServed()
	second := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	syncExpectRun(t, rig.app, second, c.JobSucceeded, jobs.RunCounts{Fetched: 2500, Updated: 3, Skipped: 2497})
	wantSince := strconv.FormatInt(watermark.Add(-time.Hour).Unix(), 10)
	if got := rig.invoiceQuery(t, pagesBefore).Get("created[gte]"); got != wantSince {
		t.Fatalf("second run asked for invoices created since %q, want the watermark minus an hour %q", got, wantSince)
	}
	syncExpectOrders(t, rig.app, 2500)
	syncExpectSilent(t, rig.app, 2500)
	for _, n := range changed {
		order, err := rig.app.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, syncInvoiceID(n))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := order.GetString(c.OrderStripePaymentIntent), fmt.Sprintf("pi_sync_%05d", n); got != want {
			t.Fatalf("order of %s has payment intent %q, want %q", syncInvoiceID(n), got, want)
		}
	}
	withIntent := syncCount(t, rig.app, "SELECT COUNT(*) FROM orders WHERE stripe_invoice GLOB 'in_sync_*' AND stripe_payment_intent != ''", nil)
	if withIntent != len(changed) {
		t.Fatalf("%d synced orders have a payment intent, want only the %d changed ones", withIntent, len(changed))
	}
}

func TestSyncResumesAfterStripeFailsMidway(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	rig.fake.AddInvoices(syncInvoices(2500)...)
	rig.fake.FailCall(syncInvoicePage, 13, http.StatusInternalServerError)

	failed := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	row := syncExpectRun(t, rig.app, failed, c.JobFailed, jobs.RunCounts{Fetched: 1200, Created: 1200})
	if failed.Err == nil || !strings.Contains(row.GetString(c.JobRunError), "sync invoices") {
		t.Fatalf("failed run: error %v, stored error %q; want the invoice listing's failure in both",
			failed.Err, row.GetString(c.JobRunError))
	}
	if !row.GetDateTime(c.JobRunWatermark).IsZero() {
		t.Fatalf("a failed run moved the watermark to %v", row.GetString(c.JobRunWatermark))
	}
	if pages := rig.fake.Calls(syncInvoicePage); pages != 13 {
		t.Fatalf("the failed run asked for %d invoice pages, want it to stop at the 13th", pages)
	}
	syncExpectOrders(t, rig.app, 1200)

	pagesBefore := rig.invoicePagesServed()
	next := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	row = syncExpectRun(t, rig.app, next, c.JobSucceeded, jobs.RunCounts{Fetched: 2500, Created: 1300, Skipped: 1200})
	if q := rig.invoiceQuery(t, pagesBefore); q.Has("created[gte]") {
		t.Fatalf("the run after a failure asked for invoices since %s, want from the beginning: no watermark was set",
			q.Get("created[gte]"))
	}
	if row.GetDateTime(c.JobRunWatermark).IsZero() {
		t.Fatal("the complete run set no watermark")
	}
	syncExpectOrders(t, rig.app, 2500)
	syncExpectSilent(t, rig.app, 2500)
}

func TestSyncCountsBadInvoicesFailedAndGoesOn(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	invoices := syncInvoices(150)
	// One bad record in each page, so a failing batch is retried item by
	// item on both.
	invoices[41]["currency"] = "u$d"
	invoices[119]["customer_email"] = "not-an-email"
	rig.fake.AddInvoices(invoices...)

	run := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	row := syncExpectRun(t, rig.app, run, c.JobSucceeded, jobs.RunCounts{Fetched: 150, Created: 148, Failed: 2})
	if run.Err != nil || row.GetString(c.JobRunError) != "" || row.GetDateTime(c.JobRunWatermark).IsZero() {
		t.Fatalf("run error %v, stored error %q, watermark %q; want none, none and a watermark",
			run.Err, row.GetString(c.JobRunError), row.GetString(c.JobRunWatermark))
	}
	syncExpectOrders(t, rig.app, 148)
	for _, n := range []int{42, 120} {
		if _, err := rig.app.FindFirstRecordByData(c.Orders, c.OrderStripeInvoice, syncInvoiceID(n)); err == nil {
			t.Fatalf("bad invoice %s made an order", syncInvoiceID(n))
		}
	}
}

func TestSyncDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	rig.fake.AddInvoices(syncInvoices(150)...)
	ordersBefore := syncCount(t, rig.app, "SELECT COUNT(*) FROM orders", nil)
	itemsBefore := syncCount(t, rig.app, "SELECT COUNT(*) FROM order_items", nil)

	dry := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test", DryRun: true})
	row := syncExpectRun(t, rig.app, dry, c.JobSucceeded, jobs.RunCounts{Fetched: 150, Created: 150})
	if !row.GetDateTime(c.JobRunWatermark).IsZero() {
		t.Fatalf("a dry run set the watermark %q", row.GetString(c.JobRunWatermark))
	}
	orders := syncCount(t, rig.app, "SELECT COUNT(*) FROM orders", nil)
	items := syncCount(t, rig.app, "SELECT COUNT(*) FROM order_items", nil)
	if orders != ordersBefore || items != itemsBefore {
		t.Fatalf("after a dry run %d orders and %d items, want %d and %d as before", orders, items, ordersBefore, itemsBefore)
	}

	// Nothing was written, so the real run still starts from the beginning.
	pagesBefore := rig.invoicePagesServed()
	full := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	syncExpectRun(t, rig.app, full, c.JobSucceeded, jobs.RunCounts{Fetched: 150, Created: 150})
	if q := rig.invoiceQuery(t, pagesBefore); q.Has("created[gte]") {
		t.Fatalf("the run after a dry run asked for invoices since %s, want from the beginning", q.Get("created[gte]"))
	}
	syncExpectOrders(t, rig.app, 150)
}

// syncStartRun starts the sync in the background and returns where its
// outcome arrives.
func syncStartRun(runner *jobs.Jobs) <-chan jobs.JobRun {
	done := make(chan jobs.JobRun, 1)
	go func() {
		run, err := runner.Run(context.Background(), payments.JobStripeSync, jobs.RunOptions{Trigger: "test"})
		if err != nil {
			run.Status, run.Err = "did not start", err
		}
		done <- run
	}()
	return done
}

// syncAwaitPages waits until Stripe has served n invoice pages.
func syncAwaitPages(t *testing.T, rig *syncRig, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rig.fake.Calls(syncInvoicePage) < n {
		if time.Now().After(deadline) {
			t.Fatalf("Stripe served %d invoice pages in 10 s, want %d", rig.fake.Calls(syncInvoicePage), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncAwaitStop waits at most a second for a paused run to end.
func syncAwaitStop(t *testing.T, done <-chan jobs.JobRun, pausedAt time.Time) jobs.JobRun {
	t.Helper()
	select {
	case run := <-done:
		if took := time.Since(pausedAt); took > time.Second {
			t.Fatalf("the run ended %v after the pause, want within a second", took)
		}
		return run
	case <-time.After(time.Second):
		t.Error("the paused run was still running a second later")
		// It must end before the app closes under it.
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
		t.FailNow()
		return jobs.JobRun{}
	}
}

func syncJobState(t *testing.T, runner *jobs.Jobs, name string) jobs.JobState {
	t.Helper()
	states, err := runner.States()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no job %q in %+v", name, states)
	return jobs.JobState{}
}

func TestPauseStopsARunningSyncWithinASecond(t *testing.T) {
	t.Parallel()
	rig := syncNewRig(t)
	rig.fake.AddInvoices(syncInvoices(1000)...)
	// Ten slow pages: unpaused, a run takes well over the second allowed.
	rig.delay.Store(int64(250 * time.Millisecond))

	done := syncStartRun(rig.runner)
	syncAwaitPages(t, rig, 2)
	if !syncJobState(t, rig.runner, payments.JobStripeSync).Running {
		t.Fatal("States does not show the sync running")
	}
	if _, err := rig.runner.Run(context.Background(), payments.JobStripeSync, jobs.RunOptions{Trigger: "test"}); !errors.Is(err, jobs.ErrJobRunning) {
		t.Fatalf("a second run while one runs: %v, want ErrJobRunning", err)
	}
	pausedAt := time.Now()
	if err := rig.runner.SetPaused(payments.JobStripeSync, true, "test"); err != nil {
		t.Fatal(err)
	}
	cancelled := syncAwaitStop(t, done, pausedAt)
	row := syncExpectRun(t, rig.app, cancelled, c.JobCancelled, cancelled.RunCounts)
	if cancelled.Fetched >= 1000 || !row.GetDateTime(c.JobRunWatermark).IsZero() {
		t.Fatalf("cancelled run fetched %d of 1000 with watermark %q; want it cut short and no watermark",
			cancelled.Fetched, row.GetString(c.JobRunWatermark))
	}
	// What it wrote is what it counted, no bad records among it: the batch
	// in hand when the pause came was not written with a cancelled context.
	if cancelled.Failed != 0 {
		t.Fatalf("the paused run counted %d failed records", cancelled.Failed)
	}
	syncExpectOrders(t, rig.app, cancelled.Created)
	state := syncJobState(t, rig.runner, payments.JobStripeSync)
	if !state.Paused || state.Running {
		t.Fatalf("after the pause the sync is paused %t, running %t; want paused and not running", state.Paused, state.Running)
	}
	shoptest.AfterAll(shoptest.ExpectAuditRows("job.pause", "jobs/"+payments.JobStripeSync, 1))(t, rig.app, nil)

	runsBefore := syncCount(t, rig.app, "SELECT COUNT(*) FROM job_runs", nil)
	if _, err := rig.runner.Run(context.Background(), payments.JobStripeSync, jobs.RunOptions{Trigger: "test"}); !errors.Is(err, jobs.ErrJobPaused) {
		t.Fatalf("running a paused job: %v, want ErrJobPaused", err)
	}
	if runs := syncCount(t, rig.app, "SELECT COUNT(*) FROM job_runs", nil); runs != runsBefore {
		t.Fatalf("a refused run left a job_runs row (%d rows, want %d)", runs, runsBefore)
	}

	// Another process (`shopdash jobs pause`) flips only the switch in
	// the database.
	if err := rig.runner.SetPaused(payments.JobStripeSync, false, "test"); err != nil {
		t.Fatal(err)
	}
	pagesBefore := rig.fake.Calls(syncInvoicePage)
	done = syncStartRun(rig.runner)
	syncAwaitPages(t, rig, pagesBefore+2)
	pausedAt = time.Now()
	if _, err := rig.app.DB().Update(c.Jobs, dbx.Params{c.JobPaused: true}, dbx.HashExp{c.JobName: payments.JobStripeSync}).Execute(); err != nil {
		t.Fatal(err)
	}
	cancelled = syncAwaitStop(t, done, pausedAt)
	syncExpectRun(t, rig.app, cancelled, c.JobCancelled, cancelled.RunCounts)

	rig.delay.Store(0)
	if err := rig.runner.SetPaused(payments.JobStripeSync, false, "test"); err != nil {
		t.Fatal(err)
	}
	shoptest.AfterAll(shoptest.ExpectAuditRows("job.resume", "jobs/"+payments.JobStripeSync, 2))(t, rig.app, nil)
	resumed := syncRun(t, rig.runner, jobs.RunOptions{Trigger: "test"})
	if resumed.Status != c.JobSucceeded || resumed.Fetched != 1000 || resumed.Failed != 0 || resumed.Created+resumed.Skipped != 1000 {
		t.Fatalf("resumed run %s %+v, want succeeded, every invoice fetched and created or skipped", resumed.Status, resumed.RunCounts)
	}
	syncExpectOrders(t, rig.app, 1000)
}
