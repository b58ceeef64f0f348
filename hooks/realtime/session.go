package realtime

import (
	"context"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// sessionEndedKey is where a connection keeps the test of whether the
// session it subscribed with has ended (WatchSession).
const sessionEndedKey = "shopdash.realtime.sessionEnded"

// WatchSession makes a connection's sign-in last only as long as the
// session it subscribed with: once ended reports true, its events are
// those of a guest, as if it had never signed in, until it subscribes
// again with a token of a live session. A nil ended (a superuser, an
// impersonation) leaves the sign-in to PocketBase's token key alone.
func WatchSession(client subscriptions.Client, ended func() bool) {
	if ended == nil {
		client.Unset(sessionEndedKey)
		return
	}
	client.Set(sessionEndedKey, ended)
}

// signedInAs is the record a connection listens as: its auth record, or
// nil for a guest and for a connection whose session has ended.
func signedInAs(client subscriptions.Client) *core.Record {
	auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record)
	if auth == nil {
		return nil
	}
	if ended, ok := client.Get(sessionEndedKey).(func() bool); ok && ended() {
		return nil
	}
	return auth
}

// authRecheckEvery is how often the sign-ins of the realtime connections
// are compared with the accounts as stored. A new token key or a deletion
// made in this process reaches them at once (updateAuth, and PocketBase for
// the clients of its broker); one made by another process (`shopdash
// sessions revoke`, a password set by a command) is seen only here.
var authRecheckEvery = 10 * time.Second

// authRecheckBatch is how many accounts one query of the recheck reads.
const authRecheckBatch = 500

// recheckAuthWhileServing runs recheckAuth every authRecheckEvery while
// the app serves.
func (b *Broadcaster) recheckAuthWhileServing(se *core.ServeEvent) error {
	ctx, cancel := context.WithCancel(context.Background())
	every := authRecheckEvery
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				b.recheckAuth()
			}
		}
	}()
	se.App.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		cancel()
		return e.Next()
	})
	return se.Next()
}

// recheckAuth ends the sign-in of every connection whose account has
// another token key, or none, in the database, or whose collection has
// another token secret: what such a change made in this process does at
// once.
func (b *Broadcaster) recheckAuth() {
	clients := b.connections.signedIn()
	for _, client := range b.connections.broker.Clients() {
		clients = appendSignedIn(clients, client)
	}
	idsByCollection, seen := map[string][]any{}, map[string]bool{}
	for _, sc := range clients {
		if key := sc.auth.Collection().Id + "/" + sc.auth.Id; !seen[key] {
			seen[key] = true
			idsByCollection[sc.auth.Collection().Id] = append(idsByCollection[sc.auth.Collection().Id], sc.auth.Id)
		}
	}
	stored := map[string]*storedAuth{} // by collection id
	for collectionID, ids := range idsByCollection {
		s, err := b.readStoredAuth(collectionID, ids)
		if err != nil {
			b.app.Logger().Warn("realtime: recheck the sign-ins", "collection", collectionID, "error", err.Error())
			continue
		}
		stored[collectionID] = s
	}
	for _, sc := range clients {
		// Only the sign-in that was read: one made meanwhile stands.
		current, _ := sc.client.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if s := stored[sc.auth.Collection().Id]; current == sc.auth && s != nil && !s.accepts(sc.auth) {
			sc.client.Unset(apis.RealtimeClientAuthKey)
		}
	}
}

// storedAuth is what the database holds of some records of an auth
// collection: the collection's token secret and the records' token keys,
// by id (a deleted record is missing).
type storedAuth struct {
	secret    string
	tokenKeys map[string]string
}

// accepts reports whether tokens of auth, as the connection holds it,
// would still be taken.
func (s *storedAuth) accepts(auth *core.Record) bool {
	key, found := s.tokenKeys[auth.Id]
	return found && key == auth.TokenKey() && s.secret == auth.Collection().AuthToken.Secret
}

// readStoredAuth reads the token secret of an auth collection and the
// token keys of the records of it with the given ids.
func (b *Broadcaster) readStoredAuth(collectionID string, ids []any) (*storedAuth, error) {
	col, err := b.app.FindCachedCollectionByNameOrId(collectionID)
	if err != nil {
		return nil, err
	}
	s := &storedAuth{secret: col.AuthToken.Secret, tokenKeys: make(map[string]string, len(ids))}
	for start := 0; start < len(ids); start += authRecheckBatch {
		var rows []struct {
			ID       string `db:"id"`
			TokenKey string `db:"tokenKey"`
		}
		err := b.app.ConcurrentDB().Select(core.FieldNameId, core.FieldNameTokenKey).From(col.Name).
			Where(dbx.In(core.FieldNameId, ids[start:min(start+authRecheckBatch, len(ids))]...)).All(&rows)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			s.tokenKeys[row.ID] = row.TokenKey
		}
	}
	return s, nil
}
