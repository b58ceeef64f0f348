package main

import (
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const webhookSecret = "whsec_bench_secret"

// benchCase is one measured attack.
type benchCase struct {
	Name        string
	Path        string // shown in the report
	Concurrency int
	target      func(base string) vegeta.Targeter
	env         []string // added to the server's environment
}

// uncached is the server environment with the shop's caches off: every
// request pays for its token lookup and its queries.
var uncached = []string{"SHOPDASH_CACHE_TTL=off"}

// noMetrics is the server environment without /metrics and its request
// middleware: the difference from the same case with them is their cost.
var noMetrics = []string{"SHOPDASH_METRICS=off"}

// fakeStripe answers Checkout Session creation for the checkout cases and
// serves invoices, products and prices for the sync case.
type fakeStripe struct {
	*httptest.Server
	invoices *fakeInvoices
	sessions atomic.Int64
}

func newFakeStripe(users int) *fakeStripe {
	f := &fakeStripe{invoices: &fakeInvoices{users: users}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.invoices.serve(w, r) {
			return
		}
		if r.Method == "POST" && r.URL.Path == "/v1/checkout/sessions" {
			n := f.sessions.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"cs_x%d","object":"checkout.session","url":"https://x"}`, n)
			return
		}
		http.Error(w, `{"error":{"message":"not faked"}}`, 404)
	}))
	return f
}

// env is the server environment pointing shopdash at the fake Stripe.
func (f *fakeStripe) env() []string {
	return []string{"STRIPE_SECRET_KEY=sk_test_x", "STRIPE_API_BASE=" + f.URL, "STRIPE_WEBHOOK_SECRET=" + webhookSecret}
}

// runBinary measures bin: the HTTP and batch cases on the main shop, then
// the realtime case on a shop of its own.
func runBinary(cfg config, bin, label, dir string) (*driverRun, error) {
	dr := &driverRun{Driver: label, Binary: bin}
	if fi, err := os.Stat(bin); err == nil {
		dr.BinaryMB = mb(fi.Size())
	}
	fake := newFakeStripe(cfg.users)
	defer fake.Close()
	if cfg.mainShop() {
		if err := runShopCases(cfg, bin, dir, fake, dr); err != nil {
			return nil, err
		}
	}
	if cfg.runsRealtime() {
		rr, err := runRealtimeCase(cfg, bin, dir+"-realtime", fake.env())
		if err != nil {
			return nil, fmt.Errorf("case realtime: %w", err)
		}
		dr.Realtime = rr
		dr.StartupsMS = append(dr.StartupsMS, rr.startupsMS...)
	}
	if n := fake.sessions.Load(); n > 0 {
		log.Printf("fake Stripe created %d checkout sessions", n)
	}
	if len(dr.StartupsMS) > 0 {
		s := append([]float64(nil), dr.StartupsMS...)
		sort.Float64s(s)
		dr.StartupMedianMS, dr.StartupMinMS, dr.StartupMaxMS = s[len(s)/2], s[0], s[len(s)-1]
	}
	return dr, nil
}

// runShopCases seeds the main shop with bin, then measures every HTTP case,
// restarting the server for each, and the batch cases.
func runShopCases(cfg config, bin, dir string, fake *fakeStripe, dr *driverRun) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	log.Printf("seeding %d users x %d orders", cfg.users, cfg.ordersPerUser)
	d, err := runCmd(bin, "seed", "--dir", dir, "--users", fmt.Sprint(cfg.users), "--orders-per-user", fmt.Sprint(cfg.ordersPerUser))
	if err != nil {
		return err
	}
	dr.SeedSeconds = d.Seconds()
	log.Printf("seeded in %.1f s", dr.SeedSeconds)
	if _, err := runCmd(bin, "superuser", "upsert", suEmail, suPassword, "--dir", dir); err != nil {
		return err
	}
	env := fake.env()

	// First start: start-up, idle RSS, tokens and the set-up.
	srv, err := startServer(bin, dir, env)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	dr.IdleRSSMB = srv.rssMB()
	dr.StartupsMS = append(dr.StartupsMS, ms(srv.startup))
	su, _, tokens, err := setup(srv.base, cfg.tokens)
	if err != nil {
		srv.stop()
		return err
	}
	if dr.ScrapeMS, err = timeScrapes(su, 5); err != nil {
		srv.stop()
		return err
	}
	var product string
	var pending []pendingOrder
	if cfg.stripe {
		product, pending, err = stripeSetup(su)
		if err != nil {
			log.Printf("stripe cases skipped: %v", err)
		}
	}
	srv.stop()

	since := time.Now().AddDate(-1, 0, 0).UTC().Format("2006-01-02 15:04:05.000Z")
	recordsQ := url.Values{"perPage": {"20"}, "sort": {"-created"}, "filter": {fmt.Sprintf("created>=%q", since)}}
	var cases []benchCase
	for _, c := range cfg.concurrency {
		cases = append(cases,
			benchCase{"purchases", "GET /api/v1/purchases?sort=-created", c, authGET("/api/v1/purchases?sort=-created", tokens), nil},
			benchCase{"purchases-uncached", "the same with SHOPDASH_CACHE_TTL=off", c, authGET("/api/v1/purchases?sort=-created", tokens), uncached},
			benchCase{"purchases-no-metrics", "the same with SHOPDASH_METRICS=off", c, authGET("/api/v1/purchases?sort=-created", tokens), noMetrics},
			benchCase{"records-api", "GET /api/collections/order_items/records?perPage=20&sort=-created&filter=created>=<12 months ago>", c,
				authGET("/api/collections/order_items/records?"+recordsQ.Encode(), tokens), nil},
			benchCase{"dashboard", "GET /api/v1/dashboard", c, authGET("/api/v1/dashboard", tokens), nil},
			benchCase{"dashboard-uncached", "the same with SHOPDASH_CACHE_TTL=off", c, authGET("/api/v1/dashboard", tokens), uncached},
			benchCase{"health", "GET /api/health", c, authGET("/api/health", nil), nil},
		)
	}
	if product != "" {
		c := cfg.concurrency[len(cfg.concurrency)-1]
		cases = append(cases, benchCase{"checkout", "POST /api/v1/checkout (fake Stripe)", c, checkoutTarget(product, tokens), nil})
		if len(pending) > 0 {
			cases = append(cases, benchCase{"webhook", "POST /api/v1/stripe/webhook checkout.session.completed", c, webhookTarget(pending), nil})
		}
	}

	for _, bc := range cases {
		if cfg.only != nil && !cfg.only[bc.Name] {
			continue
		}
		cr, err := runCase(cfg, bin, dir, env, su.token, bc)
		if err != nil {
			return fmt.Errorf("case %s c=%d: %w", bc.Name, bc.Concurrency, err)
		}
		dr.StartupsMS = append(dr.StartupsMS, cr.StartupMS)
		dr.Cases = append(dr.Cases, cr)
	}
	// The abuse case, after the measured ones: its attackers' requests would
	// otherwise fill the request log the others are measured with.
	if product != "" && (cfg.only == nil || cfg.only["abuse"]) {
		if err := clearRequestLogs(dir); err != nil {
			return fmt.Errorf("clear the request log: %w", err)
		}
		ar, err := runAbuseCase(cfg, bin, dir, env, tokens, product)
		if err != nil {
			return fmt.Errorf("case abuse: %w", err)
		}
		dr.Abuse = ar
	}
	// The outgoing webhooks, on a fresh start, after the measured cases:
	// their endpoints are disabled when it ends.
	if product != "" && (cfg.only == nil || cfg.only["outgoing-webhooks"]) {
		orders, pairs := 2000, 4
		if cfg.smoke {
			orders, pairs = 100, 1
		}
		or, err := runOutgoingWebhooksCase(bin, dir, env, su.token, tokens, product, orders, pairs, cfg.concurrency[len(cfg.concurrency)-1], cfg.profileDir)
		if err != nil {
			return fmt.Errorf("case outgoing-webhooks: %w", err)
		}
		dr.Outgoing = or
	}
	// Batch cases, after the HTTP ones so those are measured on the shop as
	// seeded: the email drain (server started with the SMTP sink), then the
	// sync (server stopped: SQLite has one writer).
	if cfg.emails > 0 {
		br, err := runEmailCase(bin, dir, env, cfg.emails, cfg.batchTimeout)
		if err != nil {
			return fmt.Errorf("case email-drain: %w", err)
		}
		dr.Batch = append(dr.Batch, br)
	}
	if cfg.syncInvoices > 0 {
		dr.Batch = append(dr.Batch, runSyncCase(bin, dir, fake.URL, fake.invoices, cfg.syncInvoices, cfg.syncTimeout))
	}
	return nil
}

// runCase starts a server and measures one case on it.
func runCase(cfg config, bin, dir string, env []string, suToken string, bc benchCase) (*caseResult, error) {
	if err := clearRequestLogs(dir); err != nil {
		return nil, fmt.Errorf("clear the request log: %w", err)
	}
	srv, err := startServer(bin, dir, append(env[:len(env):len(env)], bc.env...))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	return measure(cfg, srv, api{base: srv.base, token: suToken}, filepath.Base(bin), bc)
}

// measure runs a case's warm-up and measured attack on a running server;
// with cfg.profileDir it also records a CPU profile of the measured attack
// and a heap profile after it, through the superuser-only /debug/pprof
// routes (su), named after binName and the case.
func measure(cfg config, srv *server, su api, binName string, bc benchCase) (*caseResult, error) {
	profileName := fmt.Sprintf("%s-%s-c%d", binName, bc.Name, bc.Concurrency)
	tr := bc.target(srv.base)
	atk := func(d time.Duration) (*vegeta.Metrics, int) {
		a := vegeta.NewAttacker(
			vegeta.Workers(uint64(bc.Concurrency)), vegeta.MaxWorkers(uint64(bc.Concurrency)),
			vegeta.Connections(bc.Concurrency), vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true))
		var m vegeta.Metrics
		errs := 0
		for r := range a.Attack(tr, vegeta.Rate{}, d, bc.Name) {
			m.Add(r)
			if r.Code < 200 || r.Code > 299 || r.Error != "" {
				errs++
			}
		}
		m.Close()
		return &m, errs
	}
	if cfg.warmup > 0 {
		atk(cfg.warmup)
	}
	var cpuProfile chan error
	if cfg.profileDir != "" {
		cpuProfile = make(chan error, 1)
		go func() {
			cpuProfile <- su.saveProfile(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(cfg.duration.Seconds())),
				filepath.Join(cfg.profileDir, profileName+".cpu.pprof"))
		}()
	}
	cpuBefore := srv.cpuTime()
	m, errs := atk(cfg.duration)
	cpu := srv.cpuTime() - cpuBefore
	if cpuProfile != nil {
		if err := <-cpuProfile; err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := su.saveProfile("/debug/pprof/heap", filepath.Join(cfg.profileDir, profileName+".heap.pprof")); err != nil {
			return nil, fmt.Errorf("heap profile: %w", err)
		}
	}
	cr := &caseResult{
		Name: bc.Name, Path: bc.Path, Concurrency: bc.Concurrency,
		StartupMS: ms(srv.startup), Requests: m.Requests,
		RPS:      m.Throughput, // successful responses per second
		Errors:   errs,
		RateSent: m.Rate,
		P50MS:    ms(m.Latencies.P50), P90MS: ms(m.Latencies.P90), P99MS: ms(m.Latencies.P99), MaxMS: ms(m.Latencies.Max),
		Success: m.Success, StatusCodes: m.StatusCodes, PeakRSSMB: srv.peakMB(),
	}
	if m.Requests > 0 {
		cr.CPUPerRequestUS = float64(cpu.Microseconds()) / float64(m.Requests)
	}
	if len(m.Errors) > 0 {
		cr.ErrorSamples = m.Errors[:min(3, len(m.Errors))]
	}
	log.Printf("%-11s c=%-3d %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d/%d  peak RSS %.0f MB",
		bc.Name, bc.Concurrency, cr.RPS, cr.P50MS, cr.P99MS, cr.Errors, cr.Requests, cr.PeakRSSMB)
	return cr, nil
}

// timeScrapes reads GET /metrics n times, as a superuser, and returns the
// median time: what one Prometheus scrape costs the seeded shop.
func timeScrapes(su api, n int) (float64, error) {
	var took []float64
	for range n {
		start := time.Now()
		if err := su.do("GET", "/metrics", nil, nil); err != nil {
			return 0, err
		}
		took = append(took, ms(time.Since(start)))
	}
	sort.Float64s(took)
	return took[len(took)/2], nil
}

// authGET targets base+path, each request as a random customer (tokens nil:
// no Authorization header).
func authGET(path string, tokens []string) func(string) vegeta.Targeter {
	return func(base string) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			t.Method, t.URL, t.Header = "GET", base+path, nil
			if len(tokens) > 0 {
				t.Header = http.Header{"Authorization": {tokens[rand.IntN(len(tokens))]}}
			}
			return nil
		}
	}
}

// stripeSetup picks the physical product with the most stock and raises its
// stock so checkouts do not run out, and lists pending orders for webhooks.
// pendingOrder is what a payment event of an order must match: its own
// checkout session, its total and currency.
type pendingOrder struct {
	ID       string `json:"id"`
	Session  string `json:"stripe_session"`
	Total    int    `json:"total"`
	Currency string `json:"currency"`
}

func stripeSetup(su api) (string, []pendingOrder, error) {
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	q := url.Values{"filter": {"digital=false && active=true"}, "sort": {"-stock"}, "perPage": {"1"}, "skipTotal": {"1"}}
	if err := su.do("GET", "/api/collections/products/records?"+q.Encode(), nil, &list); err != nil {
		return "", nil, err
	}
	if len(list.Items) == 0 {
		return "", nil, fmt.Errorf("no active physical product")
	}
	id := list.Items[0].ID
	if err := su.do("PATCH", "/api/collections/products/records/"+id, map[string]any{"stock": 100000000}, nil); err != nil {
		return "", nil, err
	}
	var orders struct {
		Items []pendingOrder `json:"items"`
	}
	q = url.Values{"filter": {"status='pending'"}, "perPage": {"500"}, "fields": {"id,stripe_session,total,currency"}, "skipTotal": {"1"}}
	if err := su.do("GET", "/api/collections/orders/records?"+q.Encode(), nil, &orders); err != nil {
		return id, nil, err
	}
	// A payment event pays only its order's own session: give the seeded
	// orders one, as checkout would have.
	for i, o := range orders.Items {
		if o.Session == "" {
			orders.Items[i].Session = "cs_bench_" + o.ID
			if err := su.do("PATCH", "/api/collections/orders/records/"+o.ID, map[string]any{"stripe_session": orders.Items[i].Session}, nil); err != nil {
				return id, nil, err
			}
		}
	}
	return id, orders.Items, nil
}

func checkoutTarget(product string, tokens []string) func(string) vegeta.Targeter {
	body := []byte(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, product))
	return func(base string) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			t.Method, t.URL, t.Body = "POST", base+"/api/v1/checkout", body
			t.Header = http.Header{"Authorization": {tokens[rand.IntN(len(tokens))]}, "Content-Type": {"application/json"}}
			return nil
		}
	}
}

var eventSeq atomic.Int64

// webhookTarget sends distinct signed checkout.session.completed events
// (unique event ids), cycling over pending orders: the first event of an
// order pays it, later ones find it paid already.
func webhookTarget(orders []pendingOrder) func(string) vegeta.Targeter {
	run := time.Now().UnixNano()
	return func(base string) vegeta.Targeter {
		return func(t *vegeta.Target) error {
			n := eventSeq.Add(1)
			ev := paidEvent(orders[int(n)%len(orders)], fmt.Sprintf("evt_bench_%d_%d", run, n))
			payload, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret})
			t.Method, t.URL, t.Body = "POST", base+"/api/v1/stripe/webhook", payload
			t.Header = http.Header{"Stripe-Signature": {sp.Header}, "Content-Type": {"application/json"}}
			return nil
		}
	}
}

// paidEvent is the checkout.session.completed event that pays the order.
func paidEvent(order pendingOrder, id string) map[string]any {
	return map[string]any{
		"id": id, "object": "event", "type": "checkout.session.completed",
		"api_version": stripe.APIVersion, "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{
			"id": order.Session, "object": "checkout.session",
			"client_reference_id": order.ID, "metadata": map[string]string{"order_id": order.ID},
			"payment_status": "paid", "status": "complete", "mode": "payment",
			"amount_total": order.Total, "currency": order.Currency,
		}},
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }
