package jobs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/emails"
	"shopdash/hooks/payments"
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
func jobsExpectPaused(name string, want bool) shoptest.AfterFunc {
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
func jobsExpectRuns(name string, want int) shoptest.AfterFunc {
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
		shoptest.ExpectAuditRows(action, "", 0)(t, app, res)
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
		untouched := shoptest.AfterAll(
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
		ExpectedContent: []string{`"name":"stripe_sync"`, `"name":"email_outbox"`, `"name":"stale_orders"`, `"name":"stripe_replay"`, `"name":"webhook_outbox"`},
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
				"stripe_replay paused=false running=false fetched=[]",
				"webhook_outbox paused=false running=false fetched=[]",
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
			AfterTestFunc: shoptest.AfterAll(
				jobsExpectPaused(payments.JobStripeSync, true),
				jobsExpectPaused(emails.JobEmailOutbox, false),
				jobsExpectPaused(payments.JobStaleOrders, false),
				shoptest.ExpectAuditRows("job.pause", "jobs/stripe_sync", 1),
				shoptest.ExpectAuditEntry("job.pause", admin, nil, nil),
				shoptest.ExpectAuditRows("job.resume", "", 0),
			),
		},
		{
			Name: "resume", Method: http.MethodPost, URL: jobsURL + "/stale_orders/resume",
			Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"job":"stale_orders"`, `"paused":false`},
			BeforeTestFunc:  jobsSetPaused(payments.JobStaleOrders, true),
			AfterTestFunc: shoptest.AfterAll(
				jobsExpectPaused(payments.JobStaleOrders, false),
				shoptest.ExpectAuditRows("job.resume", "jobs/stale_orders", 1),
				shoptest.ExpectAuditEntry("job.resume", admin, nil, nil),
				shoptest.ExpectAuditRows("job.pause", "", 0),
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
			shoptest.AfterAll(
				jobsExpectRuns(payments.JobStripeSync, 0),
				shoptest.ExpectAuditRows("job.run", "jobs/stale_orders", 1),
				shoptest.ExpectAuditEntry("job.run", admin, []string{`"dry_run":false`}, nil),
			)(t, app, res)
		},
	}})
}

func TestAdminRefusesUnknownAndPausedJobs(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	nothing := shoptest.AfterAll(jobsExpectRuns(payments.JobStripeSync, 0), jobsExpectNoAudit)
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
		AfterTestFunc:   shoptest.AfterAll(nothing, jobsExpectPaused(payments.JobStripeSync, true)),
	})
	jobsRunScenarios(t, scenarios)
}
