// Package realtime delivers the shop's record events to realtime clients
// at the cost of their own listeners (docs/decisions/0009-realtime.md).
//
// PocketBase checks, on every save, the record rule of every connected
// client whose topics match the collection: one SQL query per listener,
// inside the saving request. With 5,000 customers on orders/* that made
// one order update take 373 ms. Here the topics of everyone but superusers
// are taken out of PocketBase's hands when they subscribe and kept in an
// index: whole-collection topics of customers by the customer's id, the
// rest by collection or record. A write then looks up only the topics that
// could see it and checks each with the collection's rule written in Go
// (visibility.go), with no query. Superusers' topics stay with PocketBase,
// whose check lets them see everything without a query.
package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	c "shopdash/collections"
)

// Broadcaster holds the shop's realtime topics and delivers record events
// to them.
type Broadcaster struct {
	app         core.App
	connections *connections

	mu sync.RWMutex
	// byClient holds each connection's topics and its mailbox.
	byClient map[string]*listener
	// index maps an index key (indexKey) to the topics filed under it.
	index map[string]map[*topic]struct{}
}

// listener is one realtime connection the shop delivers to.
type listener struct {
	mailbox *mailbox
	ip      string
	topics  []*topic
}

// topic is one subscription of a connection, as the client sent it.
type topic struct {
	client subscriptions.Client
	// name is the subscription as the client spelled it, options
	// included: the SSE event name the SDK listens for.
	name       string
	collection string
	// recordID is the one record followed, or "" for the whole collection.
	recordID string
	options  subscriptions.SubscriptionOptions
	// key is where the topic is filed in the index.
	key string
	// mailbox is its connection's, set when the topic is filed.
	mailbox *mailbox
}

// indexKey files a topic: on one record, on the records one customer
// owns, or on every record of the collection.
func recordKey(collection, id string) string   { return "record\x00" + collection + "\x00" + id }
func ownerKey(collection, owner string) string { return "owner\x00" + collection + "\x00" + owner }
func wholeKey(collection string) string        { return "whole\x00" + collection }

// Register binds the shop's realtime delivery to app: the subscribe and
// connect requests file and forget topics, and every create, update and
// delete of a collection in visibilities is delivered to its listeners.
func Register(app core.App) *Broadcaster {
	b := &Broadcaster{
		app:         app,
		connections: newConnections(app.SubscriptionsBroker()),
		byClient:    map[string]*listener{},
		index:       map[string]map[*topic]struct{}{},
	}
	app.OnRealtimeConnectRequest().BindFunc(b.connect)
	app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		// PocketBase has just registered the connection and is about to
		// tell the client its id: out of the broker before anyone can
		// subscribe with it.
		if shop, ok := e.Client.(*client); ok && e.Message.Name == "PB_CONNECT" {
			b.connections.detach(shop)
		}
		return e.Next()
	})
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "shopdashRealtimeAttach",
			Func:     b.attachWhileSubscribing,
			Priority: apis.DefaultBodyLimitMiddlewarePriority + 1,
		})
		return se.Next()
	})
	app.OnServe().BindFunc(b.recheckAuthWhileServing)
	app.OnRealtimeSubscribeRequest().BindFunc(b.takeSubscriptions)
	app.OnRecordAfterUpdateSuccess(c.Users).BindFunc(func(e *core.RecordEvent) error {
		b.connections.updateAuth(e.Record, false)
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess(c.Users).BindFunc(func(e *core.RecordEvent) error {
		b.connections.updateAuth(e.Record, true)
		return e.Next()
	})

	names := make([]string, 0, len(visibilities))
	for name := range visibilities {
		names = append(names, name)
	}
	app.OnRecordAfterCreateSuccess(names...).BindFunc(func(e *core.RecordEvent) error {
		b.Broadcast("create", e.Record)
		return e.Next()
	})
	app.OnRecordAfterUpdateSuccess(names...).BindFunc(func(e *core.RecordEvent) error {
		b.Broadcast("update", e.Record)
		return e.Next()
	})
	app.OnRecordAfterDeleteSuccess(names...).BindFunc(func(e *core.RecordEvent) error {
		b.Broadcast("delete", e.Record)
		return e.Next()
	})
	return b
}

// replace files the client's topics instead of those it had, and returns
// the ones it had.
func (b *Broadcaster) replace(client subscriptions.Client, ip string, topics []*topic) []*topic {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.byClient[client.Id()]
	var old []*topic
	if l != nil {
		old = l.topics
		b.unfile(old)
	}
	if len(topics) == 0 {
		if l != nil {
			l.mailbox.close()
			delete(b.byClient, client.Id())
		}
		return old
	}
	if l == nil {
		l = &listener{mailbox: newMailbox(client, disconnecter(client)), ip: ip}
		b.byClient[client.Id()] = l
	}
	l.topics = topics
	for _, t := range topics {
		t.mailbox = l.mailbox
		set := b.index[t.key]
		if set == nil {
			set = map[*topic]struct{}{}
			b.index[t.key] = set
		}
		set[t] = struct{}{}
	}
	return old
}

// connect wraps a new realtime connection in the shop's client, keeps it
// out of PocketBase's broker (see client) and forgets it when it closes.
func (b *Broadcaster) connect(e *core.RealtimeConnectRequestEvent) error {
	// The SSE loop ends when the request's context does: this is how a
	// stalled reader's mailbox disconnects it.
	ctx, cancel := context.WithCancel(e.Request.Context())
	defer cancel()
	e.Request = e.Request.WithContext(ctx)
	e.Client.Set(disconnectKey, cancel)
	pb, ok := e.Client.(*subscriptions.DefaultClient)
	if !ok {
		defer b.forget(e.Client.Id())
		return e.Next()
	}
	shop := &client{DefaultClient: pb}
	e.Client = shop
	defer b.forget(shop.Id())
	defer b.connections.close(shop)
	return e.Next()
}

// attachWhileSubscribing puts a detached connection back in PocketBase's
// broker for the subscribe request that names it (PocketBase finds the
// client there), and takes it out again after, unless PocketBase now
// holds its topics.
func (b *Broadcaster) attachWhileSubscribing(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodPost || e.Request.URL.Path != "/api/realtime" {
		return e.Next()
	}
	raw, err := io.ReadAll(e.Request.Body)
	var tooLarge *router.ApiError
	if errors.As(err, &tooLarge) {
		return tooLarge // PocketBase's body limit: 413
	}
	if err != nil {
		return e.BadRequestError("", err)
	}
	e.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var form struct {
		ClientID string `json:"clientId"`
	}
	if json.Unmarshal(raw, &form) != nil {
		return e.Next()
	}
	shop := b.connections.attach(form.ClientID)
	if shop == nil {
		return e.Next()
	}
	defer b.connections.detach(shop)
	return e.Next()
}

// disconnectKey is where a connection keeps the func that ends it.
const disconnectKey = "shopdash.realtime.disconnect"

// disconnecter is the func that ends the client's connection: its SSE
// request's cancel, or discarding the client when it has no connection
// of its own (registered in process, as tests do).
func disconnecter(client subscriptions.Client) func() {
	if cancel, ok := client.Get(disconnectKey).(context.CancelFunc); ok {
		return cancel
	}
	return client.Discard
}

// forget drops a closed connection's topics.
func (b *Broadcaster) forget(clientID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.byClient[clientID]; l != nil {
		b.unfile(l.topics)
		l.mailbox.close()
		delete(b.byClient, clientID)
	}
}

// unfile removes topics from the index; b.mu is held.
func (b *Broadcaster) unfile(topics []*topic) {
	for _, t := range topics {
		if set := b.index[t.key]; set != nil {
			delete(set, t)
			if len(set) == 0 {
				delete(b.index, t.key)
			}
		}
	}
}

// candidates are the topics that could hear of the record: on it, on its
// owner's records, and on its whole collection.
func (b *Broadcaster) candidates(record *core.Record, vis visibility) []*topic {
	collection := record.Collection().Name
	keys := []string{recordKey(collection, record.Id), wholeKey(collection)}
	if vis.owner != "" {
		if owner := record.GetString(vis.owner); owner != "" {
			keys = append(keys, ownerKey(collection, owner))
		}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var found []*topic
	for _, key := range keys {
		for t := range b.index[key] {
			found = append(found, t)
		}
	}
	return found
}

// Broadcast delivers an action ("create", "update" or "delete") on a
// record to every topic allowed to see it. It runs after the write has
// committed, and costs the write a map lookup when nobody listens to the
// record, and a rule check in Go plus, for a topic with a filter, one
// query per distinct listener and filter, for each topic that does.
func (b *Broadcaster) Broadcast(action string, record *core.Record) {
	vis, ok := visibilities[record.Collection().Name]
	if !ok {
		return
	}
	topics := b.candidates(record, vis)
	if len(topics) == 0 {
		return
	}
	encoded := map[string][]byte{}
	filtered := map[string]bool{}
	for _, t := range topics {
		auth := signedInAs(t.client)
		if !vis.visible(record, auth) {
			continue
		}
		authID := ""
		if auth != nil {
			authID = auth.Id
		}
		if filter := t.options.Query["filter"]; filter != "" && action != "delete" {
			key := authID + "\x00" + filter
			pass, seen := filtered[key]
			if !seen {
				pass = b.matchesFilter(record, t, auth, filter)
				filtered[key] = pass
			}
			if !pass {
				continue
			}
		}
		key := authID + "\x00" + t.options.Query["fields"]
		data, seen := encoded[key]
		if !seen {
			data = b.encode(action, record, t, auth)
			encoded[key] = data
		}
		if data == nil {
			continue
		}
		t.mailbox.post(subscriptions.Message{Name: t.name, Data: data})
	}
}

// recordEvent is the data of a record event, as PocketBase sends it.
type recordEvent struct {
	Record any    `json:"record"`
	Action string `json:"action"`
}

// encode builds the event as PocketBase's broadcast does: a clean copy of
// the record (hidden fields hidden), the enrich hooks run for the
// listener, an auth record's email shown to its owner, and the topic's
// fields option applied. It returns nil when the record cannot be told.
func (b *Broadcaster) encode(action string, record *core.Record, t *topic, auth *core.Record) []byte {
	clean := record.Fresh()
	info := requestInfo(t, auth)
	event := &core.RecordEnrichEvent{App: b.app, RequestInfo: info}
	event.Record = clean
	err := b.app.OnRecordEnrich().Trigger(event, func(e *core.RecordEnrichEvent) error {
		if clean.Collection().IsAuth() && auth != nil && auth.Id == clean.Id && auth.Collection().Id == clean.Collection().Id {
			clean.IgnoreEmailVisibility(true)
		}
		return nil
	})
	if err != nil {
		b.app.Logger().Debug("realtime: enrich", "collection", record.Collection().Name, "record", record.Id, "error", err.Error())
		return nil
	}
	var data any = clean
	if fields := t.options.Query["fields"]; fields != "" {
		if picked, err := picker.Pick(clean, fields); err == nil {
			data = picked
		}
	}
	out, err := json.Marshal(recordEvent{Record: data, Action: action})
	if err != nil {
		b.app.Logger().Debug("realtime: encode", "collection", record.Collection().Name, "record", record.Id, "error", err.Error())
		return nil
	}
	return out
}

// requestInfo is the request a topic stands for, as PocketBase's rules
// and enrich hooks see a realtime listener.
func requestInfo(t *topic, auth *core.Record) *core.RequestInfo {
	return &core.RequestInfo{
		Context: core.RequestInfoContextRealtime,
		Method:  "GET",
		Query:   t.options.Query,
		Headers: t.options.Headers,
		Auth:    auth,
	}
}
