package main

import (
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// abuseResult is the abuse case (issue 13): costly-filter loops of signed-in
// customers and guests run while a customer checks out and reads purchases.
type abuseResult struct {
	Attackers        int            `json:"attackers"`
	AttackRequests   int            `json:"attack_requests"`
	AttackStatuses   map[string]int `json:"attack_statuses"`
	AttackMaxMS      float64        `json:"attack_max_ms"`
	CheckoutMaxMS    float64        `json:"checkout_max_ms"`
	PurchasesMaxMS   float64        `json:"purchases_max_ms"`
	Probes           int            `json:"probes"`
	ProbeErrors      int            `json:"probe_errors"`
	ProbeErrorSample string         `json:"probe_error_sample,omitempty"`
}

// abuseFilters are what the attackers send in turn: the filters that
// stalled the shop before the records guard (now refused at once) and the
// costliest ones it still accepts (bounded by its deadline).
var abuseFilters = struct{ signedIn, guest []string }{
	signedIn: []string{
		"/api/collections/orders/records?perPage=1&filter=" + url.QueryEscape(`1=1) || (order_items_via_order.product.order_items_via_product.order.order_items_via_order.product_name ?~ "%q%z"`),
		"/api/collections/orders/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_order.product.order_items_via_product.order.order_items_via_order.product_name ?~ "%q%z"`),
		"/api/collections/order_items/records?perPage=1&filter=" + url.QueryEscape(`order.order_items_via_order.product_name ~ "%q%z"`),
		"/api/collections/products/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_product.product_name ~ "%q%z"`),
	},
	guest: []string{
		"/api/collections/products/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_product.order.order_items_via_order.product_name ~ "%q%z"`),
		"/api/collections/products/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_product.product_name ~ "%q%z"`),
		"/api/collections/products/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_product.quantity ?> 1000`),
		"/api/collections/products/records?perPage=1&filter=" + url.QueryEscape(`order_items_via_product.order.number ?~ "%q%z"`),
	},
}

// runAbuseCase starts a server, runs 4 signed-in and 8 guest attack loops
// for the case's duration, and meanwhile checks out and reads purchases
// every 100 ms as one more customer, recording the slowest answer of each.
func runAbuseCase(cfg config, bin, dir string, env []string, tokens []string, product string) (*abuseResult, error) {
	srv, err := startServer(bin, dir, env)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path, token string) (int, time.Duration, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		started := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, time.Since(started), err
		}
		res.Body.Close()
		return res.StatusCode, time.Since(started), nil
	}

	res := &abuseResult{Attackers: 12, AttackStatuses: map[string]int{}}
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	attack := func(paths []string, token string) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			status, took, err := get(paths[i%len(paths)], token)
			mu.Lock()
			res.AttackRequests++
			key := fmt.Sprint(status)
			if err != nil {
				key = "error"
			}
			res.AttackStatuses[key]++
			res.AttackMaxMS = max(res.AttackMaxMS, ms(took))
			mu.Unlock()
		}
	}
	for i := range 4 {
		wg.Add(1)
		go attack(abuseFilters.signedIn, tokens[i%len(tokens)])
	}
	for range 8 {
		wg.Add(1)
		go attack(abuseFilters.guest, "")
	}

	customer := tokens[len(tokens)-1]
	checkout := []byte(fmt.Sprintf(`{"items":[{"product":%q,"quantity":1}]}`, product))
	deadline := time.Now().Add(cfg.duration)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/checkout", strings.NewReader(string(checkout)))
		req.Header.Set("Authorization", customer)
		req.Header.Set("Content-Type", "application/json")
		started := time.Now()
		r, err := client.Do(req)
		res.CheckoutMaxMS = max(res.CheckoutMaxMS, ms(time.Since(started)))
		res.Probes++
		switch {
		case err != nil:
			res.ProbeErrors++
			res.ProbeErrorSample = err.Error()
		case r.StatusCode != http.StatusCreated:
			res.ProbeErrors++
			res.ProbeErrorSample = fmt.Sprintf("checkout %d", r.StatusCode)
		}
		if r != nil {
			r.Body.Close()
		}
		status, took, err := get("/api/v1/purchases?sort=-created&page="+fmt.Sprint(1+rand.IntN(3)), customer)
		res.PurchasesMaxMS = max(res.PurchasesMaxMS, ms(took))
		res.Probes++
		if err != nil || status != http.StatusOK {
			res.ProbeErrors++
			res.ProbeErrorSample = fmt.Sprintf("purchases %d %v", status, err)
		}
	}
	close(stop)
	wg.Wait()
	log.Printf("abuse: %d attack requests %v, slowest %.0f ms; checkout slowest %.0f ms, purchases slowest %.0f ms, %d/%d probes failed",
		res.AttackRequests, res.AttackStatuses, res.AttackMaxMS, res.CheckoutMaxMS, res.PurchasesMaxMS, res.ProbeErrors, res.Probes)
	return res, nil
}
