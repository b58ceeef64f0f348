package cache

import (
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/security"

	"shopdash/internal/prepared"
)

// authCacheMax is how many verified tokens are remembered at most.
const authCacheMax = 10_000

// authCache remembers the auth record of each token PocketBase has
// verified. PocketBase reads the record from the database on every signed-in
// request to check the token's signature against it: a quarter of the
// CPU time of GET /api/v1/purchases (docs/performance.md). Only tokens that
// passed that check are stored, each until its own expiry or the TTL, and
// every save or delete of an auth record, or change of an auth collection
// (its token secrets), forgets what it could make stale. The TTL bounds how
// long a change made by another process (a `shopdash` command on the same
// data directory) can go unseen.
type authCache struct {
	ttl time.Duration
	// stmts reads the token's record with a kept statement (verify.go).
	stmts prepared.Statements

	lookups Lookups

	mu      sync.RWMutex
	entries map[string]authCacheEntry // by token
	// generation moves on at every forget, so that a lookup that read the
	// database before a change cannot store what the change made stale.
	generation uint64
}

type authCacheEntry struct {
	record  *core.Record // never handed out: requests get clones
	expires time.Time
}

// RegisterAuth remembers verified tokens for at most ttl; with 0 every
// signed-in request reads its record again (verified as PocketBase does,
// verify.go) and nothing is remembered. It returns the count of its
// lookups (none when off).
func RegisterAuth(app core.App, ttl time.Duration) *Lookups {
	cache := &authCache{ttl: ttl, entries: map[string]authCacheEntry{}}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		// Before PocketBase's own loadAuthToken, which then finds e.Auth
		// set and steps aside; it still answers the tokens we do not know.
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "shopdashCachedAuth",
			Priority: apis.DefaultLoadAuthTokenMiddlewarePriority - 1,
			Func:     cache.loadAuth,
		})
		return se.Next()
	})
	if ttl <= 0 {
		return &Lookups{}
	}
	forgetRecord := func(e *core.RecordEvent) error {
		if e.Record.Collection().IsAuth() {
			cache.forget(e.Record.Id)
		}
		return e.Next()
	}
	app.OnRecordAfterUpdateSuccess().BindFunc(forgetRecord)
	app.OnRecordAfterDeleteSuccess().BindFunc(forgetRecord)
	forgetAll := func(e *core.CollectionEvent) error {
		if e.Collection.IsAuth() {
			cache.forget("")
		}
		return e.Next()
	}
	app.OnCollectionAfterUpdateSuccess().BindFunc(forgetAll)
	app.OnCollectionAfterDeleteSuccess().BindFunc(forgetAll)
	return &cache.lookups
}

// loadAuth sets e.Auth from the cache, or from PocketBase's verification
// of the token, which it then remembers.
func (a *authCache) loadAuth(e *core.RequestEvent) error {
	token := RequestToken(e)
	if token == "" || e.Auth != nil {
		return e.Next()
	}
	if a.ttl <= 0 {
		if record, err := verifyAuthToken(e.App, &a.stmts, token); err == nil {
			e.Auth = record
		}
		return e.Next() // on an error loadAuthToken tries again and leaves the request a guest
	}
	now := time.Now()
	if record := a.get(token, now); record != nil {
		a.lookups.hits.Add(1)
		e.Auth = record
		return e.Next()
	}
	a.lookups.misses.Add(1)
	generation := a.currentGeneration()
	record, err := verifyAuthToken(e.App, &a.stmts, token)
	if err != nil {
		return e.Next() // loadAuthToken tries again and leaves the request a guest
	}
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return e.Next()
	}
	expiry, err := claims.GetExpirationTime()
	if err != nil || expiry == nil {
		return e.Next()
	}
	expires := now.Add(a.ttl)
	if expiry.Before(expires) {
		expires = expiry.Time
	}
	a.put(token, record, expires, generation)
	e.Auth = record.Clone()
	return e.Next()
}

// RequestToken is the request's auth token, as PocketBase reads it.
func RequestToken(e *core.RequestEvent) string {
	token := e.Request.Header.Get("Authorization")
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		return token[7:]
	}
	return token
}

// get is a clone of the record of a remembered, unexpired token, or nil.
func (a *authCache) get(token string, now time.Time) *core.Record {
	a.mu.RLock()
	entry, ok := a.entries[token]
	a.mu.RUnlock()
	if !ok || !now.Before(entry.expires) {
		return nil
	}
	return entry.record.Clone()
}

func (a *authCache) currentGeneration() uint64 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.generation
}

// put remembers a verified token's record, unless something was forgotten
// since the lookup began. A full cache first drops its expired entries,
// and everything when none had expired.
func (a *authCache) put(token string, record *core.Record, expires time.Time, generation uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if generation != a.generation {
		return
	}
	if len(a.entries) >= authCacheMax {
		now := time.Now()
		for t, entry := range a.entries {
			if !now.Before(entry.expires) {
				delete(a.entries, t)
			}
		}
		if len(a.entries) >= authCacheMax {
			clear(a.entries)
		}
	}
	a.entries[token] = authCacheEntry{record: record.Clone(), expires: expires}
}

// forget drops the tokens of one auth record, or every token when
// recordID is empty.
func (a *authCache) forget(recordID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.generation++
	for token, entry := range a.entries {
		if recordID == "" || entry.record.Id == recordID {
			delete(a.entries, token)
		}
	}
}
