package sessions_test

import (
	"net/http"
	"testing"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// TestARoleChangeEndsTheAccountsSessions: a customer a superuser makes
// support loses the session they signed in to as a customer (it had no
// second factor and the customers' lifetime), through the records API and
// through a save in the app alike; a save that leaves the role alone
// keeps the session.
func TestARoleChangeEndsTheAccountsSessions(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{StaffMFAOff: true})
	shop := shoptest.Shop()
	customer := s.signIn(shop.Customer.Email)
	if status, _ := s.call(http.MethodGet, "/api/v1/me", customer, nil); status != http.StatusOK {
		t.Fatalf("before: %d", status)
	}

	status, out := s.call(http.MethodPatch, "/api/collections/users/records/"+shop.Customer.ID, shop.Superuser.Token,
		map[string]any{c.UserLanguage: "de"})
	if status != http.StatusOK {
		t.Fatalf("language change: %d %v", status, out)
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", customer, nil); status != http.StatusOK {
		t.Errorf("a save that kept the role ended the session: %d", status)
	}

	status, out = s.call(http.MethodPatch, "/api/collections/users/records/"+shop.Customer.ID, shop.Superuser.Token,
		map[string]any{c.UserRole: string(c.RoleSupport)})
	if status != http.StatusOK {
		t.Fatalf("role change: %d %v", status, out)
	}
	if status, me := s.call(http.MethodGet, "/api/v1/me", customer, nil); status != http.StatusUnauthorized {
		t.Errorf("the customer's session works as support after the promotion: %d %v", status, me)
	}

	staff := s.signIn(shop.Support.Email)
	record, err := s.app.FindRecordById(c.Users, shop.Support.ID)
	if err != nil {
		t.Fatal(err)
	}
	record.Set(c.UserRole, string(c.RoleCustomer))
	if err := s.app.Save(record); err != nil {
		t.Fatal(err)
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", staff, nil); status != http.StatusUnauthorized {
		t.Errorf("a staff session outlived its demotion (a save in the app): %d", status)
	}
}
