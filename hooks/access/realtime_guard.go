package access

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
)

// PocketBase checks the record rule of every matching subscription after
// every save, before the save's request answers: a guest's 1,000
// subscriptions to orders/* added about 0.1 s to each checkout and paid
// webhook. So realtime is bounded where it is cheap to bound: guests hear
// only products, and a connection, a user and an address hold a few.
const (
	// maxSubscriptionsPerConnection is far above what the shop's pages
	// subscribe to (a handful of topics).
	maxSubscriptionsPerConnection = 20
	maxConnectionsPerUser         = 10
	maxConnectionsPerIP           = 50
)

// RegisterRealtimeGuard binds the bounds on realtime connections and
// subscriptions.
func RegisterRealtimeGuard(app core.App) {
	app.OnRealtimeConnectRequest().BindFunc(limitConnectionsPerIP)
	app.OnRealtimeSubscribeRequest().BindFunc(limitSubscriptions)
}

// limitConnectionsPerIP refuses a realtime connection from an address that
// holds maxConnectionsPerIP already.
func limitConnectionsPerIP(e *core.RealtimeConnectRequestEvent) error {
	ip := e.RealIP()
	held := 0
	for _, client := range e.App.SubscriptionsBroker().Clients() {
		if client.Get(apis.RealtimeClientIPKey) == ip {
			held++
		}
	}
	if held >= maxConnectionsPerIP {
		return router.NewApiError(http.StatusTooManyRequests, "Too many realtime connections from this address.", nil)
	}
	return e.Next()
}

// limitSubscriptions lets guests subscribe to products only, and bounds
// the topics of one connection and the connections of one user.
func limitSubscriptions(e *core.RealtimeSubscribeRequestEvent) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	if len(e.Subscriptions) > maxSubscriptionsPerConnection {
		return e.BadRequestError(fmt.Sprintf("At most %d subscriptions a connection.", maxSubscriptionsPerConnection), nil)
	}
	for _, topic := range e.Subscriptions {
		// A subscription's filter runs after every save of its collection,
		// on the saving request: it gets the records guard's limits.
		filter, sort, expand := topicQuery(topic)
		if errs := checkQueryCost(filter, sort, expand); len(errs) > 0 {
			return errTooCostly(e.RequestEvent, errs)
		}
	}
	if e.Auth == nil {
		for _, topic := range e.Subscriptions {
			if !isProductsTopic(e.App, topic) {
				return e.ForbiddenError("Sign in to follow anything but products.", nil)
			}
		}
		return e.Next()
	}
	held := 0
	for id, client := range e.App.SubscriptionsBroker().Clients() {
		if auth, _ := client.Get(apis.RealtimeClientAuthKey).(*core.Record); auth != nil && auth.Id == e.Auth.Id && id != e.Client.Id() {
			held++
		}
	}
	if held >= maxConnectionsPerUser {
		return router.NewApiError(http.StatusTooManyRequests, "Too many realtime connections for this account.", nil)
	}
	return e.Next()
}

// topicQuery is the filter, sort and expand a subscription topic carries
// in its options (`orders/*?options={"query":{"filter":"…"}}`).
func topicQuery(topic string) (filter, sort, expand string) {
	_, rawQuery, found := strings.Cut(topic, "?")
	if !found {
		return "", "", ""
	}
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", ""
	}
	var options struct {
		Query map[string]any `json:"query"`
	}
	if json.Unmarshal([]byte(params.Get("options")), &options) != nil {
		return "", "", ""
	}
	text := func(key string) string {
		if v, ok := options.Query[key]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	return text("filter"), text("sort"), text("expand")
}

// isProductsTopic reports whether a topic (products/*, products/ID, with
// or without options, by collection name or id) is about products.
func isProductsTopic(app core.App, topic string) bool {
	topic, _, _ = strings.Cut(topic, "?")
	collection, _, _ := strings.Cut(topic, "/")
	if collection == c.Products {
		return true
	}
	products, err := app.FindCachedCollectionByNameOrId(c.Products)
	return err == nil && collection == products.Id
}
