package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

func init() {
	m.Register(applyShopSettings, nil)
}

// applyShopSettings names the shop, turns rate limits on and keeps client
// IPs out of the request log. Operators change all of it in /_/ afterwards.
func applyShopSettings(app core.App) error {
	s := app.Settings()
	s.Meta.AppName = "shopdash"
	s.Meta.SenderName = "shopdash"
	s.Meta.SenderAddress = "no-reply@example.com"

	// A request log row holds the full URL; IPs are personal data and the
	// rate limiter does not need them stored.
	s.Logs.LogIP = false
	s.Logs.MaxDays = 7

	s.RateLimits.Enabled = true
	s.RateLimits.Rules = []core.RateLimitRule{
		// Password guessing and sign-up spam, per client IP.
		{Label: "*:auth", Duration: 60, MaxRequests: 10},
		{Label: "users:create", Duration: 60, MaxRequests: 10},
		{Label: "*:requestPasswordReset", Duration: 60, MaxRequests: 3},
		{Label: "*:requestVerification", Duration: 60, MaxRequests: 3},
		// Account deletion asks for the password: the same guard as sign-in.
		{Label: "DELETE /api/v1/me", Duration: 60, MaxRequests: 5},
		{Label: "POST /api/v1/checkout", Duration: 60, MaxRequests: 30, Audience: core.RateLimitRuleAudienceAuth},
		// Stripe delivers in bursts from its own IPs and every event is
		// signed: an exact rule keeps it out of the guests' limit below.
		{Label: "POST /api/v1/stripe/webhook", Duration: 1, MaxRequests: 5000},
		// The costly signed-in routes, per client IP: what a stolen token
		// could repeat to read or change much at once.
		{Label: "GET /api/v1/me/export", Duration: 60, MaxRequests: 10, Audience: core.RateLimitRuleAudienceAuth},
		{Label: "/api/v1/orders/", Duration: 60, MaxRequests: 30, Audience: core.RateLimitRuleAudienceAuth},
		{Label: "/api/v1/downloads/", Duration: 60, MaxRequests: 120, Audience: core.RateLimitRuleAudienceAuth},
		// Anonymous browsing. Signed-in reads (dashboard, purchases, the
		// records API) have no general limit: one office or proxy is one IP.
		{Label: "/api/", Duration: 10, MaxRequests: 300, Audience: core.RateLimitRuleAudienceGuest},
	}
	return app.Save(s)
}
