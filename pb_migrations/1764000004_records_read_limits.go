package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

func init() {
	m.Register(limitSignedInRecordsReads, unlimitSignedInRecordsReads)
}

// signedInReadLimits are rate limits for signed-in reads of the records
// API, per client IP: a stolen or scripted token could otherwise repeat
// costly lists without end (guests already have the "/api/" limit). An
// office behind one address shares them, so they are generous.
var signedInReadLimits = []core.RateLimitRule{
	{Label: "*:list", Duration: 10, MaxRequests: 200, Audience: core.RateLimitRuleAudienceAuth},
	{Label: "*:view", Duration: 10, MaxRequests: 400, Audience: core.RateLimitRuleAudienceAuth},
}

func limitSignedInRecordsReads(app core.App) error {
	s := app.Settings()
	for _, rule := range signedInReadLimits {
		if !slices.ContainsFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == rule.Label }) {
			s.RateLimits.Rules = append(s.RateLimits.Rules, rule)
		}
	}
	return app.Save(s)
}

func unlimitSignedInRecordsReads(app core.App) error {
	s := app.Settings()
	s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool {
		return slices.ContainsFunc(signedInReadLimits, func(l core.RateLimitRule) bool { return l.Label == r.Label })
	})
	return app.Save(s)
}
