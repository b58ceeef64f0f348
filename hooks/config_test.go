package hooks_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/cron"

	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// TestConfigFromEnv reads CONTRACT §1's variables.
func TestConfigFromEnv(t *testing.T) {
	t.Setenv("STRIPE_SECRET_KEY", " sk_test_1 ")
	t.Setenv("STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new,")
	t.Setenv("STRIPE_API_BASE", "http://127.0.0.1:12111/")
	t.Setenv("SHOPDASH_APP_URL", "")
	cfg, err := hooks.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StripeSecretKey != "sk_test_1" || cfg.StripeAPIBase != "http://127.0.0.1:12111" ||
		strings.Join(cfg.StripeWebhookSecrets, " ") != "whsec_old whsec_new" || cfg.AppURL != hooks.DefaultAppURL {
		t.Fatalf("config %+v", cfg)
	}
}

// TestConfigFromEnvCacheTTL reads SHOPDASH_CACHE_TTL: unset is the
// default, 0 or off turn the caches off, a duration sets the TTL and
// anything else stops the start.
func TestConfigFromEnvCacheTTL(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"off", -1, false},
		{"0", -1, false},
		{" 45s ", 45 * time.Second, false},
		{"soon", 0, true},
		{"-5s", 0, true},
	} {
		t.Setenv("SHOPDASH_CACHE_TTL", tc.raw)
		cfg, err := hooks.ConfigFromEnv()
		if (err != nil) != tc.wantErr || (err == nil && cfg.CacheTTL != tc.want) {
			t.Errorf("SHOPDASH_CACHE_TTL=%q: %v, %v; want %v, error %t", tc.raw, cfg.CacheTTL, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "SHOPDASH_CACHE_TTL") {
			t.Errorf("error %q does not name the variable", err)
		}
	}
}

// TestJobSchedules: the replay's and the sync's schedules come from the
// environment; "off" leaves a job to be run by hand; a bad one stops the
// start naming its variable.
func TestJobSchedules(t *testing.T) {
	t.Setenv("SHOPDASH_REPLAY_SCHEDULE", " off ")
	t.Setenv("SHOPDASH_SYNC_SCHEDULE", "*/5 * * * *")
	cfg, err := hooks.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReplaySchedule != "off" || cfg.SyncSchedule != "*/5 * * * *" {
		t.Fatalf("config %+v", cfg)
	}
	for _, tc := range []struct {
		cfg      hooks.Config
		variable string
	}{
		{hooks.Config{AppURL: shoptest.AppURL, ReplaySchedule: "every hour"}, "SHOPDASH_REPLAY_SCHEDULE"},
		{hooks.Config{AppURL: shoptest.AppURL, SyncSchedule: "61 * * * *"}, "SHOPDASH_SYNC_SCHEDULE"},
	} {
		app, err := tests.NewTestApp(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, err = hooks.Register(app, fstest.MapFS{}, tc.cfg)
		app.Cleanup()
		if err == nil || !strings.Contains(err.Error(), tc.variable) {
			t.Fatalf("%+v: %v, want an error naming %s", tc.cfg, err, tc.variable)
		}
	}
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	if _, err := hooks.Register(app, fstest.MapFS{}, hooks.Config{AppURL: shoptest.AppURL, ReplaySchedule: "off", SyncSchedule: "off"}); err != nil {
		t.Fatal(err)
	}
	for _, job := range app.Cron().Jobs() {
		if strings.Contains(job.Id(), "stripe_replay") || strings.Contains(job.Id(), "stripe_sync") {
			t.Fatalf("job %s is scheduled although off", job.Id())
		}
	}
	if !slices.ContainsFunc(app.Cron().Jobs(), func(j *cron.Job) bool { return j.Id() == "shopdash_stale_orders" }) {
		t.Fatal("the stale-orders job is not scheduled")
	}
}

// TestConfigFromEnvMetrics reads SHOPDASH_METRICS_TOKEN and
// SHOPDASH_METRICS: metrics are on unless off, and anything else stops the
// start.
func TestConfigFromEnvMetrics(t *testing.T) {
	for _, tc := range []struct {
		token, metrics string
		wantToken      string
		wantOff        bool
		wantErr        bool
	}{
		{"", "", "", false, false},
		{" s3cret-token ", "on", "s3cret-token", false, false},
		{"s3cret-token", "off", "s3cret-token", true, false},
		{"", "no", "", false, true},
	} {
		t.Setenv("SHOPDASH_METRICS_TOKEN", tc.token)
		t.Setenv("SHOPDASH_METRICS", tc.metrics)
		cfg, err := hooks.ConfigFromEnv()
		if (err != nil) != tc.wantErr {
			t.Fatalf("SHOPDASH_METRICS=%q: error %v, want one: %t", tc.metrics, err, tc.wantErr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "SHOPDASH_METRICS") {
				t.Errorf("error %q does not name the variable", err)
			}
			continue
		}
		if cfg.MetricsToken != tc.wantToken || cfg.MetricsOff != tc.wantOff {
			t.Errorf("SHOPDASH_METRICS_TOKEN=%q SHOPDASH_METRICS=%q: token %q off %t, want %q %t",
				tc.token, tc.metrics, cfg.MetricsToken, cfg.MetricsOff, tc.wantToken, tc.wantOff)
		}
	}
}

// TestConfigFromEnvWebhooks reads SHOPDASH_WEBHOOKS_RETRIES and
// SHOPDASH_WEBHOOKS_ALLOW_PRIVATE; a bad value stops the start with an
// error that names the variable.
func TestConfigFromEnvWebhooks(t *testing.T) {
	for _, tc := range []struct {
		retries, private string
		wantAttempts     int
		wantPrivate      bool
		wantErr          string
	}{
		{"", "", 0, false, ""},
		{"0s,1s,2s", "1", 3, true, ""},
		{"0s, 5m", "0", 2, false, ""},
		{"0s,soon", "", 0, false, "SHOPDASH_WEBHOOKS_RETRIES"},
		{"-5s", "", 0, false, "SHOPDASH_WEBHOOKS_RETRIES"},
		{"", "yes", 0, false, "SHOPDASH_WEBHOOKS_ALLOW_PRIVATE"},
	} {
		t.Setenv("SHOPDASH_WEBHOOKS_RETRIES", tc.retries)
		t.Setenv("SHOPDASH_WEBHOOKS_ALLOW_PRIVATE", tc.private)
		cfg, err := hooks.ConfigFromEnv()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q %q: error %v, want one naming %s", tc.retries, tc.private, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(cfg.WebhookRetries) != tc.wantAttempts || cfg.WebhooksAllowPrivate != tc.wantPrivate {
			t.Errorf("%q %q: %v attempts %d private %t, want %d %t", tc.retries, tc.private, err,
				len(cfg.WebhookRetries), cfg.WebhooksAllowPrivate, tc.wantAttempts, tc.wantPrivate)
		}
	}
}

func TestSessionSettingsFromTheEnvironment(t *testing.T) {
	for _, bad := range [][2]string{
		{"SHOPDASH_SESSION_MAX", "30 days"},
		{"SHOPDASH_STAFF_SESSION_MAX", "-1h"},
		{"SHOPDASH_STAFF_MFA", "maybe"},
	} {
		t.Run(bad[0], func(t *testing.T) {
			t.Setenv(bad[0], bad[1])
			if _, err := hooks.ConfigFromEnv(); err == nil {
				t.Errorf("%s=%q: no error", bad[0], bad[1])
			}
		})
	}
	t.Setenv("SHOPDASH_SESSION_MAX", "240h")
	t.Setenv("SHOPDASH_STAFF_SESSION_MAX", "8h")
	t.Setenv("SHOPDASH_STAFF_MFA", "off")
	cfg, err := hooks.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionMax != 240*time.Hour || cfg.StaffSessionMax != 8*time.Hour || !cfg.StaffMFAOff {
		t.Errorf("got %v %v %v", cfg.SessionMax, cfg.StaffSessionMax, cfg.StaffMFAOff)
	}
}
