package hooks

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAnswerCacheNeverStoresAReadOverlappingAChange: an answer whose
// queries began before a change of its owner (and so may predate it) is
// served once but not kept, whether the owner had answers cached or not.
func TestAnswerCacheNeverStoresAReadOverlappingAChange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		warm       bool // the owner has an answer cached before the read
		changeWhom string
	}{
		{"owner with answers", true, "alice"},
		{"owner without answers", false, "alice"},
		{"unknown other owner", false, "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := newAnswerCache(time.Minute)
			if tc.warm {
				mustAnswer(t, cache, "alice", "other", "warm")
			}
			got := mustAnswer(t, cache, "alice", "page", "stale", func() { cache.changed(tc.changeWhom) })
			if got != "stale" {
				t.Fatalf("first read %q", got)
			}
			if again := mustAnswer(t, cache, "alice", "page", "fresh"); again != "fresh" {
				t.Fatalf("second read %q: the read that overlapped a change was kept", again)
			}
			if again := mustAnswer(t, cache, "alice", "page", "newer"); again != "fresh" {
				t.Fatalf("third read %q: a read after the change was not kept", again)
			}
		})
	}
}

// TestAnswerCacheExpiresAndStaysBounded: answers last the TTL, and
// going past the byte bound empties the cache instead of growing it.
func TestAnswerCacheExpiresAndStaysBounded(t *testing.T) {
	cache := newAnswerCache(time.Nanosecond)
	mustAnswer(t, cache, "alice", "page", "one")
	if got := mustAnswer(t, cache, "alice", "page", "two"); got != "two" {
		t.Fatalf("read after the TTL %q, want two", got)
	}

	cache = newAnswerCache(time.Minute)
	big := string(bytes.Repeat([]byte("x"), answerCacheMaxBytes/3))
	for _, owner := range []string{"a", "b", "c", "d"} {
		mustAnswer(t, cache, owner, "page", big)
	}
	if cache.bytes > answerCacheMaxBytes {
		t.Fatalf("cache holds %d bytes, bound %d", cache.bytes, answerCacheMaxBytes)
	}
	if got := mustAnswer(t, cache, "d", "page", "rebuilt"); got != big {
		t.Fatal("the answer stored after emptying is gone")
	}
	if got := mustAnswer(t, cache, "a", "page", "rebuilt"); got != "rebuilt" {
		t.Fatal("an answer from before emptying is still served")
	}
}

// TestAnswerCacheOffBuildsEveryTime: a zero TTL caches nothing.
func TestAnswerCacheOffBuildsEveryTime(t *testing.T) {
	cache := newAnswerCache(0)
	mustAnswer(t, cache, "alice", "page", "one")
	if got := mustAnswer(t, cache, "alice", "page", "two"); got != "two" {
		t.Fatalf("got %q, want two", got)
	}
}

// mustAnswer reads owner's key, building body (and running during, as
// if it happened while the queries ran) on a miss.
func mustAnswer(t *testing.T, cache *answerCache, owner, key, body string, during ...func()) string {
	t.Helper()
	got, err := cache.answer(owner, key, func() ([]byte, error) {
		for _, f := range during {
			f()
		}
		return []byte(body), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

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
