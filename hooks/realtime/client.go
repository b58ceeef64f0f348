package realtime

import (
	"sync/atomic"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// client is a realtime connection as PocketBase's broker holds it. After
// every write of any record, PocketBase's broadcast asks each connected
// client for its topics of that collection (six lookups, each taking the
// client's lock and allocating a map): with 5,000 connections, 30,000 per
// write, several milliseconds of CPU for a checkout or a webhook that
// writes four or five records, although the shop leaves PocketBase no
// topic to find. A client whose topics the shop holds answers at once.
type client struct {
	*subscriptions.DefaultClient
	// pocketBaseTopics is set while PocketBase holds this client's topics
	// (a superuser's).
	pocketBaseTopics atomic.Bool
}

// Subscriptions answers PocketBase's broadcast: nothing, unless PocketBase
// holds the client's topics.
func (c *client) Subscriptions(prefixes ...string) map[string]subscriptions.SubscriptionOptions {
	if !c.pocketBaseTopics.Load() {
		return nil
	}
	return c.DefaultClient.Subscriptions(prefixes...)
}

// leaveTopicsToPocketBase records whether PocketBase holds the topics of a
// connection (a client registered in process, as tests do, always keeps
// the answer of PocketBase's own client).
func leaveTopicsToPocketBase(c subscriptions.Client, held bool) {
	if shop, ok := c.(*client); ok {
		shop.pocketBaseTopics.Store(held)
	}
}
