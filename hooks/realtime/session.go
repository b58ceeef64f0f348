package realtime

import (
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
