package customer

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPurchasesCacheKeyNamesOnlyWhatDecidesTheAnswer: parameters that do
// not change the page, and repeated or reordered statuses, cannot make new
// cache entries; what does change it makes another key.
func TestPurchasesCacheKeyNamesOnlyWhatDecidesTheAnswer(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	keyAt := func(raw string, now time.Time) string {
		t.Helper()
		values, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := parsePurchasesQuery(values, now)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return q.cacheKey(values)
	}
	key := func(raw string) string { return keyAt(raw, now) }
	base := key("status=paid,pending")
	for _, same := range []string{
		"status=pending,paid", "status=paid,paid,pending,paid", "status=paid,pending&junk=" + strings.Repeat("x", 4096),
		"status=paid,pending&fields=id&page=1&perPage=20&sort=-created",
	} {
		if got := key(same); got != base {
			t.Errorf("%.60s: key %q, want %q", same, got, base)
		}
	}
	for _, other := range []string{"status=paid", "status=paid,pending&page=2", "status=paid,pending&sort=total",
		"status=paid,pending&from=2026-01-01", "status=paid,pending&to=2026-06-30"} {
		if key(other) == base {
			t.Errorf("%s: same key as %q", other, base)
		}
	}
	// Windows that end now are named so, not by the time of the request.
	for _, open := range []string{"", "from=2026-01-01"} {
		if a, b := keyAt(open, now), keyAt(open, now.Add(time.Millisecond)); a != b {
			t.Errorf("%q: key %q, a millisecond later %q", open, a, b)
		}
	}
	if len(base) > 200 {
		t.Errorf("key %d bytes long", len(base))
	}
}
