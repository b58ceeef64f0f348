package alerts_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

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
	subjects := shoptest.AwaitAlerts(app, 1)
	if shoptest.AlertsTo(subjects, "the Stripe sync failed") != 1 || !strings.Contains(strings.Join(subjects, ""), run.ID) {
		t.Fatalf("operator alerts %q, want one naming run %s", subjects, run.ID)
	}
}

func TestBadSignatureBurstAlertsOnce(t *testing.T) {
	fake := fakestripe.New(t)
	cfg := shoptest.StripeConfig(fake.URL)
	cfg.AlertEmail = "ops@example.com"
	app := shoptest.NewAppWith(t, cfg)
	defer app.Cleanup()
	handler := shoptest.ServeShop(t, app)
	for i := range 45 {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/stripe/webhook", strings.NewReader(`{"id":"evt_forged"}`))
		req.Header.Set("Stripe-Signature", "t=1,v1=forged")
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != http.StatusBadRequest {
			t.Fatalf("forged request %d: %d", i, res.Code)
		}
	}
	subjects := shoptest.AwaitAlerts(app, 1)
	if shoptest.AlertsTo(subjects, "bad Stripe webhook signatures") != 1 {
		t.Fatalf("alerts %q, want exactly one for the burst", subjects)
	}
}
