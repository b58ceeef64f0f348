//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shopdash/internal/apicheck"
)

// The outgoing webhooks from outside, against the binary: a receiver in
// Node verifies every delivery with the official standardwebhooks package
// (e2e/js/webhook-receiver.mjs) and is told to fail, answer 410, hang or
// go down, while the shop, on a short retry schedule, sells and is
// SIGKILLed.

// webhookRetries is short, and long enough in all (about 30 s) for the
// receiver to come back before a delivery is dead.
const webhookRetries = "0s,200ms,400ms,1s,2s,4s,8s,8s,8s"

// received is one request the receiver got.
type received struct {
	Endpoint, ID, Type, Error, Body string
	Verified                        bool
	Status                          int
	At                              int64 // Unix milliseconds
}

// webhookReceiver runs e2e/js/webhook-receiver.mjs on a fixed port, so
// that it can be stopped and started again at the same URL.
type webhookReceiver struct {
	t         *testing.T
	addr, dir string
	mu        sync.Mutex
	cmd       *exec.Cmd
	out       bytes.Buffer
}

func startReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed")
	}
	r := &webhookReceiver{t: t, addr: freeAddr(t), dir: t.TempDir()}
	r.up()
	t.Cleanup(func() {
		r.down()
		if t.Failed() {
			t.Logf("receiver output:\n%s", r.out.String())
		}
	})
	return r
}

// up starts the receiver and waits until it answers.
func (r *webhookReceiver) up() {
	r.t.Helper()
	script, err := filepath.Abs(filepath.Join("js", "webhook-receiver.mjs"))
	if err != nil {
		r.t.Fatal(err)
	}
	_, port, _ := strings.Cut(r.addr, ":")
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "RECEIVER_PORT="+port,
		"RECEIVER_LOG="+filepath.Join(r.dir, "log.jsonl"), "RECEIVER_STATE="+filepath.Join(r.dir, "state.json"))
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	waitFor(r.t, "http://"+r.addr+"/_health")
}

// down kills the receiver: the shop's attempts are refused.
func (r *webhookReceiver) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// url is where an endpoint of the receiver is.
func (r *webhookReceiver) url(name string) string { return "http://" + r.addr + "/ep/" + name }

// tell sets how an endpoint answers (ok, fail with fail, gone, hang) and
// the secret it verifies with.
func (r *webhookReceiver) tell(name, secret, mode string, fail int) {
	r.t.Helper()
	body, _ := json.Marshal(map[string]any{"secret": secret, "mode": mode, "fail": fail})
	res, err := http.Post("http://"+r.addr+"/_control/"+name, "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != http.StatusNoContent {
		r.t.Fatalf("tell the receiver: %v %v", res, err)
	}
	res.Body.Close()
}

// got returns what an endpoint received, in order.
func (r *webhookReceiver) got(name string) []received {
	r.t.Helper()
	f, err := os.Open(filepath.Join(r.dir, "log.jsonl"))
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	var out []received
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<20), 4<<20)
	for lines.Scan() {
		var h received
		if err := json.Unmarshal(lines.Bytes(), &h); err != nil {
			continue // a line being written
		}
		if h.Endpoint == name {
			out = append(out, h)
		}
	}
	return out
}

// delivered returns how many times each webhook-id was answered 2xx.
func delivered(hits []received) map[string]int {
	out := map[string]int{}
	for _, h := range hits {
		if h.Status >= 200 && h.Status < 300 {
			out[h.ID]++
		}
	}
	return out
}

// awaitDelivered waits until the endpoint has n distinct ids delivered.
func (r *webhookReceiver) awaitDelivered(name string, n int, within time.Duration) time.Duration {
	r.t.Helper()
	started := time.Now()
	for time.Since(started) < within {
		if len(delivered(r.got(name))) >= n {
			return time.Since(started)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("%s: %d of %d deliveries after %s", name, len(delivered(r.got(name))), n, within)
	return 0
}

// addEndpoint creates an endpoint through the records API, as a
// superuser, and tells the receiver its secret and mode.
func (s *shop) addEndpoint(admin string, rc *webhookReceiver, name, mode string, fail int, events ...string) string {
	s.t.Helper()
	status, out := s.call(http.MethodPost, "/api/collections/webhook_endpoints/records", admin,
		map[string]any{"url": rc.url(name), "events": events, "description": "e2e " + name})
	if status != http.StatusOK {
		s.t.Fatalf("add endpoint %s: %d %v", name, status, out)
	}
	rc.tell(name, out["secret"].(string), mode, fail)
	return out["id"].(string)
}

func (s *shop) setEndpointActive(admin, id string, active bool) {
	s.t.Helper()
	if status, out := s.call(http.MethodPatch, "/api/collections/webhook_endpoints/records/"+id, admin,
		map[string]any{"active": active}); status != http.StatusOK {
		s.t.Fatalf("endpoint %s active=%t: %d %v", id, active, status, out)
	}
}

// outbox returns an endpoint's deliveries as stored: event id and status.
func (s *shop) outbox(admin, endpoint string) map[string][]string {
	s.t.Helper()
	path := fmt.Sprintf("/api/collections/webhook_deliveries/records?perPage=1000&fields=event_id,status,attempts&filter=(endpoint='%s')", endpoint)
	status, out := s.call(http.MethodGet, path, admin, nil)
	if status != http.StatusOK {
		s.t.Fatalf("outbox: %d %v", status, out)
	}
	rows := map[string][]string{}
	for _, item := range out["items"].([]any) {
		row := item.(map[string]any)
		rows[row["event_id"].(string)] = append(rows[row["event_id"].(string)], row["status"].(string))
	}
	return rows
}

// renameProduct saves a product: one product.updated.
func (s *shop) renameProduct(admin, product string, n int) {
	s.t.Helper()
	if status, out := s.call(http.MethodPatch, "/api/collections/products/records/"+product, admin,
		map[string]any{"description": fmt.Sprintf("Webhook test %d", n)}); status != http.StatusOK {
		s.t.Fatalf("save product: %d %v", status, out)
	}
}

// killableShop serves a data dir in a process the test can signal: stop
// sends the signal (os.Kill: SIGKILL) and returns how long the process
// took to exit.
func killableShop(t *testing.T, data string, env []string) (*shop, func(os.Signal) time.Duration) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--dir", data, "--http", addr)
	cmd.Env = append(os.Environ(), append(env, "SHOPDASH_APP_URL=http://"+addr)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var took time.Duration
	stop := func(sig os.Signal) time.Duration {
		once.Do(func() {
			started := time.Now()
			_ = cmd.Process.Signal(sig)
			_ = cmd.Wait()
			took = time.Since(started)
		})
		return took
	}
	t.Cleanup(func() {
		stop(os.Kill)
		if t.Failed() {
			t.Logf("shopdash output:\n%s", out.String())
		}
	})
	waitFor(t, "http://"+addr+"/api/health")
	return &shop{t: t, url: "http://" + addr}, stop
}

// checkoutsFor buys one unit after another on 4 workers, each pausing
// 50 ms between checkouts, for d; it returns each checkout's time, sorted.
func (s *shop) checkoutsFor(tokens []string, product string, d time.Duration) []time.Duration {
	s.t.Helper()
	var mu sync.Mutex
	var took []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				started := time.Now()
				if _, err := s.checkout(tokens[(w+i)%len(tokens)], product); err != nil {
					s.t.Error(err)
					return
				}
				mu.Lock()
				took = append(took, time.Since(started))
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	slices.Sort(took)
	return took
}

// mostOpen is the most requests that arrived within any window: with a
// window under the shop's attempt timeout, how many a hanging receiver
// held open at once.
func mostOpen(hits []received, window time.Duration) int {
	most := 0
	for i, h := range hits {
		open := 0
		for _, o := range hits[:i+1] {
			if time.Duration(h.At-o.At)*time.Millisecond < window {
				open++
			}
		}
		most = max(most, open)
	}
	return most
}

// timedCheckouts buys n units at 4 at once and returns each checkout's
// time, sorted, and the payments.
func (s *shop) timedCheckouts(tokens []string, product string, n int) ([]time.Duration, []payment) {
	s.t.Helper()
	took := make([]time.Duration, n)
	payments := make([]payment, n)
	parallel(n, 4, func(i int) error {
		started := time.Now()
		p, err := s.checkout(tokens[i%len(tokens)], product)
		took[i], payments[i] = time.Since(started), p
		return err
	}, s.t)
	slices.Sort(took)
	return took, payments
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// payAll pays the orders by signed Stripe webhooks, 8 at once.
func (s *shop) payAll(stripe *stripeStandIn, orders []payment) {
	s.t.Helper()
	for _, p := range orders {
		stripe.pay(p)
	}
	parallel(len(orders), 8, func(i int) error {
		_, err := s.deliver(stripe.event(orders[i].Event))
		return err
	}, s.t)
}

// TestWebhookFaults runs the fault scenarios of issue 22 in sequence on
// one shop, each on endpoints of its own (the previous ones disabled),
// and checks every body the receiver got against the API document.
func TestWebhookFaults(t *testing.T) {
	data := filepath.Join(t.TempDir(), "pb_data")
	runBinary(t, nil, "seed", "--dir", data)
	runBinary(t, nil, "superuser", "upsert", superuserEmail, superuserPassword, "--dir", data)
	stripe := newStripeStandIn(t)
	env := []string{"STRIPE_SECRET_KEY=sk_test_webhooks", "STRIPE_API_BASE=" + stripe.URL,
		"STRIPE_WEBHOOK_SECRET=" + webhookSecret, "SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off",
		"SHOPDASH_WEBHOOKS_RETRIES=" + webhookRetries, "SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1"}
	s, stop := killableShop(t, data, env)
	top := t
	rc := startReceiver(t)
	admin := s.superuser()
	s.liftRateLimits(admin)
	product := s.stockedProduct(admin, 100000)
	tokens := []string{s.signIn("customer@example.com"), s.signIn("customer2@example.com")}
	var hang string // the hanging endpoint, active again for the last subtest

	t.Run("500 twice then 200", func(t *testing.T) {
		s.t = t
		ep := s.addEndpoint(admin, rc, "retry", "fail", 2, "product.updated")
		s.renameProduct(admin, product, 1)
		took := rc.awaitDelivered("retry", 1, 10*time.Second)
		hits := rc.got("retry")
		t.Logf("retry: %d attempts, answered %v, delivered %s after the save", len(hits), statuses(hits), took.Round(time.Millisecond))
		if len(hits) != 3 || hits[0].ID != hits[2].ID || hits[1].ID != hits[2].ID || !slices.Equal(statuses(hits), []int{500, 500, 204}) {
			t.Errorf("want three attempts under one webhook-id, 500 500 204; got %v", hits)
		}
		if rows := s.outbox(admin, ep); len(rows) != 1 || rows[hits[0].ID][0] != "delivered" {
			t.Errorf("outbox %v", rows)
		}
		s.setEndpointActive(admin, ep, false)
	})

	t.Run("410 disables the endpoint", func(t *testing.T) {
		s.t = t
		ep := s.addEndpoint(admin, rc, "gone", "gone", 0, "product.updated")
		s.renameProduct(admin, product, 2)
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, out := s.call(http.MethodGet, "/api/collections/webhook_endpoints/records/"+ep, admin, nil)
			if out["active"] == false {
				t.Logf("gone: disabled, reason %q", out["disabled_reason"])
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the endpoint is still active 10 s after a 410: %v", out)
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.renameProduct(admin, product, 3)
		time.Sleep(2 * time.Second)
		hits := rc.got("gone")
		if len(hits) != 1 || hits[0].Status != 410 {
			t.Errorf("want one request answered 410 and nothing after; got %v", statuses(hits))
		}
		if rows := s.outbox(admin, ep); len(rows) != 1 || rows[hits[0].ID][0] != "dead" {
			t.Errorf("outbox %v: want the one delivery dead, and none for the save after", rows)
		}
	})

	t.Run("a receiver that hangs", func(t *testing.T) {
		s.t = t
		base := s.checkoutsFor(tokens, product, 3*time.Second)
		hang = s.addEndpoint(admin, rc, "hang", "hang", 0, "order.created")
		fine := s.addEndpoint(admin, rc, "fine", "ok", 0, "order.created")
		// Past the shop's 15 s attempt timeout: the hanging attempts are
		// given up and tried again while the checkouts go on.
		during := s.checkoutsFor(tokens, product, 17*time.Second)
		took := rc.awaitDelivered("fine", len(during), 20*time.Second)
		hung := rc.got("hang")
		t.Logf("checkout p50/p99 at 4 at once: %s/%s (%d) with no endpoint, %s/%s (%d) with one hanging endpoint and one fine",
			percentile(base, 0.5).Round(time.Millisecond), percentile(base, 0.99).Round(time.Millisecond), len(base),
			percentile(during, 0.5).Round(time.Millisecond), percentile(during, 0.99).Round(time.Millisecond), len(during))
		t.Logf("fine: all %d order.created delivered, the last %s after the last checkout; hang: %d requests in 17 s, at most %d open at once",
			len(during), took.Round(time.Millisecond), len(hung), mostOpen(hung, 14500*time.Millisecond))
		if len(hung) == 0 || mostOpen(hung, 14500*time.Millisecond) > 4 {
			t.Errorf("hang got %d requests, at most %d at once: want some, never more than 4 at once (the per-endpoint bound)",
				len(hung), mostOpen(hung, 14500*time.Millisecond))
		}
		if limit := 5*percentile(base, 0.99) + time.Second; percentile(during, 0.99) > limit {
			t.Errorf("checkout p99 %s with a hanging receiver, over %s", percentile(during, 0.99), limit)
		}
		s.setEndpointActive(admin, hang, false)
		s.setEndpointActive(admin, fine, false)
	})

	t.Run("receiver down while 200 orders are paid", func(t *testing.T) {
		s.t = t
		const n = 200
		ep := s.addEndpoint(admin, rc, "down", "ok", 0, "order.paid")
		_, orders := s.timedCheckouts(tokens, product, n)
		rc.down()
		started := time.Now()
		s.payAll(stripe, orders)
		t.Logf("down: %d orders paid by signed Stripe webhooks in %s with the receiver down", n, time.Since(started).Round(time.Millisecond))
		time.Sleep(time.Second)
		rc.up()
		took := rc.awaitDelivered("down", n, 45*time.Second)
		ids := delivered(rc.got("down"))
		t.Logf("down: all %d delivered %s after the receiver came back", len(ids), took.Round(time.Millisecond))
		for id, times := range ids {
			if times != 1 {
				t.Errorf("webhook-id %s delivered %d times", id, times)
			}
		}
		rows := s.outbox(admin, ep)
		if len(rows) != n {
			t.Errorf("outbox holds %d events, want %d", len(rows), n)
		}
		for id, st := range rows {
			if len(st) != 1 || st[0] != "delivered" || ids[id] != 1 {
				t.Errorf("event %s: outbox %v, received %d times", id, st, ids[id])
			}
		}
		s.setEndpointActive(admin, ep, false)
	})

	t.Run("SIGKILL with deliveries pending", func(t *testing.T) {
		s.t = t
		const n = 50
		ep := s.addEndpoint(admin, rc, "kill", "ok", 0, "order.paid")
		_, orders := s.timedCheckouts(tokens, product, n)
		rc.down()
		s.payAll(stripe, orders)
		time.Sleep(500 * time.Millisecond)
		waiting := map[string]int{}
		for _, st := range s.outbox(admin, ep) {
			waiting[st[0]]++
		}
		t.Logf("kill: SIGKILL with the outbox at %v", waiting)
		if waiting["delivered"] > 0 || waiting["pending"]+waiting["failed"] != n {
			t.Fatalf("want %d deliveries waiting at the kill, got %v", n, waiting)
		}
		stop(os.Kill)
		rc.up()
		s, stop = killableShop(top, data, env)
		took := rc.awaitDelivered("kill", n, 100*time.Second)
		ids := delivered(rc.got("kill"))
		t.Logf("kill: %d delivered %s after the restart", len(ids), took.Round(time.Millisecond))
		admin = s.superuser()
		rows := s.outbox(admin, ep)
		if len(rows) != n {
			t.Errorf("outbox holds %d events, want %d", len(rows), n)
		}
		for id, st := range rows {
			if len(st) != 1 || st[0] != "delivered" || ids[id] != 1 {
				t.Errorf("event %s: outbox %v, received %d times", id, st, ids[id])
			}
		}

		// A replay sends them again, each under its own id.
		status, out := s.call(http.MethodPost, "/api/v1/admin/webhooks/"+ep+"/replay", admin, map[string]any{"status": "delivered"})
		if status != http.StatusOK || out["queued"] != float64(n) {
			t.Fatalf("replay: %d %v", status, out)
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && len(rc.got("kill")) < 2*n {
			time.Sleep(100 * time.Millisecond)
		}
		for id, times := range delivered(rc.got("kill")) {
			if times != 2 || rows[id] == nil {
				t.Errorf("after the replay, %s was delivered %d times", id, times)
			}
		}
	})

	t.Run("stopping while a receiver hangs", func(t *testing.T) {
		s.t = t
		before := len(rc.got("hang"))
		s.setEndpointActive(admin, hang, true)
		deadline := time.Now().Add(10 * time.Second)
		for len(rc.got("hang")) == before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		held := len(rc.got("hang")) - before
		took := stop(syscall.SIGTERM)
		t.Logf("shutdown: SIGTERM with %d attempts held open by the hanging receiver: the shop exited in %s", held, took.Round(time.Millisecond))
		if held == 0 || took > 10*time.Second {
			t.Errorf("%d attempts held; exit took %s, want under 10 s (the worker waits 5 s)", held, took)
		}
	})

	s.t = t
	listed := runBinary(t, nil, "webhooks", "list", "--dir", data)
	if !strings.Contains(listed, "disabled: The endpoint answered 410 Gone") || strings.Contains(listed, "whsec_") {
		t.Errorf("webhooks list:\n%s", listed)
	}
	checker, err := apicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	for _, name := range []string{"retry", "gone", "hang", "fine", "down", "kill"} {
		for _, h := range rc.got(name) {
			all++
			if !h.Verified {
				t.Errorf("%s: a delivery the standardwebhooks package did not verify: %s", name, h.Error)
			}
			if err := checker.CheckWebhook([]byte(h.Body)); err != nil {
				t.Error(err)
			}
		}
	}
	t.Logf("%d requests verified by standardwebhooks and checked against the API document", all)
}

func statuses(hits []received) []int {
	out := make([]int, len(hits))
	for i, h := range hits {
		out[i] = h.Status
	}
	return out
}
