package webhooks

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/security"

	c "shopdash/collections"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
)

// statusEvents is the event of each status an order moves to.
var statusEvents = map[c.OrderStatus]string{
	c.StatusPaid:      c.EventOrderPaid,
	c.StatusShipped:   c.EventOrderShipped,
	c.StatusDelivered: c.EventOrderDelivered,
	c.StatusCancelled: c.EventOrderCancelled,
	c.StatusRefunded:  c.EventOrderRefunded,
}

// productEventFields are the product fields whose change is a
// product.updated: what a receiver shows or sells, not the Stripe
// bookkeeping the catalogue push writes back after each change.
var productEventFields = []string{
	c.ProductName, c.ProductDescription, c.ProductPrice, c.ProductCurrency, c.ProductStock,
	c.ProductActive, c.ProductFeatured, c.ProductDigital, c.ProductImage, c.ProductAsset,
}

// afterTheWrite runs a delete hook inside the transaction PocketBase's own
// delete opens (priority 99), after the record is gone.
const afterTheWrite = 100

// bindEvents queues the deliveries of each change in the write that makes
// it. The hooks are the write's own (Execute), after every other hook of
// the save has had its say, and they join the write's transaction (or
// open one around it), so a rolled back change leaves no delivery and a
// delivery is never written without its change. Saves that send no emails
// (the sync's history, an invoice paid long ago) send no webhooks either:
// a first sync would otherwise replay a shop's past to every receiver.
func (w *Webhooks) bindEvents() {
	w.app.OnRecordCreateExecute(c.Orders).BindFunc(w.orderCreated)
	w.app.OnRecordUpdateExecute(c.Orders).BindFunc(w.orderUpdated)
	w.app.OnRecordCreateExecute(c.OrderItems).BindFunc(w.itemAdded)
	w.app.OnRecordCreateExecute(c.Products).BindFunc(w.productCreated)
	w.app.OnRecordUpdateExecute(c.Products).BindFunc(w.productUpdated)
	w.app.OnRecordDeleteExecute(c.Products).Bind(&hook.Handler[*core.RecordEvent]{Priority: afterTheWrite, Func: w.productDeleted})
	w.app.OnRecordDeleteExecute(c.Users).Bind(&hook.Handler[*core.RecordEvent]{Priority: afterTheWrite, Func: w.customerDeleted})
}

// event is one change to tell the subscribed endpoints of.
type event struct {
	kind     string
	resource string
	data     func(app core.App) (map[string]any, error)
}

// takesAny tells whether an active endpoint takes any of the types; an
// error reading the endpoints fails the write rather than lose its
// deliveries.
func (w *Webhooks) takesAny(app core.App, types ...string) (bool, error) {
	all, err := w.endpoints.active(app)
	if err != nil {
		return false, err
	}
	for _, ep := range all {
		if slices.ContainsFunc(types, ep.Takes) {
			return true, nil
		}
	}
	return false, nil
}

// withEvents runs the write (e.Next) and then queues events, in one
// transaction: the write's own when it runs in one, a new one otherwise.
func (w *Webhooks) withEvents(e *core.RecordEvent, events func(app core.App) []event) error {
	original := e.App
	defer func() { e.App = original }()
	return e.App.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := e.Next(); err != nil {
			return err
		}
		for _, ev := range events(tx) {
			if err := w.enqueue(tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// enqueue writes a delivery of ev for every active endpoint that takes
// its type: one event id and one body for all of them, the body as it
// will be sent.
func (w *Webhooks) enqueue(tx core.App, ev event) error {
	endpoints, err := w.endpoints.subscribed(tx, ev.kind)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	data, err := ev.data(tx)
	if err != nil {
		return fmt.Errorf("webhook %s of %s: %w", ev.kind, ev.resource, err)
	}
	now := w.now().UTC()
	body, err := json.Marshal(map[string]any{"type": ev.kind, "timestamp": now.Format(time.RFC3339Nano), "data": data})
	if err != nil {
		return err
	}
	eventID, payload, resource := "msg_"+security.RandomString(24), string(body), ev.resource
	first, stamp := records.Stamp(now.Add(w.cfg.Retries[0])).String(), records.Stamp(now).String()
	for _, ep := range endpoints {
		// A kept statement, a row at a time: it runs on the shop's one
		// writer, in the transaction of the change.
		_, err := w.stmts.Exec(tx, insertDelivery, core.GenerateDefaultRandomId(), ep.Id, eventID, ev.kind,
			first, payload, resource, stamp, stamp)
		if err != nil {
			return fmt.Errorf("queue webhook %s of %s: %w", ev.kind, ev.resource, err)
		}
	}
	if info := tx.TxInfo(); info != nil {
		info.OnComplete(func(txErr error) error {
			if txErr == nil {
				w.nudge()
			}
			return nil
		})
	}
	return nil
}

// insertDelivery writes a pending delivery: id, endpoint, event_id, type,
// next_attempt, payload, resource, created, updated.
var insertDelivery = "INSERT INTO " + prepared.QuoteName(c.WebhookDeliveries) + " (" + strings.Join(quoteNames(
	"id", c.DeliveryEndpoint, c.DeliveryEventID, c.DeliveryType, c.DeliveryNextAttempt, c.DeliveryPayload,
	c.DeliveryResource, c.DeliveryCreated, c.DeliveryUpdated,
	c.DeliveryStatus, c.DeliveryAttempts, c.DeliveryLastStatus, c.DeliveryLastError, c.DeliveryDeliveredAt, c.DeliveryClaim,
), ", ") + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '" + c.DeliveryPending + "', 0, 0, '', '', '')"

func quoteNames(names ...string) []string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = prepared.QuoteName(n)
	}
	return quoted
}

// orderCreated queues order.created, and the event of the status a new
// order starts in past pending (an invoice's order is paid at once).
func (w *Webhooks) orderCreated(e *core.RecordEvent) error {
	status := c.NewOrder(e.Record).Status()
	kinds := []string{c.EventOrderCreated}
	if ev, ok := statusEvents[status]; ok {
		kinds = append(kinds, ev)
	}
	if !records.EmailsWanted(e.Context) {
		return e.Next()
	}
	if takes, err := w.takesAny(e.App, kinds...); err != nil || !takes {
		return joinNext(e, err)
	}
	return w.withEvents(e, func(core.App) []event {
		events := make([]event, len(kinds))
		for i, kind := range kinds {
			events[i] = w.orderEvent(kind, e.Record, 0)
		}
		return events
	})
}

// orderUpdated queues the event of an order's new status, and
// order.refunded with each refund (refunded_amount growing), once per
// save.
func (w *Webhooks) orderUpdated(e *core.RecordEvent) error {
	if !records.EmailsWanted(e.Context) {
		return e.Next()
	}
	if takes, err := w.takesAny(e.App, c.EventOrderPaid, c.EventOrderShipped, c.EventOrderDelivered,
		c.EventOrderCancelled, c.EventOrderRefunded); err != nil || !takes {
		return joinNext(e, err)
	}
	var stored struct {
		Status   string
		Refunded int
	}
	err := w.stmts.Query(e.App, selectOrderState, []any{e.Record.Id}, func(rows *sql.Rows) error {
		return rows.Scan(&stored.Status, &stored.Refunded)
	})
	if err != nil {
		return fmt.Errorf("read order %s before its webhooks: %w", e.Record.Id, err)
	}
	order := c.NewOrder(e.Record)
	refund := order.RefundedAmount() - stored.Refunded
	var kinds []string
	if ev, ok := statusEvents[order.Status()]; ok && string(order.Status()) != stored.Status {
		kinds = append(kinds, ev)
	}
	if refund > 0 && !slices.Contains(kinds, c.EventOrderRefunded) {
		kinds = append(kinds, c.EventOrderRefunded)
	}
	if len(kinds) == 0 {
		return e.Next()
	}
	return w.withEvents(e, func(core.App) []event {
		events := make([]event, len(kinds))
		for i, kind := range kinds {
			events[i] = w.orderEvent(kind, e.Record, max(refund, 0))
		}
		return events
	})
}

// selectOrderState reads an order's status and refunded amount as stored.
var selectOrderState = "SELECT " + prepared.QuoteName(c.OrderStatusField) + ", " + prepared.QuoteName(c.OrderRefundedAmount) +
	" FROM " + prepared.QuoteName(c.Orders) + " WHERE " + prepared.QuoteName("id") + " = ?"

// orderEvent is an order event whose data is the order as saved; refund
// is the amount of the refund an order.refunded tells of.
func (w *Webhooks) orderEvent(kind string, order *core.Record, refund int) event {
	return event{kind: kind, resource: order.Id, data: func(app core.App) (map[string]any, error) {
		data, err := w.orderData(app, order)
		if err == nil && kind == c.EventOrderRefunded {
			data["amount"] = refund
		}
		return data, err
	}}
}

// itemAdded brings the order.created deliveries of the item's order up to
// date with its items: an order is saved before its items, in the same
// transaction, and its deliveries were written with it.
func (w *Webhooks) itemAdded(e *core.RecordEvent) error {
	if takes, err := w.takesAny(e.App, c.EventOrderCreated); err != nil || !takes {
		return joinNext(e, err)
	}
	orderID := e.Record.GetString(c.ItemOrder)
	return w.withEvents(e, func(tx core.App) []event {
		if err := w.refreshCreatedPayload(tx, orderID); err != nil {
			w.app.Logger().Error("could not add an item to its order.created webhook", "order", orderID, "error", err.Error())
		}
		return nil
	})
}

// refreshCreatedPayload rewrites the body of the order's order.created
// deliveries that no attempt has sent yet.
func (w *Webhooks) refreshCreatedPayload(tx core.App, orderID string) error {
	var rows []struct {
		ID      string `db:"id"`
		Payload string `db:"payload"`
	}
	err := tx.DB().Select("id", c.DeliveryPayload).From(c.WebhookDeliveries).Where(dbx.HashExp{
		c.DeliveryResource: orderID, c.DeliveryType: c.EventOrderCreated, c.DeliveryAttempts: 0,
	}).All(&rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	order, err := tx.FindRecordById(c.Orders, orderID)
	if err != nil {
		return err
	}
	data, err := w.orderData(tx, order)
	if err != nil {
		return err
	}
	for _, row := range rows {
		var envelope map[string]any
		if err := json.Unmarshal([]byte(row.Payload), &envelope); err != nil {
			return err
		}
		envelope["data"] = data
		body, err := json.Marshal(envelope)
		if err != nil {
			return err
		}
		if _, err := tx.DB().Update(c.WebhookDeliveries, dbx.Params{c.DeliveryPayload: string(body)},
			dbx.HashExp{"id": row.ID}).Execute(); err != nil {
			return err
		}
	}
	return nil
}

func (w *Webhooks) productCreated(e *core.RecordEvent) error {
	return w.productEvent(e, c.EventProductCreated)
}

// productUpdated queues product.updated when a field a receiver cares for
// changed (not the Stripe ids and sync state the catalogue push writes).
func (w *Webhooks) productUpdated(e *core.RecordEvent) error {
	if original := e.Record.Original(); original != nil && !slices.ContainsFunc(productEventFields, func(f string) bool {
		return fmt.Sprint(original.Get(f)) != fmt.Sprint(e.Record.Get(f))
	}) {
		return e.Next()
	}
	return w.productEvent(e, c.EventProductUpdated)
}

func (w *Webhooks) productDeleted(e *core.RecordEvent) error {
	return w.productEvent(e, c.EventProductDeleted)
}

func (w *Webhooks) productEvent(e *core.RecordEvent, kind string) error {
	if takes, err := w.takesAny(e.App, kind); err != nil || !takes {
		return joinNext(e, err)
	}
	return w.withEvents(e, func(core.App) []event {
		return []event{{kind: kind, resource: e.Record.Id, data: func(core.App) (map[string]any, error) {
			return productData(e.Record), nil
		}}}
	})
}

// customerDeleted queues customer.deleted, with the id only, when a
// customer's account is deleted (not a staff account).
func (w *Webhooks) customerDeleted(e *core.RecordEvent) error {
	if e.Record.GetString(c.UserRole) != string(c.RoleCustomer) {
		return e.Next()
	}
	if takes, err := w.takesAny(e.App, c.EventCustomerDeleted); err != nil || !takes {
		return joinNext(e, err)
	}
	id := e.Record.Id
	return w.withEvents(e, func(core.App) []event {
		return []event{{kind: c.EventCustomerDeleted, resource: id, data: func(core.App) (map[string]any, error) {
			return map[string]any{"id": id}, nil
		}}}
	})
}

// joinNext goes on with the write unless err.
func joinNext(e *core.RecordEvent, err error) error {
	if err != nil {
		return err
	}
	return e.Next()
}
