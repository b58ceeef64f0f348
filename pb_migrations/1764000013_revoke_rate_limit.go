package pb_migrations

import (
	"encoding/json"
	"slices"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

func init() {
	m.Register(limitRevokes, unlimitRevokes)
}

// revokeLimit bounds POST /api/v1/me/sessions/revoke, which checks a
// password: per client IP, as account deletion is, for signed-in requests
// (a revoked token is a guest's and meets the guests' limit).
var revokeLimit = core.RateLimitRule{Label: "POST /api/v1/me/sessions/revoke", Duration: 60, MaxRequests: 5, Audience: core.RateLimitRuleAudienceAuth}

func limitRevokes(app core.App) error { return setRevokeLimit(app, true) }

func unlimitRevokes(app core.App) error { return setRevokeLimit(app, false) }

// setRevokeLimit adds or removes revokeLimit. The rules are read as stored:
// within one run of migrations the app's copy of the settings lags behind
// a migration that saved a clone of them (1764000006), and saving that
// copy would drop its rules.
func setRevokeLimit(app core.App, on bool) error {
	s, err := app.Settings().Clone()
	if err != nil {
		return err
	}
	param := &core.Param{}
	if err := app.ModelQuery(param).Model("settings", param); err == nil {
		var stored struct {
			RateLimits core.RateLimitsConfig `json:"rateLimits"`
		}
		if json.Unmarshal(param.Value, &stored) == nil { // else encrypted: the app's copy
			s.RateLimits.Rules = stored.RateLimits.Rules
		}
	}
	s.RateLimits.Rules = slices.DeleteFunc(s.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == revokeLimit.Label })
	if on {
		s.RateLimits.Rules = append(s.RateLimits.Rules, revokeLimit)
	}
	return app.Save(s)
}
