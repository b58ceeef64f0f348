package sessions_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/internal/shoptest"
	"shopdash/seed"
)

func TestMain(m *testing.M) { shoptest.Main(m) }

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// served is a shop on its own clock, and its HTTP handler.
type served struct {
	t       *testing.T
	app     *tests.TestApp
	handler http.Handler
	clock   *clock
}

func serve(t *testing.T, cfg hooks.Config) *served {
	t.Helper()
	clk := newClock()
	cfg.AppURL = shoptest.AppURL
	cfg.Now = clk.Now
	app := shoptest.NewAppWith(t, cfg)
	t.Cleanup(app.Cleanup)
	return &served{t: t, app: app, handler: shoptest.ServeShop(t, app), clock: clk}
}

// call sends a JSON request and decodes the JSON answer.
func (s *served) call(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	var reader *strings.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		reader = strings.NewReader(string(raw))
	} else {
		reader = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, reader)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res := httptest.NewRecorder()
	s.handler.ServeHTTP(res, req)
	var out map[string]any
	if res.Body.Len() > 0 {
		_ = json.Unmarshal(res.Body.Bytes(), &out)
	}
	return res.Code, out
}

// signIn signs a demo account in with its password and returns the token.
func (s *served) signIn(email string) string {
	s.t.Helper()
	status, out := s.call(http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]string{"identity": email, "password": seed.DemoPassword})
	token, _ := out["token"].(string)
	if status != http.StatusOK || token == "" {
		s.t.Fatalf("sign in %s: %d %v", email, status, out)
	}
	return token
}

// refresh asks for a new token; "" when refused.
func (s *served) refresh(token string) (string, int, map[string]any) {
	s.t.Helper()
	status, out := s.call(http.MethodPost, "/api/collections/users/auth-refresh", token, nil)
	next, _ := out["token"].(string)
	return next, status, out
}

// moveArrival saves a new estimated arrival on an order: an event for its
// customer and for support.
func (s *served) moveArrival(order string, days int) {
	s.t.Helper()
	record, err := s.app.FindRecordById(c.Orders, order)
	if err != nil {
		s.t.Fatal(err)
	}
	record.Set(c.OrderEstimatedArrival, time.Now().AddDate(0, 0, days))
	if err := s.app.Save(record); err != nil {
		s.t.Fatal(err)
	}
}

// fieldCode is the code of a field error of an answer.
func fieldCode(out map[string]any, field string) string {
	data, _ := out["data"].(map[string]any)
	f, _ := data[field].(map[string]any)
	code, _ := f["code"].(string)
	return code
}

// dbxActionIs selects the audit entries of an action on a user.
func dbxActionIs(action, userID string) dbx.Expression {
	return dbx.HashExp{"action": action, "target": c.AuditRef(c.Users, userID)}
}
