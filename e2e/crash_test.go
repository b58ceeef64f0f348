//go:build e2e

package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestAcknowledgedPaymentsSurviveAKill: the webhook applies a burst of
// payments in group commits (several events per transaction) and answers
// each only after its transaction committed. The binary is SIGKILLed
// while a burst of signed payments arrives at 32 at once; on the data dir
// it left, every payment it acknowledged is paid with its event in the
// ledger once, the database is whole, and the shop starts on it again.
func TestAcknowledgedPaymentsSurviveAKill(t *testing.T) {
	const n = 300
	data := filepath.Join(t.TempDir(), "pb_data")
	runBinary(t, nil, "seed", "--dir", data)
	runBinary(t, nil, "superuser", "upsert", superuserEmail, superuserPassword, "--dir", data)
	stripe := newStripeStandIn(t)
	env := []string{"STRIPE_SECRET_KEY=sk_test_crash", "STRIPE_API_BASE=" + stripe.URL,
		"STRIPE_WEBHOOK_SECRET=" + webhookSecret, "SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off"}

	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--dir", data, "--http", addr)
	cmd.Env = append(os.Environ(), append(env, "SHOPDASH_APP_URL=http://"+addr)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			_ = cmd.Process.Kill() // SIGKILL: no shutdown, no final commit
			_ = cmd.Wait()
		})
	}
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			t.Logf("shopdash output:\n%s", out.String())
		}
	})
	waitFor(t, "http://"+addr+"/api/health")
	s := &shop{t: t, url: "http://" + addr}

	admin := s.superuser()
	s.liftRateLimits(admin)
	product := s.stockedProduct(admin, 100000)
	tokens := []string{s.signIn("customer@example.com"), s.signIn("customer2@example.com")}
	orders := make([]payment, n)
	parallel(n, 4, func(i int) error {
		p, err := s.checkout(tokens[i%2], product)
		orders[i] = p
		return err
	}, t)
	for _, p := range orders {
		stripe.pay(p)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	started := time.Now()
	parallel(n, 32, func(i int) error {
		status, _ := s.deliver(stripe.event(orders[i].Event))
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusOK {
			acked[orders[i].Order] = true
			if len(acked) == n/2 {
				go kill()
			}
		}
		return nil
	}, nil)
	kill()
	t.Logf("%d of %d payments acknowledged in %s before and while the kill landed",
		len(acked), n, time.Since(started).Round(time.Millisecond))
	if len(acked) < n/2 {
		t.Fatalf("only %d payments acknowledged: the burst never reached the kill", len(acked))
	}

	st := readRestored(t, filepath.Join(data, "data.db"))
	if st.Integrity != "ok" || len(st.Broken) > 0 {
		t.Fatalf("data.db after the kill: integrity %q, orders that do not add up %v", st.Integrity, st.Broken)
	}
	var lost []string
	applied := 0
	for _, p := range orders {
		if st.Ledger[p.Event] > 1 {
			t.Errorf("event %s is in the ledger %d times", p.Event, st.Ledger[p.Event])
		}
		if st.Ledger[p.Event] == 1 {
			applied++
			if st.Status[p.Order] != "paid" {
				t.Errorf("order %s: its event is in the ledger, but it is %s", p.Order, st.Status[p.Order])
			}
		}
		if acked[p.Order] && (st.Status[p.Order] != "paid" || st.Ledger[p.Event] != 1) {
			lost = append(lost, p.Order)
		}
	}
	t.Logf("after the kill: %d payments in the ledger, %d acknowledged, %d of those lost", applied, len(acked), len(lost))
	if len(lost) > 0 {
		t.Fatalf("acknowledged payments lost by the kill: %v", lost)
	}
	serveDir(t, data, env...) // starts on what the kill left
}
