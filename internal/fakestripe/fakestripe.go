// Package fakestripe is a stateful fake of the parts of Stripe's API the
// shop calls, for tests: an httptest.Server behind stripe-go's backend
// (STRIPE_API_BASE). It records every request with its form values and
// idempotency key, replays a repeated idempotency key like Stripe does,
// and fails on demand.
package fakestripe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one call the fake received.
type Request struct {
	Method         string
	Path           string
	IdempotencyKey string
	Form           url.Values
}

// Server is the fake. Its zero state has no objects.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	failures map[string][]int         // route → statuses of the next calls
	failAt   map[string]map[int]int   // route → call number → status
	calls    map[string]int           // route → calls so far
	delays   map[string]time.Duration // route → wait before answering
	replies  map[string]reply         // idempotency key → first reply
	seq      int
	sessions map[string]map[string]any
	products map[string]map[string]any
	prices   map[string]map[string]any
	invoices []map[string]any
	refunds  []map[string]any
	events   []map[string]any
}

// reply is the first answer to an idempotency key, and the request it
// answered: Stripe replays it to the same request and refuses the key for
// any other.
type reply struct {
	request string
	status  int
	body    []byte
}

// New starts a fake for the test and stops it at the end.
func New(tb testing.TB) *Server {
	s := &Server{
		failures: map[string][]int{},
		failAt:   map[string]map[int]int{},
		calls:    map[string]int{},
		delays:   map[string]time.Duration{},
		replies:  map[string]reply{},
		sessions: map[string]map[string]any{},
		products: map[string]map[string]any{},
		prices:   map[string]map[string]any{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/sessions", s.createSession)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}", s.getObject(s.sessions))
	mux.HandleFunc("POST /v1/checkout/sessions/{id}/expire", s.expireSession)
	mux.HandleFunc("POST /v1/refunds", s.createRefund)
	mux.HandleFunc("GET /v1/refunds", s.listRefunds)
	mux.HandleFunc("POST /v1/products", s.createProduct)
	mux.HandleFunc("POST /v1/products/{id}", s.updateObject(s.products))
	mux.HandleFunc("POST /v1/prices", s.createPrice)
	mux.HandleFunc("GET /v1/prices/{id}", s.getObject(s.prices))
	mux.HandleFunc("POST /v1/prices/{id}", s.updateObject(s.prices))
	mux.HandleFunc("GET /v1/invoices", s.listInvoices)
	mux.HandleFunc("GET /v1/events", s.listEvents)
	mux.HandleFunc("GET /v1/products", s.listObjects(s.products))
	mux.HandleFunc("GET /v1/prices", s.listObjects(s.prices))
	s.Server = httptest.NewServer(s.record(mux))
	tb.Cleanup(s.Close)
	return s
}

// Fail makes the next calls of a route ("POST /v1/refunds") answer the
// statuses, one call each, with a Stripe error body.
func (s *Server) Fail(route string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[route] = append(s.failures[route], statuses...)
}

// FailCall makes the n-th call (1-based, counted from the start) of a
// route answer status, e.g. the 13th page of an invoice list.
func (s *Server) FailCall(route string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAt[route] == nil {
		s.failAt[route] = map[int]int{}
	}
	s.failAt[route][n] = status
}

// Delay makes every later call of a route wait d before it is served, as
// a slow Stripe does.
func (s *Server) Delay(route string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[route] = d
}

// Calls returns how many calls a route has had.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// Requests returns the calls of a route ("POST /v1/checkout/sessions"),
// or of every route for "".
func (s *Server) Requests(route string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if route == "" || r.Method+" "+routeOf(r.Path) == route {
			out = append(out, r)
		}
	}
	return out
}

// Session returns a Checkout Session the fake holds.
func (s *Server) Session(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// CompleteSession marks a session paid, as when the customer pays, with
// a payment intent of its own, and returns it as a
// checkout.session.completed event carries it.
func (s *Server) CompleteSession(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	session := s.sessions[id]
	session["status"] = "complete"
	session["payment_status"] = "paid"
	session["payment_intent"] = "pi_" + strings.TrimPrefix(id, "cs_")
	copied := make(map[string]any, len(session))
	for k, v := range session {
		copied[k] = v
	}
	return copied
}

// Refunds returns the refunds made of a payment intent, with their amounts.
func (s *Server) Refunds(paymentIntent string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.refunds {
		if r["payment_intent"] == paymentIntent {
			out = append(out, r)
		}
	}
	return out
}

// Price returns a price the fake holds.
func (s *Server) Price(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prices[id]
}

// routeOf turns /v1/products/prod_1 into /v1/products/{id}: Stripe ids
// are the path segments with an underscore.
func routeOf(path string) string {
	parts := strings.Split(path, "/")
	for i, part := range parts {
		if strings.Contains(part, "_") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// record logs each call, serves planned failures and, as Stripe does,
// replays the first answer to a repeated idempotency key when the request
// is the same (route and parameters) and refuses the key otherwise.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "bad form")
			return
		}
		key := r.Header.Get("Idempotency-Key")
		route := r.Method + " " + routeOf(r.URL.Path)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: key, Form: r.PostForm})
		s.calls[route]++
		if d := s.delays[route]; d > 0 {
			s.mu.Unlock()
			time.Sleep(d)
			s.mu.Lock()
		}
		if status, ok := s.failAt[route][s.calls[route]]; ok {
			s.mu.Unlock()
			writeError(w, status, "fake failure")
			return
		}
		if statuses := s.failures[route]; len(statuses) > 0 {
			s.failures[route] = statuses[1:]
			s.mu.Unlock()
			writeError(w, statuses[0], "fake failure")
			return
		}
		request := route + "?" + r.PostForm.Encode()
		if prev, ok := s.replies[key]; ok && key != "" {
			s.mu.Unlock()
			if prev.request != request {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "idempotency_error",
					"message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}})
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
		s.mu.Unlock()
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if key != "" && r.Method == http.MethodPost {
			s.mu.Lock()
			s.replies[key] = reply{request, rec.Code, rec.Body.Bytes()}
			s.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return prefix + strconv.Itoa(s.seq)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	kind := "api_error"
	if status < 500 {
		kind = "invalid_request_error"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"type": kind, "message": message}})
}

// metadata reads the metadata[key] form values.
func metadata(form url.Values) map[string]any {
	out := map[string]any{}
	for k, v := range form {
		if key, ok := strings.CutPrefix(k, "metadata["); ok {
			out[strings.TrimSuffix(key, "]")] = v[0]
		}
	}
	return out
}

// sessionAmount is what a session's line items come to, and their
// currency: price_data lines are priced by the request; lines of a stored
// price by the fake's prices.
func (s *Server) sessionAmount(form url.Values) (int64, string) {
	var total int64
	currency := ""
	for i := 0; ; i++ {
		line := fmt.Sprintf("line_items[%d]", i)
		qty, err := strconv.ParseInt(form.Get(line+"[quantity]"), 10, 64)
		if err != nil {
			return total, currency
		}
		unit, _ := strconv.ParseInt(form.Get(line+"[price_data][unit_amount]"), 10, 64)
		cur := form.Get(line + "[price_data][currency]")
		if price, ok := s.prices[form.Get(line+"[price]")]; ok {
			unit, _ = price["unit_amount"].(int64)
			cur, _ = price["currency"].(string)
		}
		total += unit * qty
		currency = cur
	}
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("cs_test_")
	amount, currency := s.sessionAmount(r.PostForm)
	session := map[string]any{
		"id": id, "object": "checkout.session", "mode": r.PostForm.Get("mode"),
		"url":                 "https://checkout.stripe.test/c/pay/" + id,
		"status":              "open",
		"payment_status":      "unpaid",
		"client_reference_id": r.PostForm.Get("client_reference_id"),
		"customer_email":      r.PostForm.Get("customer_email"),
		"success_url":         r.PostForm.Get("success_url"),
		"cancel_url":          r.PostForm.Get("cancel_url"),
		"metadata":            metadata(r.PostForm),
		"amount_total":        amount,
		"currency":            currency,
	}
	s.sessions[id] = session
	writeJSON(w, http.StatusOK, session)
}

func (s *Server) expireSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	session, ok := s.sessions[r.PathValue("id")]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "No such checkout.session")
	case session["status"] != "open":
		writeError(w, http.StatusBadRequest, "Only Checkout Sessions with a status in [\"open\"] can be expired.")
	default:
		session["status"] = "expired"
		writeJSON(w, http.StatusOK, session)
	}
}

// createRefund refunds a payment intent. One of a session the fake
// completed cannot be refunded more than the session paid (400, as Stripe
// refuses it); a refund with no amount refunds what remains.
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intent := r.PostForm.Get("payment_intent")
	amount, _ := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	if paid, ok := s.paidBy(intent); ok {
		left := paid - s.refunded(intent)
		if amount == 0 {
			amount = left
		}
		if left <= 0 || amount > left {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left))
			return
		}
	}
	refund := map[string]any{
		"id": s.nextID("re_"), "object": "refund", "status": "succeeded",
		"payment_intent": intent, "amount": amount,
		"reason": r.PostForm.Get("reason"), "metadata": metadata(r.PostForm),
	}
	s.refunds = append(s.refunds, refund)
	writeJSON(w, http.StatusOK, refund)
}

// paidBy is what a payment intent paid: the total of the session that
// CompleteSession paid with it; false for a payment intent the fake did not
// make (a test's own), whose refunds are not bounded.
func (s *Server) paidBy(intent string) (int64, bool) {
	for _, session := range s.sessions {
		if session["payment_intent"] == intent {
			return toInt64(session["amount_total"]), true
		}
	}
	return 0, false
}

// refunded is what the refunds of a payment intent come to.
func (s *Server) refunded(intent string) int64 {
	var total int64
	for _, r := range s.refunds {
		if r["payment_intent"] == intent {
			total += toInt64(r["amount"])
		}
	}
	return total
}

// listRefunds serves the refunds newest first, of one payment intent when
// payment_intent is given, paged by limit and starting_after, as Stripe
// lists.
func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intent := r.URL.Query().Get("payment_intent")
	page, more := newestFirst(s.refunds, r.URL.Query(), func(refund map[string]any) bool {
		return intent == "" || refund["payment_intent"] == intent
	})
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": "/v1/refunds", "has_more": more, "data": page})
}
