// Package webhooks sends the shop's outgoing webhooks (CONTRACT §8,
// Standard Webhooks v1): the endpoints' rules (https, public hosts, their
// secrets and rotation), an outbox row per subscribed endpoint written in
// the transaction of each order, product or account change it tells of,
// and a worker that delivers them with retries, bounded per endpoint and
// in all, from outside any transaction.
package webhooks

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/metrics"
	"shopdash/internal/groupcommit"
	"shopdash/internal/prepared"
)

// JobWebhookOutbox is the worker's job: it sends as deliveries are
// queued; `shopdash jobs` and the admin routes pause it or run a pass.
const JobWebhookOutbox = "webhook_outbox"

// DefaultRetries is the retry schedule (CONTRACT §8): the wait before
// each attempt, the first one included.
var DefaultRetries = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// DeliveryRetention is how long delivered and dead deliveries are kept
// after their last attempt; the worker deletes older ones every hour.
const DeliveryRetention = 30 * 24 * time.Hour

// Bounds of the worker.
const (
	defaultTimeout     = 15 * time.Second
	defaultPerEndpoint = 4
	defaultTotal       = 16
	// maxAnswerRead is how much of an answer's body is read: enough to
	// keep the start of an error, never a flood.
	maxAnswerRead = 64 << 10
	// maxRetryAfter bounds a receiver's Retry-After.
	maxRetryAfter = 24 * time.Hour
	// endpointsTTL is how long the list of active endpoints is trusted:
	// this process's changes drop it at once, another process's (the
	// command) are seen within it.
	endpointsTTL = 10 * time.Second
	pollEvery    = time.Second
	pruneEvery   = time.Hour
	// shutdownWait is how long stopping waits for attempts under way,
	// whose requests are cancelled; one cut off is sent again.
	shutdownWait = 5 * time.Second
)

// Config is the webhooks part of the shop's configuration.
type Config struct {
	// Retries is SHOPDASH_WEBHOOKS_RETRIES: the wait before each attempt;
	// nil means DefaultRetries.
	Retries []time.Duration
	// AllowPrivate is SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1: http and private,
	// loopback and link-local addresses are allowed.
	AllowPrivate bool
	// Timeout bounds one attempt; 0 means 15 s.
	Timeout time.Duration
	// PerEndpoint and Total bound the attempts under way to one endpoint
	// and to all; 0 means 4 and 16.
	PerEndpoint, Total int
}

// ParseRetries reads a retry schedule: comma-separated durations
// (0s,5s,5m,…), each the wait before an attempt, 1 to 30 of them, none
// negative or over a week.
func ParseRetries(raw string) ([]time.Duration, error) {
	parts := strings.Split(raw, ",")
	if len(parts) > 30 {
		return nil, fmt.Errorf("%d attempts: at most 30", len(parts))
	}
	schedule := make([]time.Duration, len(parts))
	for i, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d < 0 || d > 7*24*time.Hour {
			return nil, fmt.Errorf("%q is not a duration between 0s and 168h", strings.TrimSpace(p))
		}
		schedule[i] = d
	}
	return schedule, nil
}

// Webhooks queues and delivers the outgoing webhooks.
type Webhooks struct {
	app       core.App
	cfg       Config
	alerts    *alerts.Alerter
	metrics   *metrics.Metrics
	endpoints *endpointCache
	client    *http.Client
	wake      chan struct{}
	now       func() time.Time
	// stmts keeps the outbox's statements compiled on the writer: the
	// deliveries are written in the transaction of each change.
	stmts prepared.Statements
	// recorder writes the attempts' outcomes in group commits.
	recorder outcomeRecorder

	mu       sync.Mutex
	inFlight map[string]int
	total    int
	// held keeps, per endpoint, the claimed deliveries not yet started.
	held map[string][]claimedDelivery
	// paused is the worker's pause switch as the worker last read it;
	// attempts is how many attempts were made, for the job's counts.
	paused   atomic.Bool
	attempts atomic.Int64
	// turn rotates where each pass of the worker starts among the
	// endpoints.
	turn atomic.Uint64
	// failing tells, per endpoint, whether its failing_since is set, as
	// this process last wrote it: a success on an endpoint known not to
	// be failing writes nothing more (the writer is the shop's bottleneck).
	failing map[string]bool
}

// Register binds the endpoints' rules, queues a delivery with each change
// an endpoint subscribes to, and starts the worker on serve (stopped on
// terminate). The worker's job, a pass sending what is due, is
// Webhooks.RunPass.
func Register(app core.App, cfg Config, alerter *alerts.Alerter, m *metrics.Metrics) *Webhooks {
	if cfg.Retries == nil {
		cfg.Retries = DefaultRetries
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = defaultPerEndpoint
	}
	if cfg.Total <= 0 {
		cfg.Total = defaultTotal
	}
	w := &Webhooks{
		app: app, cfg: cfg, alerts: alerter, metrics: m,
		endpoints: &endpointCache{},
		client:    newClient(cfg),
		wake:      make(chan struct{}, 1),
		now:       time.Now,
		inFlight:  map[string]int{},
		failing:   map[string]bool{},
		held:      map[string][]claimedDelivery{},
		recorder:  outcomeRecorder{batches: groupcommit.Batcher[*outcome]{Max: maxOutcomeBatch}},
	}
	w.bindEndpointRules()
	w.bindEvents()
	w.bindRoutes()
	w.startWorker()
	m.WebhookOutbox(app)
	return w
}

// endpointCache holds the active endpoints, read again when this process
// changes one or after endpointsTTL: every save of an order or product
// asks it, and most shops have none.
type endpointCache struct {
	mu     sync.Mutex
	list   []*c.WebhookEndpoint
	loaded time.Time
}

// active returns the active endpoints.
func (ec *endpointCache) active(app core.App) ([]*c.WebhookEndpoint, error) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if !ec.loaded.IsZero() && time.Since(ec.loaded) < endpointsTTL {
		return ec.list, nil
	}
	records, err := app.FindAllRecords(c.WebhookEndpoints)
	if err != nil {
		return nil, fmt.Errorf("read webhook endpoints: %w", err)
	}
	list := make([]*c.WebhookEndpoint, 0, len(records))
	for _, r := range records {
		if ep := c.NewWebhookEndpoint(r); ep.Active() {
			list = append(list, ep)
		}
	}
	ec.list, ec.loaded = list, time.Now()
	return list, nil
}

// forget drops the list: an endpoint changed.
func (ec *endpointCache) forget() {
	ec.mu.Lock()
	ec.loaded = time.Time{}
	ec.mu.Unlock()
}

// subscribed returns the active endpoints that take events of the type.
func (ec *endpointCache) subscribed(app core.App, eventType string) ([]*c.WebhookEndpoint, error) {
	all, err := ec.active(app)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	var out []*c.WebhookEndpoint
	for _, ep := range all {
		if ep.Takes(eventType) {
			out = append(out, ep)
		}
	}
	return out, nil
}
