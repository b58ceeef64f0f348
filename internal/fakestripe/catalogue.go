package fakestripe

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// The fake's catalogue and its lists: products, prices, invoices and
// events, paged newest first as Stripe pages them.

// newestFirst is one page of a list kept oldest first, as Stripe lists:
// newest first, the objects keep takes, at most limit (default 10, at
// most 100) after the one named by starting_after; more when others
// follow.
func newestFirst(objects []map[string]any, q url.Values, keep func(map[string]any) bool) (page []map[string]any, more bool) {
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	after := q.Get("starting_after")
	started := after == ""
	for i := len(objects) - 1; i >= 0 && len(page) <= limit; i-- {
		o := objects[i]
		switch {
		case !started:
			started = o["id"] == after
		case keep(o):
			page = append(page, o)
		}
	}
	if len(page) > limit {
		return page[:limit], true
	}
	return page, false
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("prod_")
	product := map[string]any{"id": id, "object": "product", "name": r.PostForm.Get("name"),
		"description": r.PostForm.Get("description"), "active": r.PostForm.Get("active") != "false"}
	s.products[id] = product
	writeJSON(w, http.StatusOK, product)
}

func (s *Server) createPrice(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("price_")
	amount, _ := strconv.ParseInt(r.PostForm.Get("unit_amount"), 10, 64)
	price := map[string]any{"id": id, "object": "price", "product": r.PostForm.Get("product"),
		"unit_amount": amount, "currency": r.PostForm.Get("currency"), "active": true, "type": "one_time"}
	s.prices[id] = price
	writeJSON(w, http.StatusOK, price)
}

func (s *Server) getObject(objects map[string]map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		obj, ok := objects[r.PathValue("id")]
		if !ok {
			writeError(w, http.StatusNotFound, "No such object")
			return
		}
		writeJSON(w, http.StatusOK, obj)
	}
}

// updateObject applies the scalar form values (name, active, ...) to an
// object.
func (s *Server) updateObject(objects map[string]map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		obj, ok := objects[r.PathValue("id")]
		if !ok {
			writeError(w, http.StatusNotFound, "No such object")
			return
		}
		for k, v := range r.PostForm {
			switch v[0] {
			case "true", "false":
				obj[k] = v[0] == "true"
			default:
				obj[k] = v[0]
			}
		}
		writeJSON(w, http.StatusOK, obj)
	}
}

// AddProducts adds Stripe product objects (with "id") the product list
// serves.
func (s *Server) AddProducts(products ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range products {
		s.products[p["id"].(string)] = p
	}
}

// listObjects serves the objects of a kind in one page, filtered by the
// product and active parameters as Stripe filters them.
func (s *Server) listObjects(objects map[string]map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		q := r.URL.Query()
		data := []map[string]any{}
		for _, o := range objects {
			if product := q.Get("product"); product != "" && o["product"] != product {
				continue
			}
			if active := q.Get("active"); active != "" && fmt.Sprint(o["active"]) != active {
				continue
			}
			data = append(data, o)
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": r.URL.Path, "has_more": false, "data": data})
	}
}

// AddInvoices adds invoice objects the invoice list serves, oldest first.
func (s *Server) AddInvoices(invoices ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invoices = append(s.invoices, invoices...)
}

// listInvoices serves the invoices newest first, paged by limit and
// starting_after, as Stripe lists.
func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	page, more := newestFirst(s.invoices, r.URL.Query(), func(map[string]any) bool { return true })
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": "/v1/invoices", "has_more": more, "data": page})
}

// AddEvents adds events the Events API serves, oldest first; each needs
// an id, a type, created (unix seconds) and data.object.
func (s *Server) AddEvents(events ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		e["object"] = "event"
		s.events = append(s.events, e)
	}
}

// listEvents serves the events newest first, created at or after
// created[gte], paged by limit and starting_after, as Stripe lists.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	since, _ := strconv.ParseInt(r.URL.Query().Get("created[gte]"), 10, 64)
	page, more := newestFirst(s.events, r.URL.Query(), func(e map[string]any) bool { return toInt64(e["created"]) >= since })
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": "/v1/events", "has_more": more, "data": page})
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
