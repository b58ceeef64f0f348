package metrics

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/prometheus/client_golang/prometheus"
)

// requestBuckets are the upper bounds of request durations, finer below
// the 30 ms the purchases page aims at (docs/performance.md).
var requestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// requests counts and times every request by its route: the pattern the
// router matched (`GET /api/collections/{collection}/records`), never the
// path, so that ids in paths add no series. The histogram leaves the
// status out, to keep its buckets from multiplying by every status code.
type requests struct {
	total    *prometheus.CounterVec   // route, method, code
	duration *prometheus.HistogramVec // route, method

	// series keeps the counter and histogram of each route, method and
	// status once looked up: the client's own lookup by label values
	// hashes them and formats the status on every request. The map is
	// copied to add a series (a few hundred at most, nearly all in the
	// first minutes), so that a request reads it without a lock.
	mu     sync.Mutex // held while adding a series
	series atomic.Pointer[map[requestKey]requestSeries]
}

type requestKey struct {
	route, method string
	code          int
}

type requestSeries struct {
	count   prometheus.Counter
	seconds prometheus.Observer
}

func newRequests() *requests {
	r := &requests{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopdash_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopdash_http_request_duration_seconds",
			Help:    "Time from the request reaching the router to the handler's return, by route pattern and method.",
			Buckets: requestBuckets,
		}, []string{"route", "method"}),
	}
	r.series.Store(&map[requestKey]requestSeries{})
	return r
}

// handler is the middleware, bound first of all (before PocketBase's
// CORS, activity log, panic recovery, auth and rate limits), so that it
// counts the requests they answer and times everything they do.
func (r *requests) handler() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "shopdashRequestMetrics",
		Priority: apis.DefaultWWWRedirectMiddlewarePriority - 1,
		Func: func(e *core.RequestEvent) error {
			started := time.Now()
			route, method := e.Request.Pattern, e.Request.Method
			err := e.Next()
			r.observe(route, method, responseStatus(e, err), time.Since(started))
			return err
		},
	}
}

// responseStatus is the status the client gets: the one written, or the
// one PocketBase's error handler writes for err after the middlewares.
func responseStatus(e *core.RequestEvent, err error) int {
	switch {
	case e.Written():
		return e.Status()
	case err != nil:
		return router.ToApiError(err).Status
	}
	return http.StatusOK // what net/http sends for a handler that wrote nothing
}

func (r *requests) observe(route, method string, code int, took time.Duration) {
	key := requestKey{route: route, method: methodLabel(method), code: code}
	s, ok := (*r.series.Load())[key]
	if !ok {
		s = r.newSeries(key)
	}
	s.count.Inc()
	s.seconds.Observe(took.Seconds())
}

func (r *requests) newSeries(key requestKey) requestSeries {
	r.mu.Lock()
	defer r.mu.Unlock()
	known := *r.series.Load()
	if s, ok := known[key]; ok {
		return s
	}
	route := key.route
	if route == "" {
		route = "unmatched" // never seen: PocketBase adds a catch-all route
	}
	s := requestSeries{
		count:   r.total.WithLabelValues(route, key.method, strconv.Itoa(key.code)),
		seconds: r.duration.WithLabelValues(route, key.method),
	}
	next := maps.Clone(known)
	next[key] = s
	r.series.Store(&next)
	return s
}

// methodLabel keeps the method label to the methods of HTTP: a route
// without a method in its pattern (the catch-all) accepts any word.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}
