package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stripe/stripe-go/v76/webhook"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/emails"
	"shopdash/hooks/jobs"
	"shopdash/hooks/metrics"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

const metricsToken = "metrics-token-for-tests-0123456789"

// metricsShop is a template shop with the given metrics configuration.
func metricsShop(token string, off bool) func(testing.TB) *tests.TestApp {
	return func(tb testing.TB) *tests.TestApp {
		return shoptest.NewAppWith(tb, hooks.Config{AppURL: shoptest.AppURL, MetricsToken: token, MetricsOff: off})
	}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// TestMetricsAreForSuperusersAndTheToken: a superuser and the bearer of
// SHOPDASH_METRICS_TOKEN read /metrics; a guest or a wrong token gets 401,
// a signed-in shop user 403; without a token only superusers read it; with
// SHOPDASH_METRICS=off it is not there.
func TestMetricsAreForSuperusersAndTheToken(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	series := []string{"shopdash_outbox_depth", `shopdash_sqlite_open_connections{db="data",pool="concurrent"}`,
		`shopdash_cache_lookups_total{cache="answers",result="hit"}`, "go_goroutines", "process_resident_memory_bytes"}
	refused := func(status int) []string { return []string{fmt.Sprintf(`"status":%d`, status)} }
	noToken, off := metricsShop("", false), metricsShop(metricsToken, true)
	scenarios := []tests.ApiScenario{
		{Name: "guest", ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "customer", Headers: shoptest.Headers(shop.Customer), ExpectedStatus: http.StatusForbidden, ExpectedContent: refused(403)},
		{Name: "support", Headers: shoptest.Headers(shop.Support), ExpectedStatus: http.StatusForbidden, ExpectedContent: refused(403)},
		{Name: "store", Headers: shoptest.Headers(shop.Store), ExpectedStatus: http.StatusForbidden, ExpectedContent: refused(403)},
		{Name: "wrong token", Headers: bearer("not-the-metrics-token"), ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "token one character short", Headers: bearer(metricsToken[:len(metricsToken)-1]), ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "token without Bearer", Headers: map[string]string{"Authorization": metricsToken}, ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "token", Headers: bearer(metricsToken), ExpectedStatus: http.StatusOK, ExpectedContent: series},
		{Name: "token, lower-case bearer", Headers: map[string]string{"Authorization": "bearer " + metricsToken}, ExpectedStatus: http.StatusOK, ExpectedContent: series},
		{Name: "superuser", Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK, ExpectedContent: series},
		{Name: "token unset: the former token", TestAppFactory: noToken, Headers: bearer(metricsToken), ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "token unset: an empty bearer", TestAppFactory: noToken, Headers: map[string]string{"Authorization": "Bearer "}, ExpectedStatus: http.StatusUnauthorized, ExpectedContent: refused(401)},
		{Name: "token unset: superuser", TestAppFactory: noToken, Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusOK, ExpectedContent: series},
		{Name: "metrics off: superuser", TestAppFactory: off, Headers: shoptest.Headers(shop.Superuser), ExpectedStatus: http.StatusNotFound, ExpectedContent: refused(404)},
	}
	for _, s := range scenarios {
		s.Method, s.URL = http.MethodGet, metrics.Path
		if s.TestAppFactory == nil {
			s.TestAppFactory = metricsShop(metricsToken, false)
		}
		if s.ExpectedStatus != http.StatusOK {
			s.NotExpectedContent = []string{"shopdash_outbox_depth", "go_goroutines"}
		}
		s.Test(t)
	}
}

// TestSeriesMoveUnderLoad: purchases reads (the second from the caches), a
// records-API read by id, signed webhook events and a job run move their
// series between two scrapes, labelled by route pattern (never an id),
// event type and outcome, job and status.
func TestSeriesMoveUnderLoad(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	cfg := shoptest.StripeConfig(fake.URL)
	cfg.MetricsToken = metricsToken
	app, runner := shoptest.NewAppWithJobs(t, cfg)
	t.Cleanup(app.Cleanup) // before the fake's own cleanup
	shoptest.WebhookStockOrder(t, app)
	handler := shoptest.ServeShop(t, app)

	before := scrape(t, handler)
	expectStatus(t, handler, http.MethodGet, shoptest.PurchasesURL, "", shoptest.Headers(shop.Customer), http.StatusOK)
	expectStatus(t, handler, http.MethodGet, shoptest.PurchasesURL, "", shoptest.Headers(shop.Customer), http.StatusOK)
	expectStatus(t, handler, http.MethodGet, shoptest.PurchasesURL, "", nil, http.StatusUnauthorized)
	expectStatus(t, handler, http.MethodGet, "/api/collections/orders/records/"+shop.CustomerOrder, "",
		shoptest.Headers(shop.Customer), http.StatusOK)

	paid := shoptest.WebhookSession(shop.CustomerOrder, "paid")
	deliver := func(id, eventType string, object any, want int) {
		t.Helper()
		payload, signature := shoptest.StripeEvent(t, id, eventType, object)
		expectStatus(t, handler, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature}, want)
	}
	deliver("evt_metrics_paid", "checkout.session.completed", paid, http.StatusOK)
	deliver("evt_metrics_paid", "checkout.session.completed", paid, http.StatusOK)
	deliver("evt_metrics_customer", "customer.created", map[string]any{"id": "cus_metrics", "object": "customer"}, http.StatusOK)
	payload, _ := shoptest.StripeEvent(t, "evt_metrics_forged", "checkout.session.completed", paid)
	expectStatus(t, handler, http.MethodPost, shoptest.WebhookURL, string(payload),
		map[string]string{"Stripe-Signature": "t=1,v1=forged"}, http.StatusBadRequest)
	ahead := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: shoptest.WebhookSecret,
		Timestamp: time.Now().Add(10 * time.Minute)})
	expectStatus(t, handler, http.MethodPost, shoptest.WebhookURL, string(payload),
		map[string]string{"Stripe-Signature": ahead.Header}, http.StatusBadRequest)

	run, err := runner.Run(context.Background(), payments.JobStaleOrders, jobs.RunOptions{Trigger: "test"})
	if err != nil || run.Status != c.JobSucceeded {
		t.Fatalf("stale orders run: %+v, %v", run, err)
	}
	after := scrape(t, handler)

	for _, want := range []struct {
		name   string
		labels []string
		by     float64
	}{
		{"shopdash_http_requests_total", []string{"route", "GET /api/v1/purchases", "method", "GET", "code", "200"}, 2},
		{"shopdash_http_requests_total", []string{"route", "GET /api/v1/purchases", "method", "GET", "code", "401"}, 1},
		{"shopdash_http_request_duration_seconds", []string{"route", "GET /api/v1/purchases", "method", "GET"}, 3},
		{"shopdash_http_requests_total", []string{"route", "GET /api/collections/{collection}/records/{id}", "method", "GET", "code", "200"}, 1},
		{"shopdash_http_requests_total", []string{"route", "POST /api/v1/stripe/webhook", "method", "POST", "code", "200"}, 3},
		{"shopdash_http_requests_total", []string{"route", "POST /api/v1/stripe/webhook", "method", "POST", "code", "400"}, 2},
		{"shopdash_http_requests_total", []string{"route", "GET /metrics", "method", "GET", "code", "200"}, 1},
		{"shopdash_cache_lookups_total", []string{"cache", "auth", "result", "hit"}, 2},
		{"shopdash_cache_lookups_total", []string{"cache", "answers", "result", "miss"}, 1},
		{"shopdash_cache_lookups_total", []string{"cache", "answers", "result", "hit"}, 1},
		{"shopdash_stripe_webhook_events_total", []string{"type", "checkout.session.completed", "outcome", "applied"}, 1},
		{"shopdash_stripe_webhook_events_total", []string{"type", "checkout.session.completed", "outcome", "duplicate"}, 1},
		{"shopdash_stripe_webhook_events_total", []string{"type", "customer.created", "outcome", "ignored"}, 1},
		{"shopdash_stripe_webhook_events_total", []string{"type", "unknown", "outcome", "bad_signature"}, 2},
		{"shopdash_job_run_duration_seconds", []string{"job", payments.JobStaleOrders, "status", c.JobSucceeded}, 1},
	} {
		got := value(t, after, want.name, want.labels...) - value(t, before, want.name, want.labels...)
		if got != want.by {
			t.Errorf("%s%v moved by %v, want %v", want.name, want.labels, got, want.by)
		}
	}
	for _, series := range []struct {
		name   string
		labels []string
	}{
		{"shopdash_sqlite_open_connections", []string{"db", "data", "pool", "concurrent"}},
		{"shopdash_sqlite_max_open_connections", []string{"db", "data", "pool", "nonconcurrent"}},
		{"shopdash_sqlite_wait_count_total", []string{"db", "auxiliary", "pool", "concurrent"}},
		{"shopdash_outbox_depth", nil},
		{"go_goroutines", nil},
	} {
		if find(after, series.name, series.labels...) == nil {
			t.Errorf("no series %s%v", series.name, series.labels)
		}
	}
	if value(t, after, "shopdash_sqlite_max_open_connections", "db", "data", "pool", "nonconcurrent") != 1 {
		t.Errorf("data.db's writer pool opens at most %v connections, want 1",
			value(t, after, "shopdash_sqlite_max_open_connections", "db", "data", "pool", "nonconcurrent"))
	}
	for _, m := range after["shopdash_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), shop.CustomerOrder) {
				t.Errorf("a route label holds an id: %s", l.GetValue())
			}
		}
	}
}

// TestOutboxIsReadAtScrapeTime: emails waiting (queued, or failed with a
// retry to come) make the depth, dead ones the dead count, and the oldest
// waiting one the age.
func TestOutboxIsReadAtScrapeTime(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	app := shoptest.NewAppWith(t, hooks.Config{AppURL: shoptest.AppURL, MetricsToken: metricsToken})
	t.Cleanup(app.Cleanup)
	// The worker, started with the serve event, would send what is due.
	if _, err := app.DB().Update(c.Jobs, dbx.Params{c.JobPaused: true}, dbx.HashExp{c.JobName: emails.JobEmailOutbox}).Execute(); err != nil {
		t.Fatal(err)
	}
	handler := shoptest.ServeShop(t, app)
	before := scrape(t, handler)

	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	addEmailJob(t, app, shop.CustomerOrder, c.EmailFailed, twoHoursAgo)
	addEmailJob(t, app, shop.Customer2Order, c.EmailDead, twoHoursAgo)
	after := scrape(t, handler)

	for name, by := range map[string]float64{"shopdash_outbox_depth": 1, "shopdash_outbox_dead": 1} {
		if got := value(t, after, name) - value(t, before, name); got != by {
			t.Errorf("%s moved by %v, want %v", name, got, by)
		}
	}
	if age := value(t, after, "shopdash_outbox_oldest_age_seconds"); age < 2*3600-60 {
		t.Errorf("oldest waiting email is %v s old, want at least two hours", age)
	}
}

// addEmailJob adds an order_refunded email of the order with status,
// created at the given time, its next attempt an hour away.
func addEmailJob(t *testing.T, app core.App, order, status string, created time.Time) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.EmailJobs)
	if err != nil {
		t.Fatal(err)
	}
	job := core.NewRecord(col)
	job.Set(c.EmailJobOrder, order)
	job.Set(c.EmailJobTemplate, c.TemplateOrderRefunded)
	job.Set(c.EmailJobLanguage, "en")
	job.Set(c.EmailJobStatus, status)
	job.Set(c.EmailJobNextAttempt, time.Now().Add(time.Hour))
	if err := app.Save(job); err != nil {
		t.Fatal(err)
	}
	stamp, err := types.ParseDateTime(created)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobCreated: stamp.String()}, dbx.HashExp{"id": job.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
}

// expectStatus sends one request and fails unless it is answered want.
func expectStatus(t *testing.T, handler http.Handler, method, path, body string, headers map[string]string, want int) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res := httptest.NewRecorder()
	handler.ServeHTTP(res, req)
	if res.Code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.Code, res.Body, want)
	}
}

// scrape reads /metrics with the token, as Prometheus would.
func scrape(t *testing.T, handler http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, metrics.Path, nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res := httptest.NewRecorder()
	handler.ServeHTTP(res, req)
	if res.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", res.Code, res.Body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return families
}

// find is the series of a family with the given label pairs, or nil.
func find(families map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		matches := true
		for i := 0; i+1 < len(labels); i += 2 {
			matches = matches && have[labels[i]] == labels[i+1]
		}
		if matches {
			return m
		}
	}
	return nil
}

// value is a series' value (a histogram's count), 0 when it is absent.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := find(families, name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	t.Fatalf("%s: a series of an unexpected kind", name)
	return 0
}
