package hooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"

	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// awaitAlerts waits for the operator alerts the shop mails in the
// background: until want of them arrived, or two seconds passed (a tenth
// of one when none are wanted, to see that none come), and returns the
// messages' subjects and texts.
func awaitAlerts(app *tests.TestApp, want int) []string {
	wait := 2 * time.Second
	if want == 0 {
		wait = 100 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for {
		var alerts []string
		for _, m := range app.TestMailer.Messages() {
			if len(m.To) == 1 && m.To[0].Address == "ops@example.com" {
				alerts = append(alerts, m.Subject+" "+m.Text)
			}
		}
		if (want > 0 && len(alerts) >= want) || time.Now().After(deadline) {
			if want > 0 {
				time.Sleep(50 * time.Millisecond) // and no more than wanted
				return awaitAlertsNow(app)
			}
			return alerts
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// awaitAlertsNow is the alerts mailed so far.
func awaitAlertsNow(app *tests.TestApp) []string {
	var alerts []string
	for _, m := range app.TestMailer.Messages() {
		if len(m.To) == 1 && m.To[0].Address == "ops@example.com" {
			alerts = append(alerts, m.Subject+" "+m.Text)
		}
	}
	return alerts
}

// alertsTo counts the messages the operator got about subject.
func alertsTo(messages []string, subject string) int {
	n := 0
	for _, m := range messages {
		if strings.Contains(m, subject) {
			n++
		}
	}
	return n
}

func TestFailedSyncAlertsTheOperator(t *testing.T) {
	fake := fakestripe.New(t)
	fake.Fail("GET /v1/invoices", http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError)
	cfg := shoptest.StripeConfig(fake.URL)
	cfg.AlertEmail = "ops@example.com"
	app, runner := shoptest.NewAppWithJobs(t, cfg)
	defer app.Cleanup()
	run, err := runner.Run(context.Background(), payments.JobStripeSync, jobs.RunOptions{Trigger: "test"})
	if err != nil || run.Status != "failed" {
		t.Fatalf("run %+v, %v; want a failed run", run, err)
	}
	subjects := awaitAlerts(app, 1)
	if alertsTo(subjects, "the Stripe sync failed") != 1 || !strings.Contains(strings.Join(subjects, ""), run.ID) {
		t.Fatalf("operator alerts %q, want one naming run %s", subjects, run.ID)
	}
}

func TestBadSignatureBurstAlertsOnce(t *testing.T) {
	fake := fakestripe.New(t)
	cfg := shoptest.StripeConfig(fake.URL)
	cfg.AlertEmail = "ops@example.com"
	app := shoptest.NewAppWith(t, cfg)
	defer app.Cleanup()
	handler := serveShop(t, app)
	for i := range 45 {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/stripe/webhook", strings.NewReader(`{"id":"evt_forged"}`))
		req.Header.Set("Stripe-Signature", "t=1,v1=forged")
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != http.StatusBadRequest {
			t.Fatalf("forged request %d: %d", i, res.Code)
		}
	}
	subjects := awaitAlerts(app, 1)
	if alertsTo(subjects, "bad Stripe webhook signatures") != 1 {
		t.Fatalf("alerts %q, want exactly one for the burst", subjects)
	}
}
