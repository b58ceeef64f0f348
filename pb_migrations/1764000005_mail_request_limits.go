package pb_migrations

import (
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

func init() {
	m.Register(limitMailRequests, unlimitMailRequests)
}

// mailRequestLimits bound the requests that make PocketBase mail an
// address the requester names: an email change asked a hundred times in
// ten seconds sent a hundred mails to a stranger. Per client IP, as the
// password-reset and verification requests already are.
var mailRequestLimits = []core.RateLimitRule{
	{Label: "*:requestEmailChange", Duration: 60, MaxRequests: 3},
	{Label: "*:requestOTP", Duration: 60, MaxRequests: 3},
}

func limitMailRequests(app core.App) error {
	s := app.Settings()
	for _, rule := range mailRequestLimits {
		if !slices.ContainsFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == rule.Label }) {
			s.RateLimits.Rules = append(s.RateLimits.Rules, rule)
		}
	}
	return app.Save(s)
}

func unlimitMailRequests(app core.App) error {
	s := app.Settings()
	s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool {
		return slices.ContainsFunc(mailRequestLimits, func(l core.RateLimitRule) bool { return l.Label == r.Label })
	})
	return app.Save(s)
}
