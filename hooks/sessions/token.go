package sessions

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/hooks/cache"
)

// claimAuthTime is the users token's claim of when the password (and the
// second factor) were entered, in Unix seconds: OpenID Connect's name for
// it. A refresh copies it into the new token; only a sign-in sets it.
const claimAuthTime = "auth_time"

// authTimeKey is where checkSession leaves the session's sign-in time for
// the handlers of the request (SignedInAt).
const authTimeKey = "shopdashAuthTime"

// errSessionEnded is a session past its absolute lifetime.
var errSessionEnded = errors.New("the session is past its absolute lifetime")

// issueToken gives every users sign-in and refresh a token that carries
// the time of the sign-in and ends no later than the session may last.
// PocketBase's own token (refreshable, `exp` only) is replaced before
// PocketBase's MFA step, which then answers its mfaId instead of any token
// until the second factor is given. Impersonation tokens (not
// refreshable) are left as PocketBase made them.
func (p *Policy) issueToken(e *core.RecordAuthRequestEvent) error {
	if claims, err := security.ParseUnverifiedJWT(e.Token); err == nil && isRefreshable(claims) {
		at := p.now()
		if e.AuthMethod == "" { // a refresh: the session keeps its sign-in time
			prior, ok := e.Get(authTimeKey).(time.Time)
			if !ok {
				return sessionExpired(e.RequestEvent)
			}
			at = prior
		}
		token, err := p.newToken(e.Record, at)
		if errors.Is(err, errSessionEnded) {
			return sessionExpired(e.RequestEvent)
		}
		if err != nil {
			return e.InternalServerError("Failed to create auth token.", err)
		}
		e.Token = token
	}
	if err := e.Next(); err != nil {
		return err
	}
	if e.AuthMethod != "" && c.NewUser(e.Record).Role().IsStaff() {
		// The answer is written: a failed entry is logged, not answered.
		if err := auditSignIn(e); err != nil {
			e.App.Logger().Error("audit a staff sign-in", "user", e.Record.Id, "error", err)
		}
	}
	return nil
}

// newToken is PocketBase's refreshable auth token of the user (the same
// claims, signed with the same key) with the sign-in time added, ending at
// the collection's token duration or the end of the session, whichever
// comes first.
func (p *Policy) newToken(user *core.Record, signedInAt time.Time) (string, error) {
	col := user.Collection()
	life := min(col.AuthToken.DurationTime(), signedInAt.Add(p.maxFor(user)).Sub(p.now()))
	if life <= 0 {
		return "", errSessionEnded
	}
	return security.NewJWT(jwt.MapClaims{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           user.Id,
		core.TokenClaimCollectionId: col.Id,
		core.TokenClaimRefreshable:  true,
		claimAuthTime:               signedInAt.Unix(),
	}, user.TokenKey()+col.AuthToken.Secret, life)
}

// checkSession ends a request whose session is past its absolute
// lifetime: 401 with the code session_expired, so that a page can say why
// it asks for the password again, whether the token still passes
// PocketBase's check or has expired with its session (endedByExpiredToken).
// The sign-in routes treat the request as a guest's instead (the JS SDK
// sends its stale token with the new sign-in). A token that cannot be
// refreshed (impersonation) ends at its own expiry. A signed-in request
// costs one parse of the token, which was verified before; no query.
func (p *Policy) checkSession(e *core.RequestEvent) error {
	if e.Auth == nil {
		if !isSignInRoute(e.Request) && p.endedByExpiredToken(e) {
			return sessionExpired(e)
		}
		return e.Next()
	}
	if e.Auth.Collection().Name != c.Users {
		return e.Next()
	}
	at, ok := tokenSignedInAt(cache.RequestToken(e), e.Auth.Collection())
	if !ok {
		return e.Next()
	}
	if !p.now().Before(at.Add(p.maxFor(e.Auth))) {
		e.Auth = nil
		if isSignInRoute(e.Request) {
			return e.Next()
		}
		return sessionExpired(e)
	}
	e.Set(authTimeKey, at)
	return e.Next()
}

// tokenSignedInAt is the sign-in time of a refreshable users token. A
// token made before the shop kept the claim counts from when it was made
// (its expiry less the collection's token duration), so refreshing it
// cannot extend its session either. The token was verified before (by
// the auth cache or PocketBase): this only decodes the claims it needs,
// a fifth of the time of a whole JWT parse.
func tokenSignedInAt(token string, col *core.Collection) (time.Time, bool) {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Refreshable bool     `json:"refreshable"`
		AuthTime    *float64 `json:"auth_time"`
		Exp         float64  `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || !claims.Refreshable {
		return time.Time{}, false
	}
	if claims.AuthTime != nil {
		return time.Unix(int64(*claims.AuthTime), 0), true
	}
	if claims.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(claims.Exp), 0).Add(-col.AuthToken.DurationTime()), true
}

func isRefreshable(claims jwt.MapClaims) bool {
	refreshable, _ := claims[core.TokenClaimRefreshable].(bool)
	return refreshable
}

// SignedInAt is when the password of the request's session was entered,
// or the zero time when the request is not a users session the policy
// knows (a guest, a superuser, an impersonation).
func SignedInAt(e *core.RequestEvent) time.Time {
	at, _ := e.Get(authTimeKey).(time.Time)
	return at
}

// isSignInRoute reports whether the request is one of the users
// collection's routes that a guest calls to sign in or recover access.
func isSignInRoute(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/collections/"+c.Users+"/")
	if !ok {
		return false
	}
	for _, prefix := range []string{"auth-with-", "auth-methods", "request-otp", "request-password-reset", "confirm-", "request-verification"} {
		if strings.HasPrefix(rest, prefix) {
			return true
		}
	}
	return false
}

// sessionExpired is the answer to a request of an ended session.
func sessionExpired(e *core.RequestEvent) error {
	return e.UnauthorizedError("Your session has ended: sign in again.", validation.Errors{
		"session": validation.NewError("session_expired", "Sessions end a fixed time after the password was entered, however often they are refreshed."),
	})
}
