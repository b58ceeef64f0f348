package cache

import (
	"bytes"
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
			cache := newAnswers(time.Minute)
			if tc.warm {
				mustAnswer(t, cache, "alice", "other", "warm")
			}
			got := mustAnswer(t, cache, "alice", "page", "stale", func() { cache.Changed(tc.changeWhom) })
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
	cache := newAnswers(time.Nanosecond)
	mustAnswer(t, cache, "alice", "page", "one")
	if got := mustAnswer(t, cache, "alice", "page", "two"); got != "two" {
		t.Fatalf("read after the TTL %q, want two", got)
	}

	cache = newAnswers(time.Minute)
	big := string(bytes.Repeat([]byte("x"), answersMaxBytes/3))
	for _, owner := range []string{"a", "b", "c", "d"} {
		mustAnswer(t, cache, owner, "page", big)
	}
	if cache.bytes > answersMaxBytes {
		t.Fatalf("cache holds %d bytes, bound %d", cache.bytes, answersMaxBytes)
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
	cache := newAnswers(0)
	mustAnswer(t, cache, "alice", "page", "one")
	if got := mustAnswer(t, cache, "alice", "page", "two"); got != "two" {
		t.Fatalf("got %q, want two", got)
	}
}

// mustAnswer reads owner's key, building body (and running during, as
// if it happened while the queries ran) on a miss.
func mustAnswer(t *testing.T, cache *Answers, owner, key, body string, during ...func()) string {
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
