package sessions

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// TestTokenSignedInAt: the claim when present; a token of before the
// claim counts from when it was made; an impersonation token has none.
func TestTokenSignedInAt(t *testing.T) {
	col := core.NewAuthCollection("users")
	signedIn := time.Now().Add(-time.Hour).Truncate(time.Second)
	withClaim, _ := security.NewJWT(jwt.MapClaims{core.TokenClaimRefreshable: true, claimAuthTime: signedIn.Unix()}, "k", time.Hour)
	legacy, _ := security.NewJWT(jwt.MapClaims{core.TokenClaimRefreshable: true}, "k", col.AuthToken.DurationTime())
	static, _ := security.NewJWT(jwt.MapClaims{core.TokenClaimRefreshable: false}, "k", time.Hour)

	if at, ok := tokenSignedInAt(withClaim, col); !ok || !at.Equal(signedIn) {
		t.Errorf("with the claim: %v %v, want %v", at, ok, signedIn)
	}
	if at, ok := tokenSignedInAt(legacy, col); !ok || time.Since(at) > 2*time.Second {
		t.Errorf("a token of before the claim: %v %v, want about now", at, ok)
	}
	if _, ok := tokenSignedInAt(static, col); ok {
		t.Error("an impersonation token has a sign-in time")
	}
}

// BenchmarkTokenSignedInAt is what the policy adds to a signed-in
// request: one parse of a token already verified.
func BenchmarkTokenSignedInAt(b *testing.B) {
	col := core.NewAuthCollection("users")
	token, _ := security.NewJWT(jwt.MapClaims{
		core.TokenClaimType: core.TokenTypeAuth, core.TokenClaimId: "abcdefghijklmno", core.TokenClaimCollectionId: "_pb_users_auth_",
		core.TokenClaimRefreshable: true, claimAuthTime: time.Now().Unix(),
	}, "a-secret-key", time.Hour)
	for b.Loop() {
		if _, ok := tokenSignedInAt(token, col); !ok {
			b.Fatal("no sign-in time")
		}
	}
}
