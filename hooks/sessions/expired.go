package sessions

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/cache"
)

// endedByExpiredToken reports whether a request that no path signed in
// (e.Auth is nil) carries the token of a session that has ended. A session
// ends when its token's expiry does (issueToken caps one at the other), so
// PocketBase refuses such a token before the policy sees a record: this
// finds the account and checks the token's signature itself, the expiry
// aside, before it says anything. A forged token, or one signed with a key
// the account no longer has (a revoke, a new password), is not the
// account's and stays a plain 401. Only a token that has expired, of the
// users collection, whose claimed sign-in is older than the shorter
// lifetime, costs the query.
func (p *Policy) endedByExpiredToken(e *core.RequestEvent) bool {
	token := cache.RequestToken(e)
	if token == "" {
		return false
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return false
	}
	kind, _ := claims[core.TokenClaimType].(string)
	id, _ := claims[core.TokenClaimId].(string)
	collectionID, _ := claims[core.TokenClaimCollectionId].(string)
	expiry, err := claims.GetExpirationTime()
	if kind != core.TokenTypeAuth || id == "" || err != nil || expiry == nil || time.Now().Before(expiry.Time) {
		return false
	}
	col, err := e.App.FindCachedCollectionByNameOrId(c.Users)
	if err != nil || col.Id != collectionID {
		return false
	}
	at, ok := tokenSignedInAt(token, col)
	if !ok || p.now().Before(at.Add(min(p.customerMax, p.staffMax))) {
		return false
	}
	user, err := e.App.FindRecordById(col, id)
	if err != nil {
		return false
	}
	verify := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := verify.Parse(token, func(*jwt.Token) (any, error) {
		return []byte(user.TokenKey() + col.AuthToken.Secret), nil
	}); err != nil {
		return false
	}
	return !p.now().Before(at.Add(p.maxFor(user)))
}
