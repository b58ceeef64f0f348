// Package cache keeps, in the serving process, what the shop reads far
// more often than it changes: verified sign-ins (auth.go) and the JSON of
// the customer read routes (answers.go), each dropped by the changes that
// make it stale (docs/decisions/0008-read-caches.md).
package cache

import (
	"encoding/json/jsontext"
	"encoding/json/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// answersMaxBytes bounds the memory the cached answers take, their
// keys and bookkeeping included (answerSize).
const answersMaxBytes = 16 << 20

// answerOverhead is about what an answer costs besides its key and body:
// map entries, slice and time headers.
const answerOverhead = 128

// CatalogueOwner is the owner under which answers built from the catalogue
// alone (the featured products) are kept.
const CatalogueOwner = "\x00catalogue"

// Answers keeps the JSON of the customer read routes (purchases pages,
// the dashboard's parts) per owner: a customer, or the catalogue. They are
// read far more often than a customer's orders change, and each costs
// several SQLite queries (docs/performance.md).
//
// Every order, order item or product saved or deleted through this process
// forgets its owner's answers once the change is committed, so the next
// read sees it. An answer whose queries began before a change of its owner
// is never stored. What this process cannot see, a `shopdash` command
// writing to the same data directory, and the 12-month windows sliding
// with the clock, shows within the TTL.
type Answers struct {
	ttl     time.Duration // 0: the cache is off
	lookups Lookups

	mu     sync.Mutex
	clock  uint64 // counts changes
	owners map[string]*ownerAnswers
	// changedUnknown is the clock of the latest change to an owner without
	// answers, or of the latest purge: a read begun before it may be stale.
	changedUnknown uint64
	bytes          int
}

type ownerAnswers struct {
	changed uint64 // clock of the owner's latest change
	answers map[string]cachedAnswer
}

type cachedAnswer struct {
	body    []byte
	expires time.Time
}

// newAnswers is a cache of answers kept at most ttl; 0 turns it off.
func newAnswers(ttl time.Duration) *Answers {
	return &Answers{ttl: ttl, owners: map[string]*ownerAnswers{}}
}

// RegisterAnswers returns the cache of answers kept at most ttl (0:
// off), which forgets the answers of the owner of every order, order item
// and product change, after it is committed.
func RegisterAnswers(app core.App, ttl time.Duration) *Answers {
	cache := newAnswers(ttl)
	forgetAnswers := func(e *core.RecordEvent) error {
		field := c.OrderUser
		if e.Record.Collection().Name == c.OrderItems {
			field = c.ItemUser
		}
		cache.Changed(e.Record.GetString(field))
		if original := e.Record.Original(); original != nil {
			cache.Changed(original.GetString(field))
		}
		return e.Next()
	}
	forgetCatalogue := func(e *core.RecordEvent) error {
		cache.Changed(CatalogueOwner)
		return e.Next()
	}
	for _, collection := range []string{c.Orders, c.OrderItems} {
		app.OnRecordAfterCreateSuccess(collection).BindFunc(forgetAnswers)
		app.OnRecordAfterUpdateSuccess(collection).BindFunc(forgetAnswers)
		app.OnRecordAfterDeleteSuccess(collection).BindFunc(forgetAnswers)
	}
	app.OnRecordAfterCreateSuccess(c.Products).BindFunc(forgetCatalogue)
	app.OnRecordAfterUpdateSuccess(c.Products).BindFunc(forgetCatalogue)
	app.OnRecordAfterDeleteSuccess(c.Products).BindFunc(forgetCatalogue)
	return cache
}

// Lookups counts the answers served from the cache (hits) and those built
// (misses); none while the cache is off.
func (a *Answers) Lookups() *Lookups { return &a.lookups }

// answer is the cached answer of owner under key, or what build makes of
// it, stored for the next read when no change of owner came in between.
func (a *Answers) answer(owner, key string, build func() ([]byte, error)) ([]byte, error) {
	if a.ttl <= 0 {
		return build()
	}
	now := time.Now()
	a.mu.Lock()
	if o := a.owners[owner]; o != nil {
		if hit, ok := o.answers[key]; ok && now.Before(hit.expires) {
			a.mu.Unlock()
			a.lookups.hits.Add(1)
			return hit.body, nil
		}
	}
	began := a.clock
	a.mu.Unlock()
	a.lookups.misses.Add(1)

	body, err := build()
	if err != nil {
		return nil, err
	}
	a.store(owner, key, body, began, now.Add(a.ttl))
	return body, nil
}

// JSON is answer for a build that returns a value, encoded as
// PocketBase's e.JSON would.
func (a *Answers) JSON(owner, key string, build func() (any, error)) ([]byte, error) {
	return a.answer(owner, key, func() ([]byte, error) {
		v, err := build()
		if err != nil {
			return nil, err
		}
		return Marshal(v)
	})
}

// store keeps body unless owner changed after began. A full cache is
// emptied: simpler than tracking use, and refilled by the next reads.
func (a *Answers) store(owner, key string, body []byte, began uint64, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.owners[owner]
	if (o != nil && o.changed > began) || (o == nil && a.changedUnknown > began) {
		return
	}
	size := answerSize(key, body)
	if a.bytes+size > answersMaxBytes {
		clear(a.owners)
		a.bytes = 0
		a.changedUnknown = a.clock
		o = nil
	}
	if o == nil {
		// Its latest change, if any, is at most changedUnknown.
		o = &ownerAnswers{changed: a.changedUnknown, answers: map[string]cachedAnswer{}}
		a.owners[owner] = o
	}
	if old, ok := o.answers[key]; ok {
		a.bytes -= answerSize(key, old.body)
	}
	o.answers[key] = cachedAnswer{body: body, expires: expires}
	a.bytes += size
}

// answerSize is what an answer counts against answersMaxBytes.
func answerSize(key string, body []byte) int {
	return len(key) + len(body) + answerOverhead
}

// Changed forgets the answers of owner (nothing for an empty owner: an
// order or item of a deleted account).
func (a *Answers) Changed(owner string) {
	if owner == "" || a.ttl <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clock++
	o := a.owners[owner]
	if o == nil {
		a.changedUnknown = a.clock
		return
	}
	for key, answer := range o.answers {
		a.bytes -= answerSize(key, answer.body)
	}
	o.changed = a.clock
	clear(o.answers)
}

// Lookups counts what a cache answered from memory (hits) and what it had
// to read from the database (misses), for /metrics (docs/metrics.md).
type Lookups struct {
	hits, misses atomic.Uint64
}

// Counts returns the hits and misses so far.
func (l *Lookups) Counts() (hits, misses uint64) {
	return l.hits.Load(), l.misses.Load()
}

// Marshal encodes an answer as PocketBase's e.JSON does.
func Marshal(v any) ([]byte, error) {
	return json.Marshal(v, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
}

// Write sends a cached JSON answer as it is stored. Only a request
// that picks fields (?fields=) goes through PocketBase's e.JSON, which
// would otherwise re-encode every byte: 17% of the CPU of a cached
// purchases page.
func Write(e *core.RequestEvent, body []byte) error {
	if e.Request.URL.Query().Has("fields") {
		return e.JSON(http.StatusOK, jsontext.Value(body))
	}
	return e.Blob(http.StatusOK, "application/json", body)
}
