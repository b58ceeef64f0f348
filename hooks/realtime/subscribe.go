package realtime

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	c "shopdash/collections"
)

// maxFilteredTopicsPerAddress bounds the topics with a filter that the
// connections of one address hold together. A filter is the one part of a
// topic that costs a write a query (once per distinct listener and
// filter), so an address cannot make every write of a collection it may
// see pay more than this many queries. The shop's pages use no filters.
const maxFilteredTopicsPerAddress = 20

// takeSubscriptions files a non-superuser's topics in the shop's index
// and leaves PocketBase none of them, so its broadcast checks no rule for
// them. A topic the shop cannot deliver is refused with a clear error
// instead of being accepted and never heard.
func (b *Broadcaster) takeSubscriptions(e *core.RealtimeSubscribeRequestEvent) error {
	if e.HasSuperuserAuth() {
		b.forget(e.Client.Id())
		leaveTopicsToPocketBase(e.Client, true)
		return e.Next()
	}
	topics := make([]*topic, 0, len(e.Subscriptions))
	filters := 0
	for _, name := range e.Subscriptions {
		if name == "" {
			continue
		}
		t, err := parseTopic(e.App, e.Client, name)
		if err != nil {
			return err
		}
		if refusal := checkOptions(t); refusal != "" {
			return e.BadRequestError(refusal, nil)
		}
		if t.options.Query["filter"] != "" {
			filters++
		}
		t.key = fileUnder(t, e.Auth)
		topics = append(topics, t)
	}
	ip := e.RealIP()
	if filters > 0 && b.filteredTopicsAt(ip, e.Client.Id())+filters > maxFilteredTopicsPerAddress {
		return router.NewApiError(http.StatusTooManyRequests,
			fmt.Sprintf("At most %d realtime topics with a filter from one address.", maxFilteredTopicsPerAddress), nil)
	}

	// Filed before PocketBase answers 204, so an event that follows the
	// answer reaches the new topics; put back if the request fails.
	old := b.replace(e.Client, ip, topics)
	leaveTopicsToPocketBase(e.Client, false)
	e.Subscriptions = nil
	if err := e.Next(); err != nil {
		b.replace(e.Client, ip, old)
		return err
	}
	return nil
}

// parseTopic reads "collection/*", "collection/ID" or the deprecated
// "collection", each optionally followed by "?options=…", by collection
// name or id, as PocketBase matches them.
func parseTopic(app core.App, client subscriptions.Client, name string) (*topic, error) {
	path, _, _ := strings.Cut(name, "?")
	collectionRef, recordID, _ := strings.Cut(path, "/")
	if recordID == "*" {
		recordID = ""
	} else if recordID == "" && strings.Contains(path, "/") || strings.Contains(recordID, "/") {
		return nil, router.NewBadRequestError(fmt.Sprintf("%q is not a realtime topic: follow collection/* or collection/RECORD_ID.", path), nil)
	}
	collection, err := app.FindCachedCollectionByNameOrId(collectionRef)
	if err != nil {
		return nil, router.NewForbiddenError(followable(), nil)
	}
	if _, ok := visibilities[collection.Name]; !ok {
		return nil, router.NewForbiddenError(followable(), nil)
	}
	// PocketBase's own client reads the options, so they mean here what
	// they mean to it.
	scratch := subscriptions.NewDefaultClient()
	scratch.Subscribe(name)
	return &topic{
		client:     client,
		name:       name,
		collection: collection.Name,
		recordID:   recordID,
		options:    scratch.Subscriptions()[name],
	}, nil
}

// followable is the error of a topic on a collection nobody but a
// superuser may follow, or on no collection at all.
func followable() string {
	names := make([]string, 0, len(visibilities))
	for name := range visibilities {
		names = append(names, name)
	}
	slices.Sort(names)
	return "Realtime follows these collections only: " + strings.Join(names, ", ") + "."
}

// checkOptions says why it refuses what a topic's options ask that the shop does not
// deliver: expand (load the record with its expand when its event
// arrives), and filters on @request or @collection, which PocketBase
// keeps for superusers and would silently never match.
func checkOptions(t *topic) string {
	if t.options.Query["expand"] != "" {
		return fmt.Sprintf("Realtime topics take no expand option (%s): load the record with its expand when its event arrives.", t.collection)
	}
	filter := t.options.Query["filter"]
	for _, superuserOnly := range []string{"@collection.", "@request."} {
		if strings.Contains(filter, superuserOnly) {
			return "Only superusers may filter realtime topics by " + superuserOnly
		}
	}
	return ""
}

// fileUnder is where a topic is kept: on its record; a customer's topic on
// a collection whose records each belong to one customer, under the
// customer; any other under its collection.
func fileUnder(t *topic, auth *core.Record) string {
	if t.recordID != "" {
		return recordKey(t.collection, t.recordID)
	}
	if owner := visibilities[t.collection].owner; owner != "" && auth != nil && roleOf(auth) == c.RoleCustomer {
		return ownerKey(t.collection, auth.Id)
	}
	return wholeKey(t.collection)
}

// filteredTopicsAt counts the topics with a filter held by the other
// connections of an address.
func (b *Broadcaster) filteredTopicsAt(ip, exceptClient string) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for id, l := range b.byClient {
		if l.ip != ip || id == exceptClient {
			continue
		}
		for _, t := range l.topics {
			if t.options.Query["filter"] != "" {
				n++
			}
		}
	}
	return n
}

// matchesFilter reports whether the record, as saved, matches the topic's
// own filter, as PocketBase checks it: one query on the record's row.
func (b *Broadcaster) matchesFilter(record *core.Record, t *topic, auth *core.Record, filter string) bool {
	collection := record.Collection()
	resolver := core.NewRecordFieldResolver(b.app, collection, requestInfo(t, auth), false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false
	}
	query := b.app.ConcurrentDB().Select("(1)").
		From(collection.Name).
		AndWhere(dbx.HashExp{collection.Name + ".id": record.Id})
	if err := resolver.UpdateQuery(query); err != nil {
		return false
	}
	var exists int
	err = query.AndWhere(expr).Limit(1).Row(&exists)
	return err == nil && exists > 0
}
