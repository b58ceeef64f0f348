package payments_test

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/metrics"
	"shopdash/internal/shoptest"
)

const batchMetricsToken = "metrics-token-for-batch-tests-0123456789"

// TestWebhookBurstIsAppliedOnceInBatches: deliveries that queue for the
// writer are applied together, and each is answered as if it had been
// alone. The writer is held while a burst arrives, so the burst queues:
// each order's payment delivered twice at once, a payment that names an
// order without being its session (refused for good, which rolls its
// batch back and applies that batch one by one), and a type the shop
// ignores. Every order is paid once, every event is in the ledger once,
// each pair of repeats has one answer applied and one not, the refusal is
// recorded as mismatched, and /metrics shows a batch of more than one
// event committed together and the batch applied one by one.
func TestWebhookBurstIsAppliedOnceInBatches(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, func(baseURL string) hooks.Config {
		cfg := shoptest.StripeConfig(baseURL)
		cfg.MetricsToken = batchMetricsToken
		return cfg
	})
	stockSet(t, rig, shop.PhysicalProduct, 100)
	const orders = 12
	sessions := make([]map[string]any, orders)
	ids := make([]string, orders)
	for i := range sessions {
		out := stockOrdered(t, rig, shop.Customer, shop.PhysicalProduct, 1)
		sessions[i] = rig.Fake.CompleteSession(out["session_id"].(string))
		ids[i] = stockOrderID(out)
	}
	mismatch := map[string]any{"id": "cs_not_the_orders", "object": "checkout.session", "payment_status": "paid",
		"status": "complete", "mode": "payment", "amount_total": 100, "currency": "usd",
		"metadata": map[string]string{"order_id": ids[0]}}

	var burst []burstDelivery
	for i, s := range sessions {
		id := fmt.Sprintf("evt_batch_pay_%d", i)
		burst = append(burst, burstDelivery{id, "checkout.session.completed", s}, burstDelivery{id, "checkout.session.completed", s})
	}
	burst = append(burst, burstDelivery{"evt_batch_ignored", "customer.created", map[string]any{"id": "cus_batch", "object": "customer"}})
	answers := deliverBehindHeldWriter(t, rig, burst)
	for i := 0; i < 2*orders; i += 2 {
		pair := answers[i] + " | " + answers[i+1]
		if strings.Count(pair, `"applied":true`) != 1 || strings.Count(pair, `"applied":false`) != 1 || strings.Count(pair, "200 ") != 2 {
			t.Errorf("%s delivered twice at once: %s, want 200 twice, applied once", burst[i].id, pair)
		}
	}
	if got := answers[2*orders]; !strings.HasPrefix(got, "200 ") || !strings.Contains(got, `"applied":false`) {
		t.Errorf("the ignored type: %s", got)
	}
	// A second burst: the refusal rolls its batch back; the batch is
	// applied one by one, and the repeats in it are still repeats.
	again := deliverBehindHeldWriter(t, rig, []burstDelivery{
		{"evt_batch_pay_0", "checkout.session.completed", sessions[0]},
		{"evt_batch_mismatch", "checkout.session.completed", mismatch},
		{"evt_batch_pay_1", "checkout.session.completed", sessions[1]},
	})
	if !strings.HasPrefix(again[1], "200 ") || !strings.Contains(again[1], `"status":"mismatched"`) {
		t.Errorf("the mismatched payment: %s, want 200 recorded as mismatched", again[1])
	}
	for _, got := range []string{again[0], again[2]} {
		if !strings.HasPrefix(got, "200 ") || !strings.Contains(got, `"applied":false`) {
			t.Errorf("a repeat in a batch applied one by one: %s, want 200, not applied", got)
		}
	}
	for _, id := range ids {
		var status string
		if err := rig.App.DB().Select(c.OrderStatusField).From(c.Orders).Where(dbx.HashExp{"id": id}).Row(&status); err != nil {
			t.Fatal(err)
		}
		if status != string(c.StatusPaid) {
			t.Errorf("order %s is %s, want paid", id, status)
		}
	}
	ledger := map[string]string{}
	var rows []struct {
		ID     string `db:"event_id"`
		Status string `db:"status"`
	}
	if err := rig.App.DB().Select(c.StripeEventID, c.StripeEventStatus).From(c.StripeEvents).
		Where(dbx.NewExp(c.StripeEventID + " LIKE 'evt_batch%'")).All(&rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, twice := ledger[r.ID]; twice {
			t.Errorf("%s is in the ledger twice", r.ID)
		}
		ledger[r.ID] = r.Status
	}
	if len(ledger) != orders+1 || ledger["evt_batch_mismatch"] != c.EventMismatched || ledger["evt_batch_pay_0"] != c.EventApplied {
		t.Errorf("ledger %v, want the %d payments applied and the mismatch", ledger, orders)
	}

	_, scraped := rig.Send(t, http.MethodGet, metrics.Path, "", map[string]string{"Authorization": "Bearer " + batchMetricsToken})
	if batchesOver1(t, scraped, "batch") == 0 {
		t.Errorf("no batch of more than one event was committed together:\n%s", batchLines(scraped))
	}
	if batchesOver1(t, scraped, "one_by_one") == 0 {
		t.Errorf("the batch with the refusal was not applied one by one:\n%s", batchLines(scraped))
	}
}

type burstDelivery struct {
	id, kind string
	object   any
}

// deliverBehindHeldWriter sends the deliveries at once while a transaction
// holds the writer, so they queue for it, then lets it go, and returns the
// answers ("status body") in the deliveries' order.
func deliverBehindHeldWriter(t *testing.T, rig *shoptest.WebhookRig, burst []burstDelivery) []string {
	t.Helper()
	answers := make([]string, len(burst))
	holding, release := make(chan struct{}), make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		err := rig.App.RunInTransaction(func(core.App) error {
			close(holding)
			<-release
			return errHeld
		})
		if !errors.Is(err, errHeld) {
			t.Errorf("holding the writer: %v", err)
		}
	})
	<-holding
	var wg sync.WaitGroup
	for i, d := range burst {
		wg.Go(func() {
			payload, signature := shoptest.StripeEvent(t, d.id, d.kind, d.object)
			status, body := rig.Send(t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
			answers[i] = strconv.Itoa(status) + " " + body
		})
	}
	// Let the burst queue behind the held writer: no assertion waits on
	// this, it only makes the batches larger.
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	writer.Wait()
	return answers
}

var errHeld = errors.New("held the writer")

// batchesOver1 is how many batches of more than one event /metrics counts
// with the commit label: the count less the le="1" bucket.
func batchesOver1(t *testing.T, scraped, commit string) int {
	t.Helper()
	read := func(re string) int {
		m := regexp.MustCompile(re).FindStringSubmatch(scraped)
		if m == nil {
			return 0
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	count := read(`shopdash_stripe_webhook_batch_events_count\{commit="` + commit + `"\} (\d+)`)
	one := read(`shopdash_stripe_webhook_batch_events_bucket\{commit="` + commit + `",le="1"\} (\d+)`)
	return count - one
}

func batchLines(scraped string) string {
	var lines []string
	for _, l := range strings.Split(scraped, "\n") {
		if strings.HasPrefix(l, "shopdash_stripe_webhook_batch") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
