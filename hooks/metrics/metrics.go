// Package metrics serves the shop's figures to Prometheus at GET /metrics
// (docs/metrics.md), from a registry of its own: HTTP requests by route,
// Stripe webhook events, job runs and cache lookups, counted as they
// happen; the email outbox and the SQLite pools, read at scrape time; and
// the Go runtime and process collectors.
//
// It is a shared part below the capabilities and the job runner, so that
// they record into it (WebhookEvent, JobRun) without knowing Prometheus;
// the caches, of its own layer, count in plain atomics that the wiring
// hands over (CacheLookups).
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is what the metrics read from the environment.
type Config struct {
	// Token is SHOPDASH_METRICS_TOKEN: a bearer token that reads /metrics
	// besides superusers; "" leaves /metrics to superusers.
	Token string
	// Off is SHOPDASH_METRICS=off: /metrics answers 404 and requests are
	// not timed (the bench's measure of what the metrics cost).
	Off bool
}

// Path is where Prometheus scrapes the shop.
const Path = "/metrics"

// jobRunBuckets are the upper bounds of the job run durations: a stale
// order pass takes milliseconds, a sync of 100,000 invoices a minute.
var jobRunBuckets = []float64{0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600}

// Metrics holds the shop's series.
type Metrics struct {
	registry      *prometheus.Registry
	requests      *requests
	webhookEvents *prometheus.CounterVec
	webhookBatch  *prometheus.HistogramVec
	// webhookDeliveries counts the outgoing webhooks' attempts.
	webhookDeliveries *prometheus.CounterVec
	jobRuns           *prometheus.HistogramVec
	// tokenHash is the SHA-256 of the metrics token; nil without one.
	tokenHash []byte
}

// Register builds the shop's metrics for app and, unless cfg.Off, times
// every request and serves GET /metrics to superusers and the token.
func Register(app core.App, cfg Config) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: newRequests(),
		webhookEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopdash_stripe_webhook_events_total",
			Help: "Stripe webhook deliveries by event type and outcome (docs/metrics.md lists the outcomes).",
		}, []string{"type", "outcome"}),
		webhookBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopdash_stripe_webhook_batch_events",
			Help:    "Webhook events applied per transaction (group commit), by how: together, or one by one after the batch was rolled back.",
			Buckets: []float64{1, 2, 4, 8, 16, 32},
		}, []string{"commit"}),
		webhookDeliveries: newWebhookDeliveries(),
		jobRuns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopdash_job_run_duration_seconds",
			Help:    "Background job runs by job and final status (succeeded, failed, cancelled), and how long each took.",
			Buckets: jobRunBuckets,
		}, []string{"job", "status"}),
	}
	if cfg.Token != "" {
		sum := sha256.Sum256([]byte(cfg.Token))
		m.tokenHash = sum[:]
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests.total, m.requests.duration, m.webhookEvents, m.webhookBatch, m.webhookDeliveries, m.jobRuns,
		newOutboxCollector(app), newSQLitePoolsCollector(app),
	)
	scrape := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		if cfg.Off {
			// Without it the customer page's fallback would answer 200.
			se.Router.GET(Path, func(e *core.RequestEvent) error {
				return e.NotFoundError("The metrics are off (SHOPDASH_METRICS=off).", nil)
			})
			return se.Next()
		}
		se.Router.Bind(m.requests.handler())
		// A scrape every 15 s would fill the request log; failures stay.
		se.Router.GET(Path, func(e *core.RequestEvent) error {
			if err := m.checkScraper(e); err != nil {
				return err
			}
			scrape.ServeHTTP(e.Response, e.Request)
			return nil
		}).Bind(apis.SkipSuccessActivityLog())
		return se.Next()
	})
	return m
}

// checkScraper lets superusers and the bearer of the metrics token in; a
// signed-in shop user gets 403, anyone else 401.
func (m *Metrics) checkScraper(e *core.RequestEvent) error {
	switch {
	case e.HasSuperuserAuth(), m.isMetricsToken(e.Request.Header.Get("Authorization")):
		return nil
	case e.Auth != nil:
		return e.ForbiddenError("Only superusers and the metrics token may read the metrics.", nil)
	}
	return e.UnauthorizedError("Sign in as a superuser or send Authorization: Bearer with SHOPDASH_METRICS_TOKEN.", nil)
}

// isMetricsToken compares the bearer token with the metrics token in
// constant time: comparing their SHA-256 sums hides the length too.
func (m *Metrics) isMetricsToken(authorization string) bool {
	const prefix = "Bearer "
	if m.tokenHash == nil || len(authorization) <= len(prefix) || !strings.EqualFold(authorization[:len(prefix)], prefix) {
		return false
	}
	sum := sha256.Sum256([]byte(authorization[len(prefix):]))
	return subtle.ConstantTimeCompare(sum[:], m.tokenHash) == 1
}

// WebhookEvent counts one Stripe webhook delivery: the event's type
// ("unknown" before its signature is verified) and what became of it.
func (m *Metrics) WebhookEvent(eventType, outcome string) {
	m.webhookEvents.WithLabelValues(eventType, outcome).Inc()
}

// WebhookBatch records one batch of webhook events: how many, and whether
// they were committed together ("batch") or, after one of them failed,
// each on its own ("one_by_one").
func (m *Metrics) WebhookBatch(events int, together bool) {
	commit := "batch"
	if !together {
		commit = "one_by_one"
	}
	m.webhookBatch.WithLabelValues(commit).Observe(float64(events))
}

// JobRun counts one finished run of a job, with its status and duration.
func (m *Metrics) JobRun(job, status string, took time.Duration) {
	m.jobRuns.WithLabelValues(job, status).Observe(took.Seconds())
}

// CacheLookups adds a cache's hits and misses, which counts returns at
// each scrape, as shopdash_cache_lookups_total{cache=name}.
func (m *Metrics) CacheLookups(name string, counts func() (hits, misses uint64)) {
	lookups := func(result string, pick func(hits, misses uint64) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "shopdash_cache_lookups_total",
			Help:        "Lookups in the shop's in-memory caches: auth (verified sign-ins) and answers (the customer read routes), by result.",
			ConstLabels: prometheus.Labels{"cache": name, "result": result},
		}, func() float64 { return float64(pick(counts())) })
	}
	m.registry.MustRegister(
		lookups("hit", func(hits, _ uint64) uint64 { return hits }),
		lookups("miss", func(_, misses uint64) uint64 { return misses }),
	)
}
