package realtime

import (
	"sync"
	"sync/atomic"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// client is a realtime connection of the shop. After every write of any
// record, PocketBase's broadcast walks every client its broker holds and
// asks each for its topics of the collection, six times: with 5,000
// customers connected that walk was 65% of the CPU under checkout (it
// allocates on every question), and still half of it when each client
// answered at once. So a connection whose topics the shop holds is not in
// PocketBase's broker at all (connections.detach); it is put back only for
// the subscribe request, which PocketBase finds it by, and stays while
// PocketBase holds its topics (a superuser's).
type client struct {
	*subscriptions.DefaultClient
	// pocketBaseTopics is set while PocketBase holds this client's topics.
	pocketBaseTopics atomic.Bool
	// detached is set while the client is out of PocketBase's broker.
	detached atomic.Bool
	// ended is set once its connection closed; connections.mu guards it.
	ended bool
}

// Subscriptions answers PocketBase's broadcast while the client is in its
// broker: nothing, unless PocketBase holds the client's topics.
func (c *client) Subscriptions(prefixes ...string) map[string]subscriptions.SubscriptionOptions {
	if !c.pocketBaseTopics.Load() {
		return nil
	}
	return c.DefaultClient.Subscriptions(prefixes...)
}

// Discard closes the connection's channel, unless the client is only
// leaving PocketBase's broker (which discards what it unregisters).
func (c *client) Discard() {
	if c.detached.Load() {
		return
	}
	c.DefaultClient.Discard()
}

// leaveTopicsToPocketBase records whether PocketBase holds the topics of a
// connection (a client registered in process, as tests do, always keeps
// the answer of PocketBase's own client).
func leaveTopicsToPocketBase(c subscriptions.Client, held bool) {
	if shop, ok := c.(*client); ok {
		shop.pocketBaseTopics.Store(held)
	}
}

// connections are the shop's realtime connections kept out of
// PocketBase's broker.
type connections struct {
	broker *subscriptions.Broker

	mu       sync.Mutex
	detached map[string]*client
}

func newConnections(broker *subscriptions.Broker) *connections {
	return &connections{broker: broker, detached: map[string]*client{}}
}

// detach takes the client out of PocketBase's broker unless PocketBase
// holds its topics.
func (cs *connections) detach(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c.ended || c.pocketBaseTopics.Load() {
		return
	}
	c.detached.Store(true)
	cs.broker.Unregister(c.Id())
	cs.detached[c.Id()] = c
}

// attach puts a detached client back in PocketBase's broker and returns
// it, or nil when no such client is detached.
func (cs *connections) attach(id string) *client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.detached[id]
	if c == nil {
		return nil
	}
	delete(cs.detached, id)
	cs.broker.Register(c)
	c.detached.Store(false)
	return c
}

// close ends a connection whose SSE loop returned: PocketBase unregisters
// and discards only what its broker holds.
func (cs *connections) close(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.ended = true
	delete(cs.detached, c.Id())
	c.detached.Store(false)
	cs.broker.Unregister(c.Id())
	c.Discard()
}

// signedIn lists the detached clients signed in as someone.
func (cs *connections) signedIn() []signedInClient {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []signedInClient
	for _, c := range cs.detached {
		out = appendSignedIn(out, c)
	}
	return out
}

// signedInClient is a connection and the account it was signed in as.
type signedInClient struct {
	client subscriptions.Client
	auth   *core.Record
}

// appendSignedIn appends client to out if it is signed in.
func appendSignedIn(out []signedInClient, client subscriptions.Client) []signedInClient {
	if auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record); auth != nil {
		out = append(out, signedInClient{client: client, auth: auth})
	}
	return out
}

// updateAuth does for detached clients what PocketBase does for those in
// its broker when an auth record changes: a new token key (a password
// change, a sign-out everywhere) or a deletion ends the connection's
// signed-in state, any other change refreshes the record its rules see.
func (cs *connections) updateAuth(record *core.Record, deleted bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.detached {
		auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record)
		if auth == nil || auth.Id != record.Id || auth.Collection().Id != record.Collection().Id {
			continue
		}
		if deleted || auth.TokenKey() != record.TokenKey() {
			c.Unset(apis.RealtimeClientAuthKey)
		} else {
			c.Set(apis.RealtimeClientAuthKey, record)
		}
	}
}
