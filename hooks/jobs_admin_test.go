package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/emails"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

const jobsURL = "/api/v1/admin/jobs"

// jobsSetPaused flips a switch the way another process would, before a
// request.
func jobsSetPaused(name string, paused bool) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
	return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		t.Helper()
		if _, err := app.DB().Update(c.Jobs, dbx.Params{c.JobPaused: paused}, dbx.HashExp{c.JobName: name}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
}

// jobsExpectPaused checks a job's switch in the database.
func jobsExpectPaused(name string, want bool) afterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		var paused bool
		if err := app.DB().Select(c.JobPaused).From(c.Jobs).Where(dbx.HashExp{c.JobName: name}).Row(&paused); err != nil {
			t.Fatal(err)
		}
		if paused != want {
			t.Fatalf("job %s paused = %t, want %t", name, paused, want)
		}
	}
}

// jobsExpectRuns checks how many job_runs rows a job has.
func jobsExpectRuns(name string, want int) afterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		got, err := app.CountRecords(c.JobRuns, dbx.HashExp{c.JobRunJob: name})
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Fatalf("job %s has %d job_runs rows, want %d", name, got, want)
		}
	}
}

// jobsExpectNoAudit checks that no job control was audited.
func jobsExpectNoAudit(t testing.TB, app *tests.TestApp, res *http.Response) {
	t.Helper()
	for _, action := range []string{"job.run", "job.pause", "job.resume"} {
		expectAuditRows(action, "", 0)(t, app, res)
	}
}

func jobsRunScenarios(t *testing.T, scenarios []tests.ApiScenario) {
	t.Helper()
	for _, s := range scenarios {
		if s.TestAppFactory == nil {
			s.TestAppFactory = shoptest.Factory
		}
		s.Test(t)
	}
}

func TestAdminJobsRoutesAreForSuperusersOnly(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	var scenarios []tests.ApiScenario
	for _, who := range []struct {
		name    string
		account shoptest.Account
		status  int
	}{
		{"guest", shoptest.Account{}, http.StatusUnauthorized},
		// A shop user's token is valid but not a superuser's.
		{"customer", shop.Customer, http.StatusForbidden},
		{"support", shop.Support, http.StatusForbidden},
		{"store", shop.Store, http.StatusForbidden},
	} {
		content := []string{fmt.Sprintf(`"status":%d`, who.status)}
		untouched := afterAll(
			jobsExpectPaused(payments.JobStripeSync, false),
			jobsExpectPaused(emails.JobEmailOutbox, true),
			jobsExpectRuns(payments.JobStaleOrders, 0),
			jobsExpectNoAudit,
		)
		scenarios = append(scenarios,
			tests.ApiScenario{
				Name: who.name + " lists the jobs", Method: http.MethodGet, URL: jobsURL,
				Headers: shoptest.Headers(who.account), ExpectedStatus: who.status, ExpectedContent: content,
				NotExpectedContent: []string{payments.JobStripeSync},
			},
			tests.ApiScenario{
				Name: who.name + " pauses the sync", Method: http.MethodPost, URL: jobsURL + "/stripe_sync/pause",
				Headers: shoptest.Headers(who.account), ExpectedStatus: who.status, ExpectedContent: content,
				BeforeTestFunc: jobsSetPaused(emails.JobEmailOutbox, true), AfterTestFunc: untouched,
			},
			tests.ApiScenario{
				Name: who.name + " resumes the outbox", Method: http.MethodPost, URL: jobsURL + "/email_outbox/resume",
				Headers: shoptest.Headers(who.account), ExpectedStatus: who.status, ExpectedContent: content,
				BeforeTestFunc: jobsSetPaused(emails.JobEmailOutbox, true), AfterTestFunc: untouched,
			},
			tests.ApiScenario{
				Name: who.name + " runs the stale-order job", Method: http.MethodPost, URL: jobsURL + "/stale_orders/run",
				Headers: shoptest.Headers(who.account), ExpectedStatus: who.status, ExpectedContent: content,
				BeforeTestFunc: jobsSetPaused(emails.JobEmailOutbox, true),
				// A run would be in the background: give it time to show.
				Delay: 100 * time.Millisecond, AfterTestFunc: untouched,
			},
		)
	}
	jobsRunScenarios(t, scenarios)
}

// jobsListBody is GET /api/v1/admin/jobs.
type jobsListBody struct {
	Items []struct {
		Name     string           `json:"name"`
		Paused   bool             `json:"paused"`
		Running  bool             `json:"running"`
		LastRuns []map[string]any `json:"last_runs"`
	} `json:"items"`
}

// jobsAddRun writes a finished run of a job that started minutesAgo.
func jobsAddRun(t testing.TB, app core.App, name, status string, minutesAgo, fetched int) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.JobRuns)
	if err != nil {
		t.Fatal(err)
	}
	run := core.NewRecord(col)
	started, _ := types.ParseDateTime(time.Now().Add(-time.Duration(minutesAgo) * time.Minute))
	run.Set(c.JobRunJob, name)
	run.Set(c.JobRunStatus, status)
	run.Set(c.JobRunTrigger, "schedule")
	run.Set(c.JobRunStarted, started)
	run.Set(c.JobRunFinished, started)
	run.Set(c.JobRunFetched, fetched)
	if err := app.Save(run); err != nil {
		t.Fatal(err)
	}
}

func TestAdminJobsListShowsEverySwitchAndTheLastRuns(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	jobsRunScenarios(t, []tests.ApiScenario{{
		Name: "superuser lists the jobs", Method: http.MethodGet, URL: jobsURL,
		Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK,
		ExpectedContent: []string{`"name":"stripe_sync"`, `"name":"email_outbox"`, `"name":"stale_orders"`},
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			jobsSetPaused(emails.JobEmailOutbox, true)(t, app, e)
			// Seven runs, the newest (fetched 1) first in the list.
			for i := 1; i <= 7; i++ {
				status := c.JobSucceeded
				if i == 1 {
					status = c.JobFailed
				}
				jobsAddRun(t, app, payments.JobStripeSync, status, i*60, i)
			}
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			var body jobsListBody
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range body.Items {
				var fetched []any
				for _, r := range j.LastRuns {
					fetched = append(fetched, r["fetched"])
				}
				got = append(got, fmt.Sprintf("%s paused=%t running=%t fetched=%v", j.Name, j.Paused, j.Running, fetched))
			}
			want := []string{
				"stripe_sync paused=false running=false fetched=[1 2 3 4 5]",
				"email_outbox paused=true running=false fetched=[]",
				"stale_orders paused=false running=false fetched=[]",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("jobs listed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if s := body.Items[0].LastRuns[0]["status"]; s != c.JobFailed {
				t.Fatalf("newest run has status %v, want failed", s)
			}
		},
	}})
}

func TestAdminPauseAndResumeFlipTheSwitchAndAreAudited(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	admin := c.AuditRef(core.CollectionNameSuperusers, shop.Superuser.ID)
	jobsRunScenarios(t, []tests.ApiScenario{
		{
			Name: "pause", Method: http.MethodPost, URL: jobsURL + "/stripe_sync/pause",
			Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"job":"stripe_sync"`, `"paused":true`},
			AfterTestFunc: afterAll(
				jobsExpectPaused(payments.JobStripeSync, true),
				jobsExpectPaused(emails.JobEmailOutbox, false),
				jobsExpectPaused(payments.JobStaleOrders, false),
				expectAuditRows("job.pause", "jobs/stripe_sync", 1),
				expectAuditEntry("job.pause", admin, nil, nil),
				expectAuditRows("job.resume", "", 0),
			),
		},
		{
			Name: "resume", Method: http.MethodPost, URL: jobsURL + "/stale_orders/resume",
			Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"job":"stale_orders"`, `"paused":false`},
			BeforeTestFunc:  jobsSetPaused(payments.JobStaleOrders, true),
			AfterTestFunc: afterAll(
				jobsExpectPaused(payments.JobStaleOrders, false),
				expectAuditRows("job.resume", "jobs/stale_orders", 1),
				expectAuditEntry("job.resume", admin, nil, nil),
				expectAuditRows("job.pause", "", 0),
			),
		},
	})
}

// jobsAwaitRun waits for a job's only run to finish and returns it.
func jobsAwaitRun(t testing.TB, app core.App, name string) *core.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := app.FindAllRecords(c.JobRuns, dbx.HashExp{c.JobRunJob: name})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 1 {
			t.Fatalf("%d runs of %s, want 1", len(runs), name)
		}
		if len(runs) == 1 && runs[0].GetString(c.JobRunStatus) != c.JobRunning {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished run of %s within 10 s (%d rows)", name, len(runs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAdminRunStartsTheJobInTheBackground(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	admin := c.AuditRef(core.CollectionNameSuperusers, shop.Superuser.ID)
	jobsRunScenarios(t, []tests.ApiScenario{{
		Name: "run", Method: http.MethodPost, URL: jobsURL + "/stale_orders/run",
		Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusAccepted,
		ExpectedContent: []string{`"job":"stale_orders"`, `"started":true`},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			run := jobsAwaitRun(t, app, payments.JobStaleOrders)
			if run.GetString(c.JobRunStatus) != c.JobSucceeded || run.GetString(c.JobRunTrigger) != "admin" {
				t.Fatalf("run %s by %s (error %q), want succeeded by admin",
					run.GetString(c.JobRunStatus), run.GetString(c.JobRunTrigger), run.GetString(c.JobRunError))
			}
			afterAll(
				jobsExpectRuns(payments.JobStripeSync, 0),
				expectAuditRows("job.run", "jobs/stale_orders", 1),
				expectAuditEntry("job.run", admin, []string{`"dry_run":false`}, nil),
			)(t, app, res)
		},
	}})
}

func TestAdminRefusesUnknownAndPausedJobs(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	nothing := afterAll(jobsExpectRuns(payments.JobStripeSync, 0), jobsExpectNoAudit)
	var scenarios []tests.ApiScenario
	for _, verb := range []string{"run", "pause", "resume"} {
		scenarios = append(scenarios, tests.ApiScenario{
			Name: verb + " of an unknown job", Method: http.MethodPost, URL: jobsURL + "/nosuch/" + verb,
			Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusNotFound,
			ExpectedContent: []string{`"status":404`}, AfterTestFunc: nothing,
		})
	}
	scenarios = append(scenarios, tests.ApiScenario{
		Name: "run of a paused job", Method: http.MethodPost, URL: jobsURL + "/stripe_sync/run",
		Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusConflict,
		ExpectedContent: []string{`"status":409`, "paused"},
		BeforeTestFunc:  jobsSetPaused(payments.JobStripeSync, true),
		Delay:           100 * time.Millisecond,
		AfterTestFunc:   afterAll(nothing, jobsExpectPaused(payments.JobStripeSync, true)),
	})
	jobsRunScenarios(t, scenarios)
}

// jobsNewOrder writes an order of the customer in a status, created
// the given time ago (set by SQL, as autodate would overwrite it).
func jobsNewOrder(t *testing.T, app core.App, status c.OrderStatus, age time.Duration, session string) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	order := core.NewRecord(col)
	order.Set(c.OrderNumber, c.FormatOrderNumber(rand.Uint64()))
	order.Set(c.OrderUser, shoptest.Shop().Customer.ID)
	order.Set(c.OrderStatusField, string(status))
	order.Set(c.OrderTotal, 1200)
	order.Set(c.OrderCurrency, "usd")
	order.Set(c.OrderItemCount, 1)
	order.Set(c.OrderStripeSession, session)
	if err := app.Save(order); err != nil {
		t.Fatal(err)
	}
	jobsSetCreated(t, app, dbx.HashExp{"id": order.Id}, age)
	return order.Id
}

func jobsSetCreated(t *testing.T, app core.App, where dbx.Expression, age time.Duration) {
	t.Helper()
	created, _ := types.ParseDateTime(time.Now().Add(-age))
	if _, err := app.DB().Update(c.Orders, dbx.Params{c.OrderCreated: created.String()}, where).Execute(); err != nil {
		t.Fatal(err)
	}
}

// jobsOpenSession opens a Checkout Session in the fake, as checkout does.
func jobsOpenSession(t *testing.T, fake *fakestripe.Server) string {
	t.Helper()
	res, err := http.PostForm(fake.URL+"/v1/checkout/sessions", url.Values{"mode": {"payment"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var session struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&session); err != nil || session.ID == "" {
		t.Fatalf("open session: %d %v", res.StatusCode, err)
	}
	return session.ID
}

func TestStaleOrdersJobCancelsPendingOrdersOlderThanADay(t *testing.T) {
	t.Parallel()
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	t.Cleanup(app.Cleanup)
	// The template's pending orders are recent here, so that only the
	// orders below are stale.
	jobsSetCreated(t, app, dbx.HashExp{c.OrderStatusField: string(c.StatusPending)}, time.Hour)

	openSession := jobsOpenSession(t, fake)
	paidSession := jobsOpenSession(t, fake)
	fake.CompleteSession(paidSession)
	stale := jobsNewOrder(t, app, c.StatusPending, 25*time.Hour, "")
	staleOpen := jobsNewOrder(t, app, c.StatusPending, 48*time.Hour, openSession)
	stalePaid := jobsNewOrder(t, app, c.StatusPending, 48*time.Hour, paidSession)
	fresh := jobsNewOrder(t, app, c.StatusPending, 23*time.Hour, "")
	oldPaid := jobsNewOrder(t, app, c.StatusPaid, 30*24*time.Hour, "")
	pendingBefore := syncCount(t, app, "SELECT COUNT(*) FROM orders WHERE status = 'pending'", nil)

	run, err := runner.Run(context.Background(), payments.JobStaleOrders, jobs.RunOptions{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := jobs.RunCounts{Fetched: 3, Updated: 2, Skipped: 1}
	if run.Status != c.JobSucceeded || run.RunCounts != want {
		t.Fatalf("run %s %+v (error %v), want succeeded %+v", run.Status, run.RunCounts, run.Err, want)
	}
	row, err := app.FindRecordById(c.JobRuns, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.GetString(c.JobRunStatus) != c.JobSucceeded || row.GetInt(c.JobRunUpdated) != 2 || row.GetInt(c.JobRunSkipped) != 1 {
		t.Fatalf("job_runs row %s updated %d skipped %d, want succeeded 2 1",
			row.GetString(c.JobRunStatus), row.GetInt(c.JobRunUpdated), row.GetInt(c.JobRunSkipped))
	}

	for _, o := range []struct {
		id     string
		status c.OrderStatus
	}{
		{stale, c.StatusCancelled},
		{staleOpen, c.StatusCancelled},
		// Paid after all: its webhook will say so.
		{stalePaid, c.StatusPending},
		{fresh, c.StatusPending},
		{oldPaid, c.StatusPaid},
	} {
		order, err := app.FindRecordById(c.Orders, o.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.NewOrder(order).Status(); got != o.status {
			t.Errorf("order %s is %s, want %s", o.id, got, o.status)
		}
		if o.status == c.StatusCancelled &&
			(order.GetString(c.OrderCancelReason) == "" || order.GetDateTime(c.OrderCancelledAt).IsZero()) {
			t.Errorf("cancelled order %s has reason %q and cancelled_at %q, want both set", o.id,
				order.GetString(c.OrderCancelReason), order.GetString(c.OrderCancelledAt))
		}
	}
	// The job expires a session before it cancels its order: Stripe
	// refuses to expire the paid one, and that is how the job learns it
	// was paid (asking first would leave a gap for the payment).
	expired := map[string]int{}
	for _, r := range fake.Requests("POST /v1/checkout/sessions/{id}/expire") {
		expired[strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v1/checkout/sessions/"), "/expire")]++
	}
	if len(expired) != 2 || expired[openSession] != 1 || expired[paidSession] != 1 {
		t.Errorf("expire asked for %v, want once for each of the stale orders' sessions", expired)
	}
	if fake.Session(openSession)["status"] != "expired" || fake.Session(paidSession)["status"] != "complete" {
		t.Errorf("sessions after the job: open one %v, paid one %v; want expired and complete",
			fake.Session(openSession)["status"], fake.Session(paidSession)["status"])
	}
	if pending := syncCount(t, app, "SELECT COUNT(*) FROM orders WHERE status = 'pending'", nil); pending != pendingBefore-2 {
		t.Errorf("%d pending orders left, want %d: only the two stale ones cancelled", pending, pendingBefore-2)
	}
}

func TestStaleOrdersJobKeepsOrdersStripeCannotVouchFor(t *testing.T) {
	t.Parallel()
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	t.Cleanup(app.Cleanup)
	jobsSetCreated(t, app, dbx.HashExp{c.OrderStatusField: string(c.StatusPending)}, time.Hour)
	// The customer paid, but the webhook never came: the case this job is
	// the safety net for.
	session := jobsOpenSession(t, fake)
	fake.CompleteSession(session)
	paid := jobsNewOrder(t, app, c.StatusPending, 48*time.Hour, session)
	fake.Fail("GET /v1/checkout/sessions/{id}", http.StatusInternalServerError)

	run, err := runner.Run(context.Background(), payments.JobStaleOrders, jobs.RunOptions{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("GET /v1/checkout/sessions/{id}"); got != 1 {
		t.Fatalf("the job asked Stripe about the session %d times, want once", got)
	}
	order, err := app.FindRecordById(c.Orders, paid)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NewOrder(order).Status(); got != c.StatusPending {
		t.Fatalf("with Stripe down the job made a paid order %s (run %s %+v), want it left pending for the next run",
			got, run.Status, run.RunCounts)
	}
	if run.Updated != 0 || (run.Failed != 1 && run.Status != c.JobFailed) {
		t.Fatalf("run %s %+v, want the order counted failed or the run failed", run.Status, run.RunCounts)
	}
}
