package access

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// TestRecordsReadsLeaveConnectionsForTheShop: when every records-API read
// slot is taken, the next read waits at most its deadline and is answered
// 503, instead of taking a connection the shop's own routes need.
func TestRecordsReadsLeaveConnectionsForTheShop(t *testing.T) {
	reads := &recordsReads{slots: make(chan struct{}, 1), timeout: 50 * time.Millisecond}
	read := func() error {
		e := &core.RequestEvent{}
		e.Request = httptest.NewRequest(http.MethodGet, "/api/collections/products/records", nil)
		e.Response = httptest.NewRecorder()
		return reads.guard(e)
	}
	if err := read(); err != nil {
		t.Fatalf("a read with a free slot: %v", err)
	}
	reads.slots <- struct{}{} // a slow read holds the only slot
	started := time.Now()
	err := read()
	var apiErr *router.ApiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("a read with no free slot: %v, want 503", err)
	}
	if waited := time.Since(started); waited > time.Second {
		t.Fatalf("waited %s for a slot, want about the 50 ms deadline", waited)
	}
	<-reads.slots
	if err := read(); err != nil {
		t.Fatalf("a read after the slot was freed: %v", err)
	}
}

func TestRecordsAPIPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/collections/orders/records":           true,
		"/api/collections/orders/records/abc":       true,
		"/api/collections/orders/records/abc/x":     false,
		"/api/collections//records":                 false,
		"/api/collections/orders":                   false,
		"/api/v1/purchases":                         false,
		"/api/collections/users/auth-with-password": false,
	} {
		if got := isRecordsAPIPath(path); got != want {
			t.Errorf("isRecordsAPIPath(%q) = %v, want %v", path, got, want)
		}
	}
}
