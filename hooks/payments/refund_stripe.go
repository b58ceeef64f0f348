package payments

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/records"
)

// A refund, the refund route's or a cancel's, is asked of Stripe under an
// idempotency key that says what it is (refundKey), noted on the order
// before the call (records.NoteRefund) and kept in the refund's metadata.
// If the shop dies between Stripe's answer and its write, the order keeps
// the note after the claim lapses, and the next refund or cancel of it
// looks the refund up at Stripe (refundedSoFar) instead of paying it twice.

// refundKeyMetadata is the refund's metadata entry that holds its key.
const refundKeyMetadata = "refund_key"

// refundKey is the idempotency key of a refund of amount from an order
// that had before refunded: asking again for the same refund repeats the
// same request, which Stripe answers with the first refund for 24 hours.
// Stripe keeps an error answer (a 500) as long, so once it has said that
// it never made the refund the order noted under the key (refundedSoFar),
// the next attempt gets a key of its own: -2, -3, …
func refundKey(order *c.Order, before, amount int) string {
	key := fmt.Sprintf("refund-%s-%d-%d", order.Id, before, amount)
	noted := order.RefundPending()
	if noted == key {
		return key + "-2"
	}
	if attempt, found := strings.CutPrefix(noted, key+"-"); found {
		if n, err := strconv.Atoi(attempt); err == nil {
			return fmt.Sprintf("%s-%d", key, n+1)
		}
	}
	return key
}

// refundPayment refunds amount of the order's payment at Stripe, for the
// operation holding claim, once the order had before refunded. A refund
// the order noted must have been looked up (refundedSoFar) and found not
// made.
func (p *Payments) refundPayment(app core.App, order *c.Order, claim string, before, amount int) (*stripe.Refund, *router.ApiError) {
	key := refundKey(order, before, amount)
	if err := records.NoteRefund(app, order.Id, claim, key); err != nil {
		app.Logger().Error("could not note a refund before asking Stripe", "order", order.Id, "error", err.Error())
		return nil, router.NewApiError(http.StatusInternalServerError, "The refund could not be started; nothing was changed, please try again.", nil)
	}
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(order.StripePaymentIntent()),
		Amount:        stripe.Int64(int64(amount)),
		Reason:        stripe.String(string(stripe.RefundReasonRequestedByCustomer)),
		Metadata:      map[string]string{"order_id": order.Id, refundKeyMetadata: key},
	}
	params.SetIdempotencyKey(key)
	refund, err := p.stripe.Refunds.New(params)
	if err != nil {
		logStripeFailure(app, "refund order", err, "order", order.Id, "refund_key", key)
		return nil, errStripeFailed("refund the payment", err)
	}
	return refund, nil
}

// refundedSoFar is what the order's payment has had refunded, as far as
// the shop can tell before refunding more: refunded_amount, or, when the
// order noted a refund it never recorded, what Stripe says (never more
// than the total), with that refund if Stripe made it.
func (p *Payments) refundedSoFar(app core.App, order *c.Order) (int, *stripe.Refund, *router.ApiError) {
	key := order.RefundPending()
	if key == "" {
		return order.RefundedAmount(), nil, nil
	}
	if p.stripe == nil {
		return 0, nil, errPaymentsOff()
	}
	params := &stripe.RefundListParams{PaymentIntent: stripe.String(order.StripePaymentIntent())}
	params.Limit = stripe.Int64(100)
	var made *stripe.Refund
	refunded := 0
	it := p.stripe.Refunds.List(params)
	for it.Next() {
		r := it.Refund()
		if r.Status == stripe.RefundStatusFailed || r.Status == stripe.RefundStatusCanceled {
			continue
		}
		refunded += int(r.Amount)
		if r.Metadata[refundKeyMetadata] == key {
			made = r
		}
	}
	if err := it.Err(); err != nil {
		logStripeFailure(app, "look up a refund not recorded", err, "order", order.Id, "refund_key", key)
		return 0, nil, errStripeFailed("say what became of an earlier refund", err)
	}
	app.Logger().Warn("a refund was asked of Stripe and not recorded; looked it up",
		"order", order.Id, "refund_key", key, "made", made != nil, "stripe_refunded", refunded)
	return max(order.RefundedAmount(), min(refunded, order.Total())), made, nil
}
