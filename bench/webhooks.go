package main

// The outgoing webhooks' case of issue 22: what three subscribed
// endpoints cost the Stripe webhook route (each payment then also writes
// three deliveries in its transaction, and the worker sends them while the
// route is measured), and how many deliveries a second the worker sends
// to a local receiver that answers at once.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// outgoingEndpoints is how many endpoints take order.paid in the measured
// round.
const outgoingEndpoints = 3

// outgoingResult is the case: alternate rounds of payments of fresh
// orders (each event pays one) without endpoints and with three, after a
// warm-up round, then the drain of a queue built while the worker was
// paused.
type outgoingResult struct {
	Orders      int             `json:"orders_per_round"`
	Concurrency int             `json:"concurrency"`
	Endpoints   int             `json:"endpoints"`
	Rounds      []*paymentRound `json:"rounds"`
	// Cost is 1 - (mean events/s with the endpoints) / (mean without);
	// CPUCost is (mean server CPU per event with) / (mean without) - 1,
	// the sending of the deliveries included: the figure a shared machine
	// sways least.
	Cost    float64 `json:"cost"`
	CPUCost float64 `json:"cpu_cost"`
	// PairCosts is each pair's cost (a round with the endpoints against
	// the round before it, without): how much a shared machine swayed.
	PairCosts []float64 `json:"pair_costs"`
	// Drained deliveries were queued by a round paid while the worker was
	// paused; DrainPerSecond is from the resume to the last arrival.
	Drained        int     `json:"drained"`
	DrainPerSecond float64 `json:"drain_deliveries_per_second"`
}

// paymentRound is one round of signed checkout.session.completed events
// and, with endpoints, the deliveries it queued: from the first arrival to
// the last, and the last's lag behind the round's last answer.
type paymentRound struct {
	Endpoints           int     `json:"endpoints"`
	WorkerPaused        bool    `json:"worker_paused,omitempty"`
	EventsPerSec        float64 `json:"events_per_second"`
	P50MS               float64 `json:"p50_ms"`
	P99MS               float64 `json:"p99_ms"`
	Errors              int     `json:"errors"`
	ErrorSample         string  `json:"error_sample,omitempty"`
	Deliveries          int     `json:"deliveries,omitempty"`
	Repeats             int     `json:"repeats,omitempty"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second,omitempty"`
	DrainAfterMS        float64 `json:"drain_after_round_ms,omitempty"`
	// CPUPerEventUS is the server's CPU time per event: of the round, and
	// with endpoints until the last of its deliveries arrived.
	CPUPerEventUS float64 `json:"cpu_us_per_event"`
	ended         time.Time
	cpuBefore     time.Duration
}

// deliveryCounter is the local receiver: it answers 204 and keeps each
// webhook-id's count per endpoint and the first and last arrival.
type deliveryCounter struct {
	*httptest.Server
	mu          sync.Mutex
	seen        map[string]int
	first, last time.Time
}

func newDeliveryCounter() *deliveryCounter {
	dc := &deliveryCounter{seen: map[string]int{}}
	dc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		dc.mu.Lock()
		dc.seen[r.URL.Path+" "+r.Header.Get("webhook-id")]++
		if dc.first.IsZero() {
			dc.first = now
		}
		dc.last = now
		dc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	return dc
}

// reset forgets what arrived.
func (dc *deliveryCounter) reset() {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.seen, dc.first, dc.last = map[string]int{}, time.Time{}, time.Time{}
}

// await waits, two minutes at most, for want distinct deliveries, and
// returns what counts does.
func (dc *deliveryCounter) await(want int) (distinct, repeats int, first, last time.Time) {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if distinct, _, _, _ = dc.counts(); distinct >= want {
			break
		}
	}
	if distinct < want {
		log.Printf("outgoing-webhooks: %d of %d deliveries arrived within 2 minutes", distinct, want)
	}
	return dc.counts()
}

// counts returns the distinct deliveries, the repeats, and the first and
// last arrival.
func (dc *deliveryCounter) counts() (distinct, repeats int, first, last time.Time) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for _, n := range dc.seen {
		distinct++
		repeats += n - 1
	}
	return distinct, repeats, dc.first, dc.last
}

// runOutgoingWebhooksCase measures the case on a fresh start of the main
// shop, with 6 × orders fresh orders bought by checkout first.
func runOutgoingWebhooksCase(bin, dir string, env []string, suToken string, tokens []string, product string, orders, pairs, c int, profileDir string) (*outgoingResult, error) {
	srv, err := startServer(bin, dir, append(env[:len(env):len(env)], "SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1"))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	su := api{base: srv.base, token: suToken}
	// The order emails each payment queues would be sent meanwhile, and
	// their rendering counted against the rounds that wait for their
	// deliveries: they wait.
	if err := su.do("POST", "/api/v1/admin/jobs/email_outbox/pause", nil, nil); err != nil {
		return nil, err
	}
	defer func() {
		if err := su.do("POST", "/api/v1/admin/jobs/email_outbox/resume", nil, nil); err != nil {
			log.Printf("outgoing-webhooks: email_outbox left paused: %v", err)
		}
	}()
	receiver := newDeliveryCounter()
	defer receiver.Close()

	// A warm-up round, the pairs of rounds, the round queued while paused.
	fresh, err := freshOrders(srv.base, tokens, product, (2*pairs+2)*orders, c)
	if err != nil {
		return nil, err
	}
	batch := func(i int) []pendingOrder { return fresh[i*orders : (i+1)*orders] }
	var endpoints []string
	for i := range outgoingEndpoints {
		var ep struct {
			ID string `json:"id"`
		}
		if err := su.do("POST", "/api/collections/webhook_endpoints/records", map[string]any{
			"url": fmt.Sprintf("%s/ep%d", receiver.URL, i), "events": []string{"order.paid"}, "active": false, "description": "bench",
		}, &ep); err != nil {
			return nil, err
		}
		endpoints = append(endpoints, ep.ID)
	}
	setActive := func(active bool) error {
		for _, id := range endpoints {
			if err := su.do("PATCH", "/api/collections/webhook_endpoints/records/"+id, map[string]any{"active": active}, nil); err != nil {
				return err
			}
		}
		return nil
	}

	or := &outgoingResult{Orders: orders, Concurrency: c, Endpoints: outgoingEndpoints}
	payRound(srv, batch(0), c, 0) // warm-up
	var with, without, cpuWith, cpuWithout float64
	var rounds []int
	for range pairs {
		rounds = append(rounds, 0, outgoingEndpoints)
	}
	for i, n := range rounds {
		if n > 0 {
			if err := setActive(true); err != nil {
				return nil, err
			}
		}
		receiver.reset()
		wait := profileRound(su, profileDir, fmt.Sprintf("outgoing-webhooks-round%d-%dendpoints", i+1, n))
		r := payRound(srv, batch(i+1), c, n)
		wait()
		if n > 0 {
			var first, last time.Time
			r.Deliveries, r.Repeats, first, last = receiver.await(n * (orders - r.Errors))
			if last.After(first) {
				r.DeliveriesPerSecond = float64(r.Deliveries) / last.Sub(first).Seconds()
			}
			r.DrainAfterMS = ms(max(last.Sub(r.ended), 0))
			// The sending is part of what the endpoints cost.
			r.CPUPerEventUS = float64((srv.cpuTime() - r.cpuBefore).Microseconds()) / float64(orders)
			if err := setActive(false); err != nil {
				return nil, err
			}
			with += r.EventsPerSec / float64(pairs)
			cpuWith += r.CPUPerEventUS / float64(pairs)
			// This pair's cost: against the round just before, without.
			or.PairCosts = append(or.PairCosts, 1-r.EventsPerSec/or.Rounds[len(or.Rounds)-1].EventsPerSec)
		} else {
			without += r.EventsPerSec / float64(pairs)
			cpuWithout += r.CPUPerEventUS / float64(pairs)
		}
		or.Rounds = append(or.Rounds, r)
		log.Printf("outgoing-webhooks: %d endpoints, c=%d: %8.0f events/s  p50 %6.2f ms  p99 %7.2f ms  CPU %.0f µs/event  errors %d/%d  deliveries %d (%d repeats) %.0f/s",
			n, c, r.EventsPerSec, r.P50MS, r.P99MS, r.CPUPerEventUS, r.Errors, orders, r.Deliveries, r.Repeats, r.DeliveriesPerSecond)
	}
	if without > 0 && cpuWithout > 0 {
		or.Cost, or.CPUCost = 1-with/without, cpuWith/cpuWithout-1
	}

	// The worker's own pace: a queue built while it was paused, drained.
	job := "/api/v1/admin/jobs/webhook_outbox/"
	if err := su.do("POST", job+"pause", nil, nil); err != nil {
		return nil, err
	}
	if err := setActive(true); err != nil {
		return nil, err
	}
	receiver.reset()
	wait := profileRound(su, profileDir, "outgoing-webhooks-queued-only")
	queued := payRound(srv, batch(2*pairs+1), c, outgoingEndpoints)
	wait()
	queued.WorkerPaused = true
	or.Rounds = append(or.Rounds, queued)
	resumed := time.Now()
	wait = profileRound(su, profileDir, "outgoing-webhooks-drain")
	if err := su.do("POST", job+"resume", nil, nil); err != nil {
		return nil, err
	}
	var last time.Time
	or.Drained, _, _, last = receiver.await(outgoingEndpoints * (orders - queued.Errors))
	wait()
	if last.After(resumed) {
		or.DrainPerSecond = float64(or.Drained) / last.Sub(resumed).Seconds()
	}
	if err := setActive(false); err != nil {
		return nil, err
	}
	log.Printf("outgoing-webhooks: cost of %d endpoints %.1f%% of events/s (pairs: %s), %.1f%% more server CPU per event; a queue of %d drained at %.0f deliveries/s",
		outgoingEndpoints, 100*or.Cost, percents(or.PairCosts), 100*or.CPUCost, or.Drained, or.DrainPerSecond)
	return or, nil
}

// percents formats fractions as percentages.
func percents(fs []float64) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%.1f%%", 100*f)
	}
	return strings.Join(out, " ")
}

// profileRound starts a CPU profile of the next two seconds, in dir
// (none when dir is empty); the function it returns waits for it.
func profileRound(su api, dir, name string) (wait func()) {
	if dir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := su.saveProfile("/debug/pprof/profile?seconds=2", filepath.Join(dir, name+".cpu.pprof")); err != nil {
			log.Printf("outgoing-webhooks: profile %s: %v", name, err)
		}
	}()
	return func() { <-done }
}

// freshOrders checks out n orders of one unit, c at once, as random
// customers; each is pending with a session of its own.
func freshOrders(base string, tokens []string, product string, n, c int) ([]pendingOrder, error) {
	out := make([]pendingOrder, n)
	errs := make([]error, n)
	body := []byte(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, product))
	inParallel(n, c, func(i int) {
		var answer struct {
			Order   pendingOrder `json:"order"`
			Session string       `json:"session_id"`
		}
		errs[i] = api{base: base, token: tokens[rand.IntN(len(tokens))]}.do("POST", "/api/v1/checkout", json.RawMessage(body), &answer)
		out[i] = answer.Order
		out[i].Session = answer.Session
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("checkout: %w", err)
		}
	}
	return out, nil
}

// payRound sends one signed checkout.session.completed per order, c at
// once, and times them.
func payRound(srv *server, orders []pendingOrder, c, endpoints int) *paymentRound {
	took := make([]time.Duration, len(orders))
	errs := make([]error, len(orders))
	run := time.Now().UnixNano()
	r := &paymentRound{Endpoints: endpoints, cpuBefore: srv.cpuTime()}
	started := time.Now()
	inParallel(len(orders), c, func(i int) {
		t0 := time.Now()
		errs[i] = payOrder(srv.base, orders[i], fmt.Sprintf("evt_outgoing_%d_%d", run, i))
		took[i] = time.Since(t0)
	})
	r.ended = time.Now()
	r.CPUPerEventUS = float64((srv.cpuTime() - r.cpuBefore).Microseconds()) / float64(len(orders))
	elapsed := r.ended.Sub(started)
	sort.Slice(took, func(a, b int) bool { return took[a] < took[b] })
	r.EventsPerSec = float64(len(orders)) / elapsed.Seconds()
	r.P50MS, r.P99MS = ms(took[len(took)/2]), ms(took[min(len(took)-1, len(took)*99/100)])
	for _, err := range errs {
		if err != nil {
			r.Errors++
			r.ErrorSample = err.Error()
		}
	}
	return r
}

// payOrder posts the event that pays the order, signed as Stripe does.
func payOrder(base string, order pendingOrder, eventID string) error {
	payload, err := json.Marshal(paidEvent(order, eventID))
	if err != nil {
		return err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret})
	req, err := http.NewRequest("POST", base+"/api/v1/stripe/webhook", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	return nil
}

// inParallel runs job(0…n-1) on c goroutines.
func inParallel(n, c int, job func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := range next {
				job(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (or *outgoingResult) markdown(s *strings.Builder) {
	fmt.Fprintf(s, "Outgoing webhooks: after a warm-up round, rounds of %d signed `checkout.session.completed` events, each paying a fresh order, %d at once, on one server start, "+
		"alternately without endpoints and with %d taking `order.paid` (each payment then also queues %d deliveries, sent meanwhile to a local receiver answering 204); "+
		"last, a round with the worker paused (the cost of queueing alone), whose queue is then drained.\n\n",
		or.Orders, or.Concurrency, or.Endpoints, or.Endpoints)
	s.WriteString("| endpoints | events/s | p50 ms | p99 ms | server CPU µs/event | errors | deliveries (repeats) | deliveries/s | last delivery after the round |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range or.Rounds {
		endpoints := fmt.Sprint(r.Endpoints)
		if r.WorkerPaused {
			endpoints += ", worker paused (queued only)"
		}
		fmt.Fprintf(s, "| %s | %.0f | %.2f | %.2f | %.0f | %d | %d (%d) | %.0f | %.0f ms |\n",
			endpoints, r.EventsPerSec, r.P50MS, r.P99MS, r.CPUPerEventUS, r.Errors, r.Deliveries, r.Repeats, r.DeliveriesPerSecond, r.DrainAfterMS)
	}
	fmt.Fprintf(s, "\nCost of %d endpoints: **%.1f%%** of the route's events/s (mean of the rounds; each pair: %s), **%.1f%%** more server CPU per event (their sending included). A queue of %d deliveries built while the worker was paused drained at **%.0f deliveries/s**.\n\n",
		or.Endpoints, 100*or.Cost, percents(or.PairCosts), 100*or.CPUCost, or.Drained, or.DrainPerSecond)
}
