package hooks

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"shopdash/hooks/emails"
	"shopdash/hooks/metrics"
	"shopdash/hooks/payments"
	"shopdash/hooks/sessions"
	"shopdash/hooks/webhooks"
)

// Config is what the shop reads from its environment at start (CONTRACT §1).
type Config struct {
	// StripeSecretKey is STRIPE_SECRET_KEY; empty disables payments.
	StripeSecretKey string
	// StripeWebhookSecrets are the signing secrets of STRIPE_WEBHOOK_SECRET;
	// several while a secret is rotated.
	StripeWebhookSecrets []string
	// StripeAPIBase is STRIPE_API_BASE, another Stripe API URL.
	StripeAPIBase string
	// StripeMaxRetries is how often stripe-go retries a failed request.
	StripeMaxRetries int64
	// AppURL is SHOPDASH_APP_URL, the public base of checkout return links.
	AppURL string
	// SMTPURL is SHOPDASH_SMTP_URL; it overrides PocketBase's SMTP settings.
	SMTPURL string
	// SyncSchedule is SHOPDASH_SYNC_SCHEDULE: a cron expression, "off", or
	// "" for DefaultSyncSchedule.
	SyncSchedule string
	// ReplaySchedule is SHOPDASH_REPLAY_SCHEDULE: a cron expression of the
	// stripe_replay job, "off", or "" for DefaultReplaySchedule.
	ReplaySchedule string
	// AlertEmail is SHOPDASH_ALERT_EMAIL, where operator alerts go.
	AlertEmail string
	// CacheTTL is SHOPDASH_CACHE_TTL: how long a verified sign-in and the
	// answers of the customer read routes are kept in memory at most
	// (hooks/cache/auth.go, hooks/cache/answers.go). 0 means DefaultCacheTTL;
	// negative turns both caches off.
	CacheTTL time.Duration
	// SyncBatch is how many records a sync transaction holds; 0 means
	// defaultSyncBatch (tests make it small, to write many batches).
	SyncBatch int
	// PushRetryDelays are the waits between catalogue push attempts; nil
	// means the defaults (tests shorten them).
	PushRetryDelays []time.Duration
	// SMTPTimeout bounds one SMTP message, connecting included; 0 means
	// 40 s (emails/smtp_deadlines.go).
	SMTPTimeout time.Duration
	// RecordsReadTimeout bounds one records-API read of a non-superuser,
	// waiting for a read slot included; 0 means 2 s (access/records_guard.go).
	RecordsReadTimeout time.Duration
	// MetricsToken is SHOPDASH_METRICS_TOKEN: the bearer token that reads
	// GET /metrics besides superusers; empty leaves it to superusers.
	MetricsToken string
	// MetricsOff is SHOPDASH_METRICS=off: no /metrics and no request
	// timing (docs/metrics.md).
	MetricsOff bool
	// WebhookRetries is SHOPDASH_WEBHOOKS_RETRIES: the wait before each
	// attempt of an outgoing webhook; nil means webhooks.DefaultRetries.
	WebhookRetries []time.Duration
	// WebhooksAllowPrivate is SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1: webhook
	// endpoints may use http and private, loopback or link-local hosts.
	WebhooksAllowPrivate bool
	// WebhookTimeout bounds one webhook attempt; 0 means 15 s (tests
	// shorten it).
	WebhookTimeout time.Duration
	// SessionMax is SHOPDASH_SESSION_MAX: how long a customer stays signed
	// in after entering the password, refreshes included; 0 means
	// sessions.DefaultCustomerMax (30 days).
	SessionMax time.Duration
	// StaffSessionMax is SHOPDASH_STAFF_SESSION_MAX, the same for support
	// and store; 0 means sessions.DefaultStaffMax (12 hours).
	StaffSessionMax time.Duration
	// StaffMFAOff is SHOPDASH_STAFF_MFA=off: staff sign in without the
	// emailed code (make run's demo).
	StaffMFAOff bool
	// Now is the sessions' clock; nil means time.Now (tests move it).
	Now func() time.Time
}

// DefaultAppURL is the base of return links when SHOPDASH_APP_URL is unset.
const DefaultAppURL = "http://127.0.0.1:8090"

// DefaultSyncSchedule is when the Stripe sync runs without
// SHOPDASH_SYNC_SCHEDULE: five past midnight UTC.
const DefaultSyncSchedule = "5 0 * * *"

// DefaultReplaySchedule is when the Stripe event replay runs without
// SHOPDASH_REPLAY_SCHEDULE: hourly, over the last 3 hours
// (payments.ReplayWindow).
const DefaultReplaySchedule = "25 * * * *"

// DefaultCacheTTL is the CacheTTL when SHOPDASH_CACHE_TTL is unset.
const DefaultCacheTTL = 30 * time.Second

// ConfigFromEnv reads the Config from the process environment.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		StripeSecretKey:  strings.TrimSpace(os.Getenv("STRIPE_SECRET_KEY")),
		StripeAPIBase:    strings.TrimRight(strings.TrimSpace(os.Getenv("STRIPE_API_BASE")), "/"),
		StripeMaxRetries: 2,
		AppURL:           strings.TrimRight(strings.TrimSpace(os.Getenv("SHOPDASH_APP_URL")), "/"),
		SMTPURL:          strings.TrimSpace(os.Getenv("SHOPDASH_SMTP_URL")),
		AlertEmail:       strings.TrimSpace(os.Getenv("SHOPDASH_ALERT_EMAIL")),
		SyncSchedule:     strings.TrimSpace(os.Getenv("SHOPDASH_SYNC_SCHEDULE")),
		ReplaySchedule:   strings.TrimSpace(os.Getenv("SHOPDASH_REPLAY_SCHEDULE")),
		MetricsToken:     strings.TrimSpace(os.Getenv("SHOPDASH_METRICS_TOKEN")),
	}
	for _, s := range strings.Split(os.Getenv("STRIPE_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.StripeWebhookSecrets = append(cfg.StripeWebhookSecrets, s)
		}
	}
	if cfg.AppURL == "" {
		cfg.AppURL = DefaultAppURL
	}
	switch raw := strings.TrimSpace(os.Getenv("SHOPDASH_CACHE_TTL")); raw {
	case "":
	case "0", "off":
		cfg.CacheTTL = -1
	default:
		ttl, err := time.ParseDuration(raw)
		if err != nil || ttl <= 0 {
			return cfg, fmt.Errorf("SHOPDASH_CACHE_TTL=%q: want a duration such as 30s, or off", raw)
		}
		cfg.CacheTTL = ttl
	}
	if raw := strings.TrimSpace(os.Getenv("SHOPDASH_WEBHOOKS_RETRIES")); raw != "" {
		retries, err := webhooks.ParseRetries(raw)
		if err != nil {
			return cfg, fmt.Errorf("SHOPDASH_WEBHOOKS_RETRIES=%q: %w; want comma-separated durations such as 0s,5s,5m,30m", raw, err)
		}
		cfg.WebhookRetries = retries
	}
	switch raw := strings.TrimSpace(os.Getenv("SHOPDASH_WEBHOOKS_ALLOW_PRIVATE")); raw {
	case "", "0":
	case "1":
		cfg.WebhooksAllowPrivate = true
	default:
		return cfg, fmt.Errorf("SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=%q: want 1 or 0", raw)
	}
	for name, dst := range map[string]*time.Duration{"SHOPDASH_SESSION_MAX": &cfg.SessionMax, "SHOPDASH_STAFF_SESSION_MAX": &cfg.StaffSessionMax} {
		if raw := strings.TrimSpace(os.Getenv(name)); raw != "" {
			d, err := time.ParseDuration(raw)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("%s=%q: want a duration such as 720h or 12h", name, raw)
			}
			*dst = d
		}
	}
	switch raw := strings.TrimSpace(os.Getenv("SHOPDASH_STAFF_MFA")); raw {
	case "", "on":
	case "off":
		cfg.StaffMFAOff = true
	default:
		return cfg, fmt.Errorf("SHOPDASH_STAFF_MFA=%q: want on or off", raw)
	}
	switch raw := strings.TrimSpace(os.Getenv("SHOPDASH_METRICS")); raw {
	case "", "on":
	case "off":
		cfg.MetricsOff = true
	default:
		return cfg, fmt.Errorf("SHOPDASH_METRICS=%q: want on or off", raw)
	}
	return cfg, nil
}

// ReadConnections is the size of the pool of reading connections to
// data.db, always open. SQLite reads in parallel only as far as there are
// cores; PocketBase's default (up to 120 open, 15 kept idle) had a busy shop
// open and close connections, each with a cold cache, and queue dozens of
// queries on two cores: fewer connections answered more requests, with a
// p99 half as long.
func ReadConnections() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// recordsAPIReadSlots is how many records-API reads of non-superusers run
// at once: half the cores (one on two), so that costly reads at their
// deadline leave the other half of the CPU, and of the reading
// connections, to the shop's own routes (checkout, webhooks, dashboard,
// sign-in). Half the connections (two of four) still let such reads take
// the whole CPU of a two-core machine.
func recordsAPIReadSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// cacheTTL is how long the caches keep what they hold; 0 is off.
func (cfg Config) cacheTTL() time.Duration {
	switch {
	case cfg.CacheTTL < 0:
		return 0
	case cfg.CacheTTL == 0:
		return DefaultCacheTTL
	}
	return cfg.CacheTTL
}

// payments is the Stripe part of the configuration.
func (cfg Config) payments() payments.Config {
	return payments.Config{
		StripeSecretKey:      cfg.StripeSecretKey,
		StripeWebhookSecrets: cfg.StripeWebhookSecrets,
		StripeAPIBase:        cfg.StripeAPIBase,
		StripeMaxRetries:     cfg.StripeMaxRetries,
		AppURL:               cfg.AppURL,
		SyncBatch:            cfg.SyncBatch,
		PushRetryDelays:      cfg.PushRetryDelays,
	}
}

// emails is the mail part of the configuration.
func (cfg Config) emails() emails.Config {
	return emails.Config{SMTPURL: cfg.SMTPURL, SMTPTimeout: cfg.SMTPTimeout}
}

// webhooks is the outgoing webhooks' part of the configuration.
func (cfg Config) webhooks() webhooks.Config {
	return webhooks.Config{Retries: cfg.WebhookRetries, AllowPrivate: cfg.WebhooksAllowPrivate, Timeout: cfg.WebhookTimeout}
}

// sessions is the session policy's part of the configuration.
func (cfg Config) sessions() sessions.Config {
	return sessions.Config{CustomerMax: cfg.SessionMax, StaffMax: cfg.StaffSessionMax, StaffMFAOff: cfg.StaffMFAOff, Now: cfg.Now}
}

// metrics is the /metrics part of the configuration.
func (cfg Config) metrics() metrics.Config {
	return metrics.Config{Token: cfg.MetricsToken, Off: cfg.MetricsOff}
}

// syncSchedule is the cron expression of the Stripe sync; "" when off.
func (cfg Config) syncSchedule() string {
	switch cfg.SyncSchedule {
	case "":
		return DefaultSyncSchedule
	case "off":
		return ""
	}
	return cfg.SyncSchedule
}

// replaySchedule is the cron expression of the Stripe event replay; ""
// when off.
func (cfg Config) replaySchedule() string {
	switch cfg.ReplaySchedule {
	case "":
		return DefaultReplaySchedule
	case "off":
		return ""
	}
	return cfg.ReplaySchedule
}
