package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	c "shopdash/collections"
)

// maxWebhookBytes bounds an event body; Stripe's are a few kilobytes.
const maxWebhookBytes = 1 << 20

// eventEffect applies one event inside the transaction that records it.
type eventEffect func(app core.App, event stripe.Event) error

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

// receiveWebhook verifies a Stripe event on its raw body and applies it
// exactly once: the event id is written to stripe_events in the same
// transaction as its effect, so a repeat finds it and does nothing, and a
// failure rolls both back for Stripe to retry.
func (p *payments) receiveWebhook(e *core.RequestEvent) error {
	if len(p.cfg.StripeWebhookSecrets) == 0 {
		return router.NewApiError(http.StatusServiceUnavailable, "Webhooks are not configured: set STRIPE_WEBHOOK_SECRET.", nil)
	}
	payload, err := io.ReadAll(io.LimitReader(e.Request.Body, maxWebhookBytes))
	if err != nil {
		return e.BadRequestError("Could not read the event.", nil)
	}
	event, err := p.verifyEvent(payload, e.Request.Header.Get("Stripe-Signature"))
	if err != nil {
		e.App.Logger().Warn("stripe webhook with a bad signature", "reason", err.Error())
		p.alerts.badSignature()
		return e.BadRequestError("Invalid Stripe signature.", nil)
	}
	if event.APIVersion != stripe.APIVersion {
		e.App.Logger().Warn("stripe event of another API version; set the endpoint to "+stripe.APIVersion,
			"event", event.ID, "api_version", event.APIVersion)
	}
	applied, err := applyEventOnce(e.App, event)
	if err != nil {
		e.App.Logger().Error("stripe event failed; Stripe will retry", "event", event.ID, "type", string(event.Type), "error", err.Error())
		return e.InternalServerError("The event could not be applied; Stripe will retry it.", nil)
	}
	e.App.Logger().Info("stripe event", "event", event.ID, "type", string(event.Type), "applied", applied)
	return e.JSON(http.StatusOK, map[string]any{"received": true, "applied": applied})
}

// verifyEvent accepts an event signed with any configured secret, of any
// API version (the fields we read are stable across versions).
func (p *payments) verifyEvent(payload []byte, signature string) (stripe.Event, error) {
	var err error
	for _, secret := range p.cfg.StripeWebhookSecrets {
		var event stripe.Event
		event, err = webhook.ConstructEventWithOptions(payload, signature, secret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err == nil {
			return event, nil
		}
	}
	return stripe.Event{}, err
}

// applyEventOnce applies a handled event and records it, in one
// transaction. It reports false for an event it does not handle or has
// applied before.
func applyEventOnce(app core.App, event stripe.Event) (bool, error) {
	effect, handled := eventEffects[event.Type]
	if !handled {
		return false, nil
	}
	err := app.RunInTransaction(func(tx core.App) error {
		if eventRecorded(tx, event.ID) {
			return errEventSeen
		}
		if err := effect(tx, event); err != nil {
			return fmt.Errorf("%s %s: %w", event.Type, event.ID, err)
		}
		return recordEvent(tx, event)
	})
	if errors.Is(err, errEventSeen) || (err != nil && isUniqueViolation(err) && eventRecorded(app, event.ID)) {
		// Applied before, or by the same event delivered twice at once.
		return false, nil
	}
	return err == nil, err
}

func eventRecorded(app core.App, id string) bool {
	n, err := app.CountRecords(c.StripeEvents, dbx.HashExp{c.StripeEventID: id})
	return err == nil && n > 0
}

func recordEvent(app core.App, event stripe.Event) error {
	col, err := app.FindCachedCollectionByNameOrId(c.StripeEvents)
	if err != nil {
		return err
	}
	row := core.NewRecord(col)
	row.Set(c.StripeEventID, event.ID)
	row.Set(c.StripeEventType, string(event.Type))
	var object struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(event.Data.Raw, &object) == nil {
		row.Set(c.StripeEventObject, object.ID)
	}
	return app.Save(row)
}

func isUniqueViolation(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// sessionOrder finds the order of a Checkout Session by the ids our
// checkout gave it.
func sessionOrder(app core.App, s *stripe.CheckoutSession) (*core.Record, error) {
	return findOrder(app,
		[2]string{"id", s.Metadata["order_id"]},
		[2]string{"id", s.ClientReferenceID},
		[2]string{c.OrderStripeSession, s.ID})
}

func sessionPaid(app core.App, event stripe.Event) error {
	var s stripe.CheckoutSession
	if err := json.Unmarshal(event.Data.Raw, &s); err != nil {
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
		app.Logger().Warn("checkout session of no known order", "event", event.ID, "session", s.ID)
		return nil
	}
	pay := paymentDetails{session: s.ID, paidAt: time.Unix(event.Created, 0)}
	if s.PaymentIntent != nil {
		pay.paymentIntent = s.PaymentIntent.ID
	}
	if s.Invoice != nil {
		pay.invoice = s.Invoice.ID
	}
	if s.Customer != nil {
		pay.customer = s.Customer.ID
	}
	_, err = markOrderPaid(context.Background(), app, order, pay)
	return err
}

// sessionNotPaid cancels the pending order of a session that ended without
// payment; an order that was paid meanwhile stays as it is.
func sessionNotPaid(reason string) eventEffect {
	return func(app core.App, event stripe.Event) error {
		var s stripe.CheckoutSession
		if err := json.Unmarshal(event.Data.Raw, &s); err != nil {
			return err
		}
		order, err := sessionOrder(app, &s)
		if err != nil || order == nil || c.NewOrder(order).Status() != c.StatusPending {
			return err
		}
		order.Set(c.OrderStatusField, string(c.StatusCancelled))
		order.Set(c.OrderCancelReason, reason)
		return app.Save(order)
	}
}

// chargeRefunded marks a fully refunded order refunded. A partial refund
// changes no status; an order we cancelled with its refund stays cancelled.
func chargeRefunded(app core.App, event stripe.Event) error {
	var ch stripe.Charge
	if err := json.Unmarshal(event.Data.Raw, &ch); err != nil {
		return err
	}
	if ch.PaymentIntent == nil {
		return nil
	}
	order, err := findOrder(app, [2]string{c.OrderStripePaymentIntent, ch.PaymentIntent.ID})
	if err != nil || order == nil {
		return err
	}
	if ch.Refunds != nil && len(ch.Refunds.Data) > 0 && order.GetString(c.OrderStripeRefund) == "" {
		order.Set(c.OrderStripeRefund, ch.Refunds.Data[0].ID)
	}
	status := c.NewOrder(order).Status()
	if ch.Refunded && status.CanMoveTo(c.StatusRefunded) {
		order.Set(c.OrderStatusField, string(c.StatusRefunded))
	} else if !ch.Refunded {
		app.Logger().Info("partial refund", "order", order.Id, "refunded", ch.AmountRefunded, "of", ch.Amount)
	}
	return app.Save(order)
}

// liveInvoiceAge is how old an invoice may be for its invoice.paid event
// to email the customer; an older one is history (a backfill, a replay).
const liveInvoiceAge = 24 * time.Hour

func invoicePaid(app core.App, event stripe.Event) error {
	var inv stripe.Invoice
	if err := json.Unmarshal(event.Data.Raw, &inv); err != nil {
		return err
	}
	ctx := context.Background()
	if time.Since(time.Unix(inv.Created, 0)) > liveInvoiceAge {
		ctx = withoutEmails(ctx)
	}
	_, err := upsertInvoiceOrder(ctx, app, &inv)
	return err
}
