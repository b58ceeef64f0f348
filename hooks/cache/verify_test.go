package cache_test

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/hooks/cache"
	"shopdash/internal/prepared"
	"shopdash/internal/shoptest"
)

// TestVerifyAuthTokenAgreesWithPocketBase: the sign-in check that reads
// the record with a kept statement accepts exactly the tokens PocketBase's
// FindAuthRecordByToken(token, "auth") accepts, with the same record, and
// refuses the rest: other token types, a forged or expired signature, a
// token of a changed password or of a deleted account, a token naming a
// collection that is not an auth collection, garbage.
func TestVerifyAuthTokenAgreesWithPocketBase(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	shop := shoptest.Shop()
	var stmts prepared.Statements

	record := func(collection, id string) *core.Record {
		t.Helper()
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	customer, staff := record(c.Users, shop.Customer.ID), record(c.Users, shop.Support.ID)
	superusers, err := app.FindAllRecords(core.CollectionNameSuperusers)
	if err != nil || len(superusers) == 0 {
		t.Fatalf("superusers: %v %v", superusers, err)
	}
	token := func(r *core.Record, make func() (string, error)) string {
		t.Helper()
		s, err := make()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	customerToken := token(customer, customer.NewAuthToken)
	passwordChanged := record(c.Users, shop.Customer2.ID)
	oldPasswordToken := token(passwordChanged, passwordChanged.NewAuthToken)
	passwordChanged.SetPassword("a-new-password-1234")
	if err := app.Save(passwordChanged); err != nil {
		t.Fatal(err)
	}
	deleted := record(c.Users, shop.Store.ID)
	deletedToken := token(deleted, deleted.NewAuthToken)
	if err := app.Delete(deleted); err != nil {
		t.Fatal(err)
	}
	forged, err := security.NewJWT(map[string]any{core.TokenClaimId: customer.Id, core.TokenClaimType: core.TokenTypeAuth,
		core.TokenClaimCollectionId: customer.Collection().Id, core.TokenClaimRefreshable: true}, "not-the-secret", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secret := customer.TokenKey() + customer.Collection().AuthToken.Secret
	expired, err := security.NewJWT(map[string]any{core.TokenClaimId: customer.Id, core.TokenClaimType: core.TokenTypeAuth,
		core.TokenClaimCollectionId: customer.Collection().Id}, secret, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	notAuth, err := security.NewJWT(map[string]any{core.TokenClaimId: shop.CustomerOrder, core.TokenClaimType: core.TokenTypeAuth,
		core.TokenClaimCollectionId: orders.Id}, secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, token string
		wantID      string // "" for refused
	}{
		{"a customer's sign-in", customerToken, customer.Id},
		{"staff", token(staff, staff.NewAuthToken), staff.Id},
		{"a superuser", token(superusers[0], superusers[0].NewAuthToken), superusers[0].Id},
		{"a file token", token(customer, customer.NewFileToken), ""},
		{"a password-reset token", token(customer, customer.NewPasswordResetToken), ""},
		{"a verification token", token(customer, customer.NewVerificationToken), ""},
		{"signed with another secret", forged, ""},
		{"expired", expired, ""},
		{"made before the password changed", oldPasswordToken, ""},
		{"of a deleted account", deletedToken, ""},
		{"naming a collection that is not an auth collection", notAuth, ""},
		{"garbage", "not.a.jwt", ""},
		{"empty", "", ""},
	} {
		got, err := cache.VerifyAuthToken(app, &stmts, tc.token)
		want, wantErr := app.FindAuthRecordByToken(tc.token, core.TokenTypeAuth)
		if (err == nil) != (wantErr == nil) {
			t.Errorf("%s: verify says %v, PocketBase says %v", tc.name, err, wantErr)
			continue
		}
		if tc.wantID == "" {
			if err == nil {
				t.Errorf("%s: accepted as %s", tc.name, got.Id)
			}
			continue
		}
		if err != nil || got.Id != tc.wantID || got.Id != want.Id || got.Collection().Id != want.Collection().Id ||
			got.GetString("role") != want.GetString("role") || got.Email() != want.Email() {
			t.Errorf("%s: got %v (%v), want %s as PocketBase reads it", tc.name, got, err, tc.wantID)
		}
	}
}
