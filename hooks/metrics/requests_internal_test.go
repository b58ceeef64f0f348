package metrics

import (
	"testing"
	"time"
)

// TestObservingARequestAllocatesNothing: once its route has been seen,
// counting and timing a request allocates nothing.
func TestObservingARequestAllocatesNothing(t *testing.T) {
	r := newRequests()
	r.observe("GET /api/v1/purchases", "GET", 200, time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() {
		r.observe("GET /api/v1/purchases", "GET", 200, time.Millisecond)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request, want 0", allocs)
	}
}

// BenchmarkObserveRequest is what the middleware adds to a request
// besides reading the clock twice, from many goroutines at once.
func BenchmarkObserveRequest(b *testing.B) {
	r := newRequests()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.observe("GET /api/v1/purchases", "GET", 200, time.Millisecond)
		}
	})
}
