package payments

import (
	"context"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
)

// A charge.refunded names its payment by payment intent, and an order
// learns its payment intent only from its payment (markOrderPaid, or the
// new order of an invoice made outside the shop). Stripe does not order
// its deliveries, so a refund may arrive before the payment it refunds.
// Such a refund is parked: its ledger row says parked and keeps the
// payment intent and what the charge says was refunded, and the
// transaction in which an order first gains that payment intent applies
// it (applyParkedRefunds) and marks the row applied. Either way the
// refund is applied once, in the transaction of one ledger row, and a
// repeat of the event finds its row and does nothing. Refunds of payments
// that never become an order's (another business on the same Stripe
// account) are deleted parkedRefundTTL after they were parked.

// parkedRefundTTL is how long a refund waits for its payment's order:
// Stripe keeps an event for 30 days, so after that no delivery, retry or
// replay (stripe_replay) can bring the payment any more.
const parkedRefundTTL = maxReplayWindow

// maxStripeIDLength is what the orders' and the ledger's Stripe id fields
// (event_id included) hold: a longer payment intent can be no order's.
const maxStripeIDLength = 255

// chargeRefund is what a charge.refunded says of its payment's refunds:
// the ledger keeps it for a parked refund (as JSON), and an order records
// it (recordChargeRefund).
type chargeRefund struct {
	Charge        string `json:"charge"`
	PaymentIntent string `json:"-"` // the ledger row's payment_intent
	// AmountRefunded is cumulative: what all the payment's refunds came
	// to when Stripe sent the event.
	AmountRefunded int64 `json:"amount_refunded"`
	// Refunded: the payment was refunded whole.
	Refunded bool `json:"refunded"`
	// Refund is the id of the charge's latest refund, when the event lists
	// its refunds (events of 2023-10-16 do not).
	Refund string `json:"refund,omitempty"`
}

func refundOfCharge(ch *stripe.Charge) chargeRefund {
	r := chargeRefund{Charge: ch.ID, AmountRefunded: ch.AmountRefunded, Refunded: ch.Refunded}
	if ch.PaymentIntent != nil {
		r.PaymentIntent = ch.PaymentIntent.ID
	}
	if ch.Refunds != nil && len(ch.Refunds.Data) > 0 && ch.Refunds.Data[0] != nil {
		r.Refund = ch.Refunds.Data[0].ID
	}
	return r
}

// refundParked is what chargeRefunded answers, having written nothing,
// for a refund whose payment intent no order has yet: applyEvent records
// the event as parked with it. Like fs.SkipDir, it is returned as an
// error but is an outcome.
type refundParked struct{ refund chargeRefund }

func (r *refundParked) Error() string {
	return "refund of payment intent " + r.refund.PaymentIntent + " parked until an order has it"
}

// chargeRefunded records a refund made at Stripe (by the shop, or by hand
// in Stripe's dashboard) on the order of its payment intent
// (recordChargeRefund), or parks it until an order has that payment
// intent.
func chargeRefunded(ctx context.Context, app core.App, event stripe.Event) error {
	var ch stripe.Charge
	if err := decodeObject(event, &ch); err != nil {
		return err
	}
	refund := refundOfCharge(&ch)
	if refund.PaymentIntent == "" || len(refund.PaymentIntent) > maxStripeIDLength {
		return nil
	}
	order, err := findByStripeID(app, c.Orders, c.OrderStripePaymentIntent, refund.PaymentIntent)
	if err != nil {
		return err
	}
	if order == nil {
		return &refundParked{refund: refund}
	}
	return recordChargeRefund(ctx, app, order, refund)
}

// recordChargeRefund writes what a charge says of its refunds on the
// order: refunded_amount follows the charge's cumulative amount_refunded
// (never down), and an order with nothing left to refund becomes
// refunded, giving back the stock of one that had not shipped. A partial
// refund changes no status; an order we cancelled with its refund stays
// cancelled.
func recordChargeRefund(ctx context.Context, app core.App, order *core.Record, refund chargeRefund) error {
	if refund.Refund != "" && order.GetString(c.OrderStripeRefund) == "" {
		order.Set(c.OrderStripeRefund, refund.Refund)
	}
	o := c.NewOrder(order)
	status := o.Status()
	refunded := o.RefundedAmount()
	if refund.Refunded {
		refunded = o.Total()
	} else if int(refund.AmountRefunded) > refunded {
		refunded = min(int(refund.AmountRefunded), o.Total())
	}
	order.Set(c.OrderRefundedAmount, refunded)
	whole := refunded >= o.Total()
	if whole && status.CanMoveTo(c.StatusRefunded) {
		order.Set(c.OrderStatusField, string(c.StatusRefunded))
	} else if !whole {
		app.Logger().Info("partial refund", "order", order.Id, "refunded", refunded, "of", o.Total())
	}
	if err := app.SaveWithContext(ctx, order); err != nil {
		return err
	}
	if status == c.StatusPaid && whole {
		return records.ReturnStock(app, order.Id)
	}
	return nil
}

// parkedForIntent finds the refunds parked for a payment intent, oldest
// first; only parked rows are in the index it uses.
var parkedForIntent = prepared.QuoteName(c.StripeEventStatus) + " = '" + c.EventParked + "' AND " +
	prepared.QuoteName(c.StripeEventPaymentIntent) + " = ?"

// applyParkedRefunds applies the refunds parked for paymentIntent to the
// order that has just gained it, in the transaction that gave it: one
// change of the order for them all (their amounts are cumulative, so the
// largest is what was refunded), and their ledger rows marked applied.
// Most payments have none, and it is one indexed lookup.
func applyParkedRefunds(ctx context.Context, app core.App, orderID, paymentIntent string) error {
	if paymentIntent == "" {
		return nil
	}
	rows, err := writerStatements.FindRecords(app, c.StripeEvents, parkedForIntent, prepared.QuoteName(c.StripeEventCreated), 0, paymentIntent)
	if err != nil || len(rows) == 0 {
		return err
	}
	var refund chargeRefund
	for _, row := range rows {
		var parked chargeRefund
		if err := row.UnmarshalJSONField(c.StripeEventRefund, &parked); err != nil {
			return fmt.Errorf("parked refund of event %s: %w", row.GetString(c.StripeEventID), err)
		}
		refund.AmountRefunded = max(refund.AmountRefunded, parked.AmountRefunded)
		refund.Refunded = refund.Refunded || parked.Refunded
		if refund.Refund == "" {
			refund.Refund = parked.Refund
		}
		row.Set(c.StripeEventStatus, c.EventApplied)
		if err := app.Save(row); err != nil {
			return fmt.Errorf("apply parked refund of event %s: %w", row.GetString(c.StripeEventID), err)
		}
	}
	order, err := app.FindRecordById(c.Orders, orderID)
	if err != nil {
		return fmt.Errorf("order %s of parked refunds: %w", orderID, err)
	}
	app.Logger().Info("parked refunds applied", "order", orderID, "payment_intent", paymentIntent, "events", len(rows))
	return recordChargeRefund(ctx, app, order, refund)
}

// applyParkedRefundsOfNew is applyParkedRefunds for the new orders of a
// page of the sync, with one lookup for the page.
func applyParkedRefundsOfNew(ctx context.Context, app core.App, orders []*core.Record) error {
	orderOf := map[string]string{}
	var intents []any
	for _, order := range orders {
		if intent := order.GetString(c.OrderStripePaymentIntent); intent != "" {
			orderOf[intent] = order.Id
			intents = append(intents, intent)
		}
	}
	if len(intents) == 0 {
		return nil
	}
	var waiting []string
	err := app.DB().Select(c.StripeEventPaymentIntent).Distinct(true).From(c.StripeEvents).
		Where(dbx.NewExp("[[" + c.StripeEventStatus + "]] = '" + c.EventParked + "'")).
		AndWhere(dbx.In(c.StripeEventPaymentIntent, intents...)).Column(&waiting)
	if err != nil {
		return fmt.Errorf("refunds parked for new orders: %w", err)
	}
	for _, intent := range waiting {
		if err := applyParkedRefunds(ctx, app, orderOf[intent], intent); err != nil {
			return err
		}
	}
	return nil
}

// parkRefund saves the ledger row of a parked refund, and deletes the
// refunds parked longer than parkedRefundTTL: parked rows only ever
// accrue here.
func parkRefund(app core.App, row *core.Record, refund *chargeRefund) error {
	row.Set(c.StripeEventPaymentIntent, refund.PaymentIntent)
	row.Set(c.StripeEventRefund, refund)
	if err := app.Save(row); err != nil {
		return err
	}
	res, err := app.DB().NewQuery("DELETE FROM {{" + c.StripeEvents + "}} WHERE [[" + c.StripeEventStatus + "]] = '" + c.EventParked +
		"' AND [[" + c.StripeEventCreated + "]] < {:before}").
		Bind(dbx.Params{"before": types.NowDateTime().Add(-parkedRefundTTL).String()}).Execute()
	if err != nil {
		return fmt.Errorf("prune parked refunds: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		app.Logger().Warn("refunds parked for a payment no order got were deleted", "events", n, "after", parkedRefundTTL.String())
	}
	return nil
}
