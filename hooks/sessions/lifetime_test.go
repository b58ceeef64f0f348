package sessions_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"shopdash/hooks"
	"shopdash/internal/shoptest"
)

// TestRefreshedEveryDayIsRefusedOnDay31: a customer's token refreshed every
// day keeps its sign-in time; on day 31 (30 days after the password) the
// refresh and every request of the last token answer 401 session_expired.
func TestRefreshedEveryDayIsRefusedOnDay31(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{})
	token := s.signIn(shoptest.Shop().Customer.Email)
	for day := 1; day < 30; day++ {
		s.clock.advance(24 * time.Hour)
		next, status, out := s.refresh(token)
		if status != http.StatusOK || next == "" {
			t.Fatalf("day %d: refresh %d %v", day+1, status, out)
		}
		token = next
	}
	if status, _ := s.call(http.MethodGet, "/api/v1/me", token, nil); status != http.StatusOK {
		t.Fatalf("day 30: /api/v1/me %d", status)
	}
	s.clock.advance(24 * time.Hour) // day 31: 720 hours after the password
	if _, status, out := s.refresh(token); status != http.StatusUnauthorized || fieldCode(out, "session") != "session_expired" {
		t.Fatalf("day 31: refresh %d %v, want 401 session_expired", status, out)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/dashboard", "/api/collections/orders/records"} {
		if status, out := s.call(http.MethodGet, path, token, nil); status != http.StatusUnauthorized || fieldCode(out, "session") != "session_expired" {
			t.Errorf("day 31: %s %d %v, want 401 session_expired", path, status, out)
		}
	}
	// Nor may it subscribe to realtime events.
	subscribe := map[string]any{"clientId": "anyclient", "subscriptions": []string{"orders/*"}}
	if status, out := s.call(http.MethodPost, "/api/realtime", token, subscribe); status != http.StatusUnauthorized || fieldCode(out, "session") != "session_expired" {
		t.Errorf("day 31: realtime subscribe %d %v, want 401 session_expired", status, out)
	}
	// The stale token does not stand in the way of a new sign-in.
	fresh := s.signIn(shoptest.Shop().Customer.Email)
	if status, _ := s.call(http.MethodGet, "/api/v1/me", fresh, nil); status != http.StatusOK {
		t.Fatalf("after a new sign-in: %d", status)
	}
}

// TestStaffSessionEndsAfter12Hours, cached or not: the auth cache's path
// and PocketBase's both meet the policy.
func TestStaffSessionEndsAfter12Hours(t *testing.T) {
	t.Parallel()
	for name, ttl := range map[string]time.Duration{"auth cache": 0, "no cache": -1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := serve(t, hooks.Config{StaffMFAOff: true, CacheTTL: ttl})
			token := s.signIn(shoptest.Shop().Support.Email)
			s.clock.advance(11*time.Hour + 59*time.Minute)
			if status, _ := s.call(http.MethodGet, "/api/v1/me", token, nil); status != http.StatusOK {
				t.Fatalf("after 11:59: %d", status)
			}
			next, status, _ := s.refresh(token)
			if status != http.StatusOK {
				t.Fatalf("refresh after 11:59: %d", status)
			}
			s.clock.advance(time.Minute)
			for _, tok := range []string{token, next} {
				if status, out := s.call(http.MethodGet, "/api/v1/me", tok, nil); status != http.StatusUnauthorized || fieldCode(out, "session") != "session_expired" {
					t.Fatalf("after 12 hours: %d %v", status, out)
				}
			}
		})
	}
}

// TestSessionLimitsComeFromTheConfiguration: SHOPDASH_SESSION_MAX=48h
// (read by hooks.ConfigFromEnv) ends a customer's session after 48 hours.
func TestSessionLimitsComeFromTheConfiguration(t *testing.T) {
	t.Setenv("SHOPDASH_SESSION_MAX", "48h")
	t.Setenv("SHOPDASH_STAFF_SESSION_MAX", "1h")
	t.Setenv("SHOPDASH_STAFF_MFA", "off")
	cfg, err := hooks.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, cfg)
	customer := s.signIn(shoptest.Shop().Customer.Email)
	staff := s.signIn(shoptest.Shop().Store.Email) // no second factor asked
	s.clock.advance(time.Hour)
	if status, _ := s.call(http.MethodGet, "/api/v1/me", staff, nil); status != http.StatusUnauthorized {
		t.Errorf("staff after 1h: %d", status)
	}
	s.clock.advance(47*time.Hour - time.Second)
	if status, _ := s.call(http.MethodGet, "/api/v1/me", customer, nil); status != http.StatusOK {
		t.Errorf("customer before 48h: %d", status)
	}
	s.clock.advance(time.Second)
	if status, _ := s.call(http.MethodGet, "/api/v1/me", customer, nil); status != http.StatusUnauthorized {
		t.Errorf("customer at 48h: %d", status)
	}
}

// TestARealtimeStreamEndsWithItsSession: a customer's and a support
// member's streams hear the customer's order until their sessions end (an
// hour and two here), and nothing of it after, though they stay
// connected; a new sign-in subscribed on the same stream hears again.
func TestARealtimeStreamEndsWithItsSession(t *testing.T) {
	t.Parallel()
	s := serve(t, hooks.Config{SessionMax: time.Hour, StaffSessionMax: 2 * time.Hour, StaffMFAOff: true})
	shop := shoptest.Shop()
	server := httptest.NewServer(s.handler)
	t.Cleanup(server.Close)
	customer := shoptest.OpenStream(t, server.URL)
	customer.Subscribe(t, server.URL, s.signIn(shop.Customer.Email), "orders/*")
	support := shoptest.OpenStream(t, server.URL)
	support.Subscribe(t, server.URL, s.signIn(shop.Support.Email), "orders/*")
	heard := func(when string, wantCustomer, wantSupport int) {
		t.Helper()
		if got := customer.Heard(); len(got) != wantCustomer {
			t.Errorf("%s: the customer's stream heard %v, want %d events", when, got, wantCustomer)
		}
		if got := support.Heard(); len(got) != wantSupport {
			t.Errorf("%s: support's stream heard %v, want %d events", when, got, wantSupport)
		}
	}

	s.clock.advance(time.Hour - time.Second)
	s.moveArrival(shop.CustomerOrder, 3)
	heard("within both sessions", 1, 1)
	s.clock.advance(time.Second) // the customer's session ends
	s.moveArrival(shop.CustomerOrder, 4)
	heard("after the customer's session", 0, 1)
	s.clock.advance(time.Hour) // support's ends
	s.moveArrival(shop.CustomerOrder, 5)
	heard("after both sessions", 0, 0)

	customer.Subscribe(t, server.URL, s.signIn(shop.Customer.Email), "orders/*")
	s.moveArrival(shop.CustomerOrder, 6)
	heard("after a new sign-in on the customer's stream", 1, 0)
}
