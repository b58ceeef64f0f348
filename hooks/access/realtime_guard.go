package access

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

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
	held := &realtimeHolds{byIP: map[string]int{}, byUser: map[string]map[string]struct{}{}, userOf: map[string]string{}}
	app.OnRealtimeConnectRequest().BindFunc(held.limitConnectionsPerIP)
	app.OnRealtimeSubscribeRequest().BindFunc(held.limitSubscriptions)
}

// realtimeHolds counts the connections of each address and of each
// account as they open, subscribe and close, so a connect or a subscribe
// checks its bound without walking every connected client: with 5,000
// connected, that walk made connecting them all take 24-36 s instead of
// about one.
type realtimeHolds struct {
	mu sync.Mutex
	// byIP is the open connections of each address.
	byIP map[string]int
	// byUser is the ids of the connections each account subscribed on.
	byUser map[string]map[string]struct{}
	// userOf is the account each of those connections subscribed as.
	userOf map[string]string
}

// limitConnectionsPerIP refuses a realtime connection from an address that
// holds maxConnectionsPerIP already, and counts the connection while it
// is open.
func (h *realtimeHolds) limitConnectionsPerIP(e *core.RealtimeConnectRequestEvent) error {
	ip := e.RealIP()
	h.mu.Lock()
	if h.byIP[ip] >= maxConnectionsPerIP {
		h.mu.Unlock()
		return router.NewApiError(http.StatusTooManyRequests, "Too many realtime connections from this address.", nil)
	}
	h.byIP[ip]++
	h.mu.Unlock()
	defer h.closed(ip, e.Client.Id())
	return e.Next()
}

// closed forgets a connection that ended.
func (h *realtimeHolds) closed(ip, clientID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byIP[ip]--; h.byIP[ip] <= 0 {
		delete(h.byIP, ip)
	}
	if user, ok := h.userOf[clientID]; ok {
		h.release(user, clientID)
	}
}

// release forgets a connection of a user; h.mu is held.
func (h *realtimeHolds) release(userID, clientID string) {
	delete(h.userOf, clientID)
	delete(h.byUser[userID], clientID)
	if len(h.byUser[userID]) == 0 {
		delete(h.byUser, userID)
	}
}

// limitSubscriptions lets guests subscribe to products only, and bounds
// the topics of one connection and the connections of one user.
func (h *realtimeHolds) limitSubscriptions(e *core.RealtimeSubscribeRequestEvent) error {
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
	if !h.holdForUser(e.Auth.Id, e.Client.Id()) {
		return router.NewApiError(http.StatusTooManyRequests, "Too many realtime connections for this account.", nil)
	}
	return e.Next()
}

// holdForUser counts the connection as the user's unless the user holds
// maxConnectionsPerUser others.
func (h *realtimeHolds) holdForUser(userID, clientID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.byUser[userID][clientID]; ok {
		return true
	}
	if len(h.byUser[userID]) >= maxConnectionsPerUser {
		return false
	}
	if h.byUser[userID] == nil {
		h.byUser[userID] = map[string]struct{}{}
	}
	h.byUser[userID][clientID] = struct{}{}
	h.userOf[clientID] = userID
	return true
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
