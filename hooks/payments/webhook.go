package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/records"
)

// maxWebhookBytes bounds an event body; Stripe's are a few kilobytes.
const maxWebhookBytes = 1 << 20

// eventEffect applies one event inside the transaction that records it.
// ctx carries whether its changes may email customers
// (records.WithoutEmails). One that leaves the event for later answers a
// *refundParked having written nothing (refund_parked.go).
type eventEffect func(ctx context.Context, app core.App, event stripe.Event) error

// eventEffects are the events the shop acts on; any other is answered 200
// and ignored.
var eventEffects = map[stripe.EventType]eventEffect{
	"checkout.session.completed":               sessionPaid,
	"checkout.session.async_payment_succeeded": sessionPaid,
	"checkout.session.async_payment_failed":    sessionNotPaid("The payment failed."),
	"checkout.session.expired":                 sessionNotPaid("The checkout expired."),
	"charge.refunded":                          chargeRefunded,
	"invoice.paid":                             invoicePaid,
	"product.created":                          productChanged,
	"product.updated":                          productChanged,
	"product.deleted":                          productChanged,
	"price.created":                            priceChanged,
	"price.updated":                            priceChanged,
	"price.deleted":                            priceChanged,
}

// errEventSeen ends the transaction of an event that was applied before.
var errEventSeen = errors.New("event already applied")

// How long the webhook waits for an order that a cancel or refund holds
// (order_claim.go) before it asks Stripe to send the event again.
const (
	busyOrderWait  = 200 * time.Millisecond
	busyOrderTries = 40
)

// receiveWebhook verifies a Stripe event on its raw body and applies it
// exactly once: the event id is written to stripe_events in the same
// transaction as its effect, so a repeat finds it and does nothing, and a
// passing failure (the database busy) rolls both back for Stripe to retry.
// An event the shop refuses for good (a payment that is not its order's,
// content it can never apply) is recorded as such, alerted and answered
// 200: a run of failures is what makes Stripe disable an endpoint. Every
// delivery is counted in /metrics with its outcome (docs/metrics.md).
func (p *Payments) receiveWebhook(e *core.RequestEvent) error {
	if len(p.cfg.StripeWebhookSecrets) == 0 {
		p.metrics.WebhookEvent(unverifiedType, "unconfigured")
		return router.NewApiError(http.StatusServiceUnavailable, "Webhooks are not configured: set STRIPE_WEBHOOK_SECRET.", nil)
	}
	payload, err := io.ReadAll(io.LimitReader(e.Request.Body, maxWebhookBytes))
	if err != nil {
		p.metrics.WebhookEvent(unverifiedType, "unreadable")
		return e.BadRequestError("Could not read the event.", nil)
	}
	event, err := p.verifyEvent(payload, e.Request.Header.Get("Stripe-Signature"))
	var unreadable *unreadableEvent
	if errors.As(err, &unreadable) {
		// Signed, so not an attack, and never applicable: no alert, and
		// no type label, which could be anything.
		e.App.Logger().Warn("signed stripe event the shop cannot read", "reason", err.Error())
		p.metrics.WebhookEvent(unverifiedType, "malformed")
		return e.BadRequestError(unreadable.message, unreadable.fields)
	}
	if err != nil {
		e.App.Logger().Warn("stripe webhook with a bad signature", "reason", err.Error())
		p.alerts.BadSignature()
		p.metrics.WebhookEvent(unverifiedType, "bad_signature")
		return e.BadRequestError("Invalid Stripe signature.", nil)
	}
	if event.APIVersion != stripe.APIVersion {
		e.App.Logger().Warn("stripe event of another API version; set the endpoint to "+stripe.APIVersion,
			"event", event.ID, "api_version", event.APIVersion)
	}
	result, err := p.events.apply(e.App, event)
	for try := 0; errors.Is(err, records.ErrOrderBusy) && try < busyOrderTries; try++ {
		select {
		case <-time.After(busyOrderWait):
		case <-e.Request.Context().Done():
			p.metrics.WebhookEvent(string(event.Type), "busy")
			return e.Request.Context().Err()
		}
		result, err = p.events.apply(e.App, event)
	}
	if errors.Is(err, records.ErrOrderBusy) {
		p.metrics.WebhookEvent(string(event.Type), "busy")
		e.App.Logger().Warn("stripe event meets an order being changed; Stripe will retry", "event", event.ID, "type", string(event.Type))
		return router.NewApiError(http.StatusConflict, "The order is being changed; Stripe will retry the event.", nil)
	}
	if err != nil {
		p.metrics.WebhookEvent(string(event.Type), "error")
		e.App.Logger().Error("stripe event failed; Stripe will retry", "event", event.ID, "type", string(event.Type), "error", err.Error())
		return e.InternalServerError("The event could not be applied; Stripe will retry it.", nil)
	}
	p.metrics.WebhookEvent(string(event.Type), webhookOutcome(event.Type, result))
	p.alertRefusal(event, result)
	// The ledger (stripe_events) holds every applied or refused event and
	// /metrics counts them, so an event answered 200 is logged at debug
	// level: a log row is a write of its own, on the busiest path.
	// Refusals are alerted and logged at warning level.
	level := slog.LevelDebug
	switch {
	case result.rejected():
		level = slog.LevelWarn
	case result.status == c.EventParked:
		level = slog.LevelInfo // applied when its payment comes (refund_parked.go)
	}
	e.App.Logger().Log(context.Background(), level, "stripe event", "event", event.ID, "type", string(event.Type),
		"applied", result.status == c.EventApplied, "status", result.status)
	answer := map[string]any{"received": true, "applied": result.status == c.EventApplied}
	if result.status != "" {
		answer["status"] = result.status // what the ledger recorded now
	}
	return e.JSON(http.StatusOK, answer)
}

// alertRefusal tells the operator of an event recorded as refused.
func (p *Payments) alertRefusal(event stripe.Event, result eventResult) {
	if result.rejected() {
		p.alerts.Alert("Stripe event "+result.status,
			fmt.Sprintf("Stripe event %s (%s) was recorded as %s and not applied: %s. docs/stripe.md says what to do next.",
				event.ID, event.Type, result.status, result.reason),
			"event", event.ID, "type", string(event.Type), "status", result.status)
	}
}

// eventResult is what became of one event: its ledger status (applied,
// parked, mismatched or failed) and the reason of a refusal, or the
// refund it parked; no status for an event the shop does not handle or
// has recorded before.
type eventResult struct {
	status, reason string
	parked         *chargeRefund
}

func (r eventResult) rejected() bool {
	return r.status == c.EventMismatched || r.status == c.EventFailed
}

// unverifiedType stands for the type of an event refused before its
// signature was checked: the body of such a request is anyone's.
const unverifiedType = "unknown"

// webhookOutcome is what /metrics says became of an event answered 200:
// its ledger status, or duplicate (recorded before), or ignored (a type
// the shop does not act on).
func webhookOutcome(eventType stripe.EventType, result eventResult) string {
	switch _, handled := eventEffects[eventType]; {
	case !handled:
		return "ignored"
	case result.status == "":
		return "duplicate"
	}
	return result.status
}

// applyEventOnce applies a handled event and records it, in one
// transaction: the webhook's path and the replay's (replay.go). An event
// refused for good is recorded with its reason, and its effect rolled
// back.
func applyEventOnce(ctx context.Context, app core.App, event stripe.Event) (eventResult, error) {
	effect, handled := eventEffects[event.Type]
	if !handled {
		return eventResult{}, nil
	}
	var result eventResult
	err := app.RunInTransaction(func(tx core.App) error {
		if eventRecorded(tx, event.ID) {
			return errEventSeen
		}
		var err error
		result, err = applyEvent(ctx, tx, effect, event)
		return err
	})
	if refusal := permanentFailure(err); refusal != nil {
		result = eventResult{status: refusal.status, reason: c.Truncate(refusal.reason, 500)}
		err = app.RunInTransaction(func(tx core.App) error {
			if eventRecorded(tx, event.ID) {
				return errEventSeen
			}
			return recordEvent(tx, event, result)
		})
	}
	if errors.Is(err, errEventSeen) || (err != nil && isUniqueViolation(err) && eventRecorded(app, event.ID)) {
		// Recorded before, or by the same event delivered twice at once.
		return eventResult{}, nil
	}
	if err != nil {
		return eventResult{}, err
	}
	return result, nil
}

// applyEvent runs the effect of an event the ledger lacks, in tx, and
// records the event: applied, or parked when its effect leaves it for
// later (refundParked).
func applyEvent(ctx context.Context, tx core.App, effect eventEffect, event stripe.Event) (eventResult, error) {
	result := eventResult{status: c.EventApplied}
	err := effect(ctx, tx, event)
	var parked *refundParked
	switch {
	case errors.As(err, &parked):
		result = eventResult{status: c.EventParked, parked: &parked.refund}
	case err != nil:
		return eventResult{}, fmt.Errorf("%s %s: %w", event.Type, event.ID, err)
	}
	if err := recordEvent(tx, event, result); err != nil {
		return eventResult{}, err
	}
	return result, nil
}

// permanentFailure is the refusal an error of an event's effect amounts to,
// or nil for a passing failure (the database busy, a claimed order) that a
// retry may get past: an explicit rejection (a mismatched payment, an
// object that does not decode) or a record that fails validation.
func permanentFailure(err error) *eventRejection {
	if err == nil || errors.Is(err, records.ErrOrderBusy) {
		return nil
	}
	var rejection *eventRejection
	if errors.As(err, &rejection) {
		return rejection
	}
	var invalid validation.Errors
	if errors.As(err, &invalid) {
		return &eventRejection{status: c.EventFailed, reason: err.Error()}
	}
	return nil
}

// decodeObject reads the object of an event; one that does not decode
// never will, and is refused for good.
func decodeObject(event stripe.Event, v any) error {
	if err := json.Unmarshal(event.Data.Raw, v); err != nil {
		return &eventRejection{status: c.EventFailed, reason: "the event's object cannot be read: " + err.Error()}
	}
	return nil
}

func eventRecorded(app core.App, id string) bool {
	found, err := writerStatements.Exists(app, c.StripeEvents, c.StripeEventID, id)
	return err == nil && found
}

func recordEvent(app core.App, event stripe.Event, result eventResult) error {
	col, err := app.FindCachedCollectionByNameOrId(c.StripeEvents)
	if err != nil {
		return err
	}
	row := core.NewRecord(col)
	row.Set(c.StripeEventID, event.ID)
	row.Set(c.StripeEventType, string(event.Type))
	row.Set(c.StripeEventStatus, result.status)
	row.Set(c.StripeEventReason, result.reason)
	var object struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(event.Data.Raw, &object) == nil {
		row.Set(c.StripeEventObject, c.Truncate(object.ID, maxStripeIDLength))
	}
	if result.parked != nil {
		return parkRefund(app, row, result.parked)
	}
	return app.Save(row)
}

func isUniqueViolation(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// sessionOrder finds the order of a Checkout Session: the one whose
// stripe_session it is, or nil. The order ids the session echoes back
// (client_reference_id, metadata) are no proof: a buyer sets
// client_reference_id on a Payment Link.
func sessionOrder(app core.App, s *stripe.CheckoutSession) (*core.Record, error) {
	return findByStripeID(app, c.Orders, c.OrderStripeSession, s.ID)
}

// unmatchedPayment is the refusal of a paid session that is no order's:
// one that names an order of ours without being its session (a Payment
// Link with someone's order id), or that our checkout made for an order
// that is gone. A session that names nothing of ours is someone else's
// business, and nil.
func unmatchedPayment(app core.App, s *stripe.CheckoutSession) error {
	if id := s.Metadata["order_id"]; id != "" {
		if named, err := findOrderByID(app, id); err != nil || named == nil {
			if err != nil {
				return err
			}
			return paymentMismatch("checkout session %s was made for order %s, which does not exist", s.ID, id)
		}
	}
	for _, id := range []string{s.Metadata["order_id"], s.ClientReferenceID} {
		named, err := findOrderByID(app, id)
		if err != nil {
			return err
		}
		if named != nil {
			return paymentMismatch("checkout session %s names order %s but is not its checkout session (%q)",
				s.ID, named.Id, named.GetString(c.OrderStripeSession))
		}
	}
	return nil
}

func sessionPaid(ctx context.Context, app core.App, event stripe.Event) error {
	var s stripe.CheckoutSession
	if err := decodeObject(event, &s); err != nil {
		return err
	}
	if s.PaymentStatus == stripe.CheckoutSessionPaymentStatusUnpaid {
		return nil // a delayed payment method: async_payment_succeeded follows
	}
	order, err := sessionOrder(app, &s)
	if err != nil {
		return err
	}
	if order == nil {
		if err := unmatchedPayment(app, &s); err != nil {
			return err
		}
		app.Logger().Info("checkout session of no order of ours", "event", event.ID, "session", s.ID)
		return nil
	}
	pay := paymentDetails{session: s.ID, amount: s.AmountTotal, currency: string(s.Currency), paidAt: time.Unix(event.Created, 0)}
	if s.PaymentIntent != nil {
		pay.paymentIntent = s.PaymentIntent.ID
	}
	if s.Invoice != nil {
		pay.invoice = s.Invoice.ID
	}
	if s.Customer != nil {
		pay.customer = s.Customer.ID
	}
	_, err = markOrderPaid(ctx, app, order, pay)
	return err
}

// sessionNotPaid cancels the pending order of a session that ended without
// payment and gives its stock back; an order that was paid meanwhile stays
// as it is. A session that names an order without being its session
// changes nothing, and alerts nobody: anyone can open and abandon one.
func sessionNotPaid(reason string) eventEffect {
	return func(ctx context.Context, app core.App, event stripe.Event) error {
		var s stripe.CheckoutSession
		if err := decodeObject(event, &s); err != nil {
			return err
		}
		order, err := sessionOrder(app, &s)
		if err != nil || order == nil || c.NewOrder(order).Status() != c.StatusPending {
			return err
		}
		order.Set(c.OrderStatusField, string(c.StatusCancelled))
		order.Set(c.OrderCancelReason, reason)
		if err := app.SaveWithContext(ctx, order); err != nil {
			return err
		}
		return records.ReturnStock(app, order.Id)
	}
}

// liveInvoiceAge is how old an invoice may be for its invoice.paid event
// to email the customer; an older one is history (a backfill, a replay).
const liveInvoiceAge = 24 * time.Hour

func invoicePaid(ctx context.Context, app core.App, event stripe.Event) error {
	var inv stripe.Invoice
	if err := decodeObject(event, &inv); err != nil {
		return err
	}
	if time.Since(time.Unix(inv.Created, 0)) > liveInvoiceAge {
		ctx = records.WithoutEmails(ctx)
	}
	_, err := upsertInvoiceOrder(ctx, app, &inv)
	return err
}
