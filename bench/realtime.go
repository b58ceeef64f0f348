package main

// The realtime fan-out case of issue 20: customers connected the way the
// customer page connects (the JS SDK's subscribe("*") on orders) while
// support updates their orders, customers check out and Stripe's webhooks
// arrive. Every order save is broadcast to the subscribers allowed to see
// it, on the saving request: what that costs a save, and what each
// connection costs the server's memory.

import (
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// connectionsPerAddress is hooks/access's cap on the realtime connections of
// one client address: the customers connect from 127.0.0.2, 127.0.0.3, …,
// this many from each. Any 127.x address is a source on Linux, and without
// trusted proxy headers PocketBase's RealIP is the TCP peer's address.
const connectionsPerAddress = 50

// realtimeOrdersPerCustomer gives each customer a pending order (for the
// webhooks to pay) and a paid one (whose arrival date support changes).
const realtimeOrdersPerCustomer = 2

// saveConcurrency is how many support saves the concurrent loop sends at once.
const saveConcurrency = 8

// deliveryTimeout is how long a save's event may take to reach its owner
// before it counts as lost.
const deliveryTimeout = 5 * time.Second

// realtimeResult is the realtime case: one run with no customer connected,
// then one per count of connected customers, each on a fresh server start.
type realtimeResult struct {
	Customers     int            `json:"customers"`
	OrdersPerUser int            `json:"orders_per_user"`
	SeedSeconds   float64        `json:"seed_seconds"`
	Saves         int            `json:"saves_per_loop"`
	Runs          []*realtimeRun `json:"runs"`
	startupsMS    []float64
}

// realtimeRun is one server start with Connected customers subscribed to
// orders/*.
type realtimeRun struct {
	Connected       int     `json:"connected"`
	Addresses       int     `json:"source_addresses"`
	ConnectSeconds  float64 `json:"connect_seconds"` // every connection opened and subscribed
	RSSBeforeMB     float64 `json:"rss_before_mb"`
	RSSConnectedMB  float64 `json:"rss_connected_mb"` // 1 s after the last subscription, idle
	KBPerConnection float64 `json:"kb_per_connection"`
	// Saves are support's order updates, sequential then concurrent.
	Saves    []*saveResult `json:"saves"`
	Checkout *caseResult   `json:"checkout,omitempty"`
	Webhook  *caseResult   `json:"webhook,omitempty"`
	// Events counts what all connections received, PB_CONNECT aside;
	// Foreign those not of the connection's own customer's orders (a leak).
	Events        int64   `json:"events"`
	Foreign       int64   `json:"foreign"`
	ForeignSample string  `json:"foreign_sample,omitempty"`
	Dropped       int64   `json:"dropped"` // connections the server ended before the run did
	Seconds       float64 `json:"seconds"` // the whole run, server start to stop
}

// saveResult is a loop of support's order updates.
type saveResult struct {
	Concurrency int     `json:"concurrency"`
	Saves       int     `json:"saves"`
	Errors      int     `json:"errors"`
	ErrorSample string  `json:"error_sample,omitempty"`
	P50MS       float64 `json:"p50_ms"` // the PATCH's round trip
	P99MS       float64 `json:"p99_ms"`
	// Delivery is from sending the PATCH to the order's event on its
	// owner's connection (saves of connected customers' orders only).
	Delivered     int     `json:"delivered"`
	DeliveryP50MS float64 `json:"delivery_p50_ms"`
	DeliveryP99MS float64 `json:"delivery_p99_ms"`
	Lost          int     `json:"lost"` // saved, but no event reached the owner within deliveryTimeout
}

// realtimeShop is what the runs need of the realtime case's shop.
type realtimeShop struct {
	suToken   string
	support   string            // support's token
	customers []string          // ids
	tokens    []string          // the customers' tokens, in the same order
	paid      map[string]string // a paid order of each customer: customer id → order id
	product   string            // what checkouts buy ("": no checkout or webhook)
	pending   []pendingOrder
}

// runRealtimeCase seeds a shop of its own in dir, with as many customers as
// the most connected, then measures a run with none connected and one per
// count of cfg.realtime.
func runRealtimeCase(cfg config, bin, dir string, env []string) (*realtimeResult, error) {
	most := cfg.realtime[len(cfg.realtime)-1]
	if err := checkOpenFiles(most); err != nil {
		return nil, err
	}
	rr := &realtimeResult{Customers: max(most, cfg.realtimeSaves), OrdersPerUser: realtimeOrdersPerCustomer, Saves: cfg.realtimeSaves}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log.Printf("realtime: seeding %d users x %d orders", rr.Customers, rr.OrdersPerUser)
	d, err := runCmd(bin, "seed", "--dir", dir, "--users", fmt.Sprint(rr.Customers), "--orders-per-user", fmt.Sprint(rr.OrdersPerUser))
	if err != nil {
		return nil, err
	}
	rr.SeedSeconds = d.Seconds()
	log.Printf("realtime: seeded in %.1f s", rr.SeedSeconds)
	if _, err := runCmd(bin, "superuser", "upsert", suEmail, suPassword, "--dir", dir); err != nil {
		return nil, err
	}
	srv, err := startServer(bin, dir, env)
	if err != nil {
		return nil, err
	}
	rr.startupsMS = append(rr.startupsMS, ms(srv.startup))
	shop, err := realtimeSetup(srv.base, rr.Customers, cfg.stripe)
	srv.stop()
	if err != nil {
		return nil, err
	}

	// Each run pays orders of its own: the first payment of an order saves
	// it (and broadcasts it), later events of it find it paid.
	counts := append([]int{0}, cfg.realtime...)
	share := len(shop.pending) / len(counts)
	for i, n := range counts {
		run, startup, err := runRealtime(cfg, bin, dir, env, shop, n, shop.pending[i*share:(i+1)*share])
		if err != nil {
			return nil, fmt.Errorf("%d connected: %w", n, err)
		}
		rr.startupsMS = append(rr.startupsMS, startup)
		rr.Runs = append(rr.Runs, run)
	}
	return rr, nil
}

// realtimeSetup gets the tokens of n customers and of support, a paid
// order of each customer, and what the checkout and webhook attacks need.
func realtimeSetup(base string, n int, stripe bool) (*realtimeShop, error) {
	su, ids, tokens, err := setup(base, n)
	if err != nil {
		return nil, err
	}
	if len(ids) < n {
		return nil, fmt.Errorf("%d customers seeded, %d needed", len(ids), n)
	}
	shop := &realtimeShop{suToken: su.token, customers: ids, tokens: tokens, paid: map[string]string{}}
	support, err := su.userIDs("support", 1)
	if err != nil || len(support) == 0 {
		return nil, fmt.Errorf("no support user: %v", err)
	}
	supportTokens, err := su.impersonate(support)
	if err != nil {
		return nil, err
	}
	shop.support = supportTokens[0]
	for page := 1; ; page++ {
		var list struct {
			Items []struct {
				ID   string `json:"id"`
				User string `json:"user"`
			} `json:"items"`
		}
		q := url.Values{"filter": {"status='paid'"}, "perPage": {"500"}, "fields": {"id,user"},
			"page": {fmt.Sprint(page)}, "skipTotal": {"1"}}
		if err := su.do("GET", "/api/collections/orders/records?"+q.Encode(), nil, &list); err != nil {
			return nil, err
		}
		for _, o := range list.Items {
			shop.paid[o.User] = o.ID
		}
		if len(list.Items) < 500 {
			break
		}
	}
	if stripe {
		if shop.product, shop.pending, err = stripeSetup(su); err != nil {
			log.Printf("realtime: checkout and webhook skipped: %v", err)
		}
	}
	return shop, nil
}

// runRealtime starts the server, connects n customers, and measures the
// saves, then checkout and webhook attacks, with them listening; it returns
// the run and the server's start-up in ms.
func runRealtime(cfg config, bin, dir string, env []string, shop *realtimeShop, n int, pending []pendingOrder) (*realtimeRun, float64, error) {
	if err := clearRequestLogs(dir); err != nil {
		return nil, 0, fmt.Errorf("clear the request log: %w", err)
	}
	started := time.Now()
	srv, err := startServer(bin, dir, env)
	if err != nil {
		return nil, 0, err
	}
	defer srv.stop()
	run := &realtimeRun{Connected: n, Addresses: (n + connectionsPerAddress - 1) / connectionsPerAddress}
	time.Sleep(time.Second)
	run.RSSBeforeMB = srv.rssMB()

	t := &tally{}
	connecting := time.Now()
	listeners, err := connectCustomers(srv.base, shop.customers[:n], shop.tokens[:n], t)
	defer t.closeAll(listeners) // before the server stops: it would wait for them
	if err != nil {
		return nil, 0, err
	}
	run.ConnectSeconds = time.Since(connecting).Seconds()
	time.Sleep(time.Second)
	run.RSSConnectedMB = srv.rssMB()
	if n > 0 {
		run.KBPerConnection = (run.RSSConnectedMB - run.RSSBeforeMB) * 1024 / float64(n)
	}
	log.Printf("realtime: %d connected from %d addresses in %.1f s; RSS %.1f → %.1f MB",
		n, run.Addresses, run.ConnectSeconds, run.RSSBeforeMB, run.RSSConnectedMB)

	targets := saveTargets(shop, listeners, max(n, cfg.realtimeSaves))
	if len(targets) == 0 {
		return nil, 0, fmt.Errorf("no paid orders to update")
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: saveConcurrency}}
	defer client.CloseIdleConnections()
	for i, c := range []int{1, saveConcurrency} {
		// The second loop starts where the first stopped: other orders.
		from := i * cfg.realtimeSaves % len(targets)
		sr := saveOrders(client, srv.base, shop.support, slices.Concat(targets[from:], targets[:from]), cfg.realtimeSaves, c)
		log.Printf("realtime: %d connected, %d saves c=%d: p50 %.1f ms p99 %.1f ms; delivered %d p50 %.1f ms p99 %.1f ms, lost %d; errors %d %s",
			n, sr.Saves, c, sr.P50MS, sr.P99MS, sr.Delivered, sr.DeliveryP50MS, sr.DeliveryP99MS, sr.Lost, sr.Errors, sr.ErrorSample)
		run.Saves = append(run.Saves, sr)
	}

	if shop.product != "" {
		su := api{base: srv.base, token: shop.suToken}
		c := cfg.concurrency[len(cfg.concurrency)-1]
		buyers := shop.tokens[:min(len(shop.tokens), cfg.tokens)]
		bc := benchCase{fmt.Sprintf("checkout-%d-connected", n), "POST /api/v1/checkout (fake Stripe)", c, checkoutTarget(shop.product, buyers), nil}
		if run.Checkout, err = measure(cfg, srv, su, filepath.Base(bin), bc); err != nil {
			return nil, 0, err
		}
		if len(pending) > 0 {
			bc = benchCase{fmt.Sprintf("webhook-%d-connected", n), "POST /api/v1/stripe/webhook checkout.session.completed", c, webhookTarget(pending), nil}
			if run.Webhook, err = measure(cfg, srv, su, filepath.Base(bin), bc); err != nil {
				return nil, 0, err
			}
		}
	}

	time.Sleep(500 * time.Millisecond) // the last events on their way
	run.Events, run.Foreign, run.Dropped = t.events.Load(), t.foreign.Load(), t.dropped.Load()
	run.ForeignSample = t.sample()
	run.Seconds = time.Since(started).Seconds()
	if run.Foreign > 0 {
		log.Printf("SECURITY: %d of %d realtime events reached a customer who does not own the order, e.g. %s",
			run.Foreign, run.Events, run.ForeignSample)
	}
	log.Printf("realtime: %d connected: %d events, %d foreign, %d connections dropped; run %.1f s",
		n, run.Events, run.Foreign, run.Dropped, run.Seconds)
	return run, ms(srv.startup), nil
}

// checkOpenFiles makes sure this process may hold n connections. Go raises
// the soft open-file limit to the hard one at start-up, and the server,
// a Go program too, does the same for itself.
func checkOpenFiles(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < uint64(n)+1024 {
		return fmt.Errorf("%d realtime connections need more open files than the %d this process may hold: raise ulimit -n", n, lim.Cur)
	}
	return nil
}

// saveTarget is an order support updates, and its owner's connection (nil
// when the owner is not connected).
type saveTarget struct {
	order string
	owner *listener
}

// saveTargets is the paid orders of the first n customers, in random
// order, with the listeners of those connected.
func saveTargets(shop *realtimeShop, listeners []*listener, n int) []saveTarget {
	var targets []saveTarget
	for i, id := range shop.customers[:min(n, len(shop.customers))] {
		if order, ok := shop.paid[id]; ok {
			t := saveTarget{order: order}
			if i < len(listeners) {
				t.owner = listeners[i]
			}
			targets = append(targets, t)
		}
	}
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	return targets
}

// errLost is a save whose event did not reach the owner's connection.
var errLost = errors.New("no event on the owner's connection")

// saveOrders sends count saves of the targets' orders, conc at a time, and
// times each and its delivery to the owner.
func saveOrders(client *http.Client, base, token string, targets []saveTarget, count, conc int) *saveResult {
	res := &saveResult{Concurrency: conc, Saves: count}
	var mu sync.Mutex
	var saves, deliveries []time.Duration
	parallel(count, conc, func(i int) {
		save, delivery, err := saveOrder(client, base, token, targets[i%len(targets)])
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, errLost):
			res.Lost++
			saves = append(saves, save)
		case err != nil:
			res.Errors++
			res.ErrorSample = err.Error()
		default:
			saves = append(saves, save)
			if delivery > 0 {
				deliveries = append(deliveries, delivery)
			}
		}
	})
	res.P50MS, res.P99MS = percentile(saves, 0.5), percentile(saves, 0.99)
	res.Delivered = len(deliveries)
	res.DeliveryP50MS, res.DeliveryP99MS = percentile(deliveries, 0.5), percentile(deliveries, 0.99)
	return res
}

// arrivalSeq makes every save's arrival date new: a save that changes
// nothing would not be the one measured.
var arrivalSeq atomic.Int64

// saveOrder sets a new arrival date on the target's order as support, which
// support may do on a paid order, and, when its owner is connected, waits
// for that update's event on the owner's connection.
func saveOrder(client *http.Client, base, token string, t saveTarget) (save, delivery time.Duration, err error) {
	day := time.Now().UTC().Truncate(24 * time.Hour)
	arrival := day.Add(48*time.Hour + time.Duration(arrivalSeq.Add(1))*time.Minute).Format("2006-01-02 15:04:05.000Z")
	var heard chan time.Time
	if t.owner != nil {
		heard = t.owner.expect(t.order, arrival)
		defer t.owner.forget(t.order)
	}
	req, err := http.NewRequest(http.MethodPatch, base+"/api/collections/orders/records/"+t.order,
		strings.NewReader(fmt.Sprintf(`{"estimated_arrival":%q}`, arrival)))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	save = time.Since(sent)
	if resp.StatusCode != http.StatusOK {
		return save, 0, fmt.Errorf("PATCH order %s: %d %s", t.order, resp.StatusCode, body)
	}
	if heard == nil {
		return save, 0, nil
	}
	select {
	case at := <-heard:
		return save, at.Sub(sent), nil
	case <-time.After(deliveryTimeout):
		return save, 0, errLost
	}
}
