package payments_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

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
