package collections

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Orders holds one record per purchase.
const Orders = "orders"

// Fields of orders. customer_name, customer_email and shipping_address are
// the copy taken at purchase, which is what was shipped to; they are blanked
// when the customer deletes their account. discount is what credit and
// discount lines of a Stripe invoice took off (total is what was paid).
// carrier, tracking_number and tracking_url (https only) are set when the
// order ships; refunded_amount is what was refunded so far, in minor units,
// never more than total; receipt_url is Stripe's hosted page of the
// payment (the invoice's, or the charge's receipt). claim and claimed_at
// (hidden) mark an order that one operation is
// changing while it calls Stripe (a cancel, a refund): every other change
// waits until it is released. refund_pending (hidden) is the idempotency
// key of a refund the claiming operation asked of Stripe and has not
// recorded yet; one left behind was lost with its process, and the next
// refund or cancel of the order asks Stripe what became of it.
const (
	OrderNumber              = "number"
	OrderUser                = "user"
	OrderStatusField         = "status"
	OrderTotal               = "total"
	OrderCurrency            = "currency"
	OrderItemCount           = "item_count"
	OrderEstimatedArrival    = "estimated_arrival"
	OrderCustomerName        = "customer_name"
	OrderCustomerEmail       = "customer_email"
	OrderShippingAddress     = "shipping_address"
	OrderStripeSession       = "stripe_session"
	OrderStripeInvoice       = "stripe_invoice"
	OrderStripePaymentIntent = "stripe_payment_intent"
	OrderStripeRefund        = "stripe_refund"
	OrderPaidAt              = "paid_at"
	OrderCancelledAt         = "cancelled_at"
	OrderCancelReason        = "cancel_reason"
	OrderDiscount            = "discount"
	OrderCarrier             = "carrier"
	OrderTrackingNumber      = "tracking_number"
	OrderTrackingURL         = "tracking_url"
	OrderShippedAt           = "shipped_at"
	OrderDeliveredAt         = "delivered_at"
	OrderRefundedAt          = "refunded_at"
	OrderRefundedAmount      = "refunded_amount"
	OrderReceiptURL          = "receipt_url"
	OrderClaim               = "claim"
	OrderClaimedAt           = "claimed_at"
	OrderRefundPending       = "refund_pending"
	OrderCreated             = "created"
	OrderUpdated             = "updated"
)

// OrderStatus is where an order is in its life.
type OrderStatus string

// The order statuses.
const (
	StatusPending   OrderStatus = "pending"
	StatusPaid      OrderStatus = "paid"
	StatusShipped   OrderStatus = "shipped"
	StatusDelivered OrderStatus = "delivered"
	StatusCancelled OrderStatus = "cancelled"
	StatusRefunded  OrderStatus = "refunded"
)

// OrderStatuses lists every status in the order of an order's life.
var OrderStatuses = []OrderStatus{StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled, StatusRefunded}

// statusMoves is the whole order state machine: the statuses each status
// may move to. Anything else is refused.
var statusMoves = map[OrderStatus][]OrderStatus{
	StatusPending:   {StatusPaid, StatusCancelled},
	StatusPaid:      {StatusShipped, StatusCancelled, StatusRefunded},
	StatusShipped:   {StatusDelivered, StatusRefunded},
	StatusDelivered: {StatusRefunded},
}

// CanMoveTo reports whether an order in status s may move to next.
// Staying in the same status is not a move and always allowed.
func (s OrderStatus) CanMoveTo(next OrderStatus) bool {
	if s == next {
		return true
	}
	for _, allowed := range statusMoves[s] {
		if allowed == next {
			return true
		}
	}
	return false
}

// Cancellable reports whether a customer may still cancel the order.
func (s OrderStatus) Cancellable() bool { return s == StatusPending || s == StatusPaid }

// Refundable reports whether money paid for an order in status s may be
// refunded (in part or in whole) by support.
func (s OrderStatus) Refundable() bool {
	return s == StatusPaid || s == StatusShipped || s == StatusDelivered
}

// InTransit reports whether the order is paid and not yet delivered: the
// statuses in which its arrival date means something.
func (s OrderStatus) InTransit() bool { return s == StatusPaid || s == StatusShipped }

// HoldsGoods reports whether the order has been paid for and its goods
// are the customer's (paid, shipped or delivered).
func (s OrderStatus) HoldsGoods() bool {
	return s == StatusPaid || s == StatusShipped || s == StatusDelivered
}

// Access rules of orders and their realtime events. A customer sees their
// own orders; support sees and updates all (the hooks limit which fields and
// moves); store sees none. Orders are created by checkout, Stripe and the
// sync only, and never deleted through the API: they are accounting records.
const (
	OrdersListRule   = `(user = @request.auth.id && @request.auth.role = "customer") || @request.auth.role = "support"`
	OrdersViewRule   = OrdersListRule
	OrdersUpdateRule = `@request.auth.role = "support"`
)

// Order is a typed view of an orders record.
type Order struct {
	core.BaseRecordProxy
}

// NewOrder wraps an orders record.
func NewOrder(record *core.Record) *Order {
	o := &Order{}
	o.SetProxyRecord(record)
	return o
}

// Number is the human-readable order number.
func (o *Order) Number() string { return o.GetString(OrderNumber) }

// UserID is the id of the customer, or "" once the account is deleted.
func (o *Order) UserID() string { return o.GetString(OrderUser) }

// Status is the order's current status.
func (o *Order) Status() OrderStatus { return OrderStatus(o.GetString(OrderStatusField)) }

// Total is the amount charged, in minor units of Currency.
func (o *Order) Total() int { return o.GetInt(OrderTotal) }

// Currency is the lower-case ISO 4217 code of Total.
func (o *Order) Currency() string { return o.GetString(OrderCurrency) }

// ItemCount is the number of units in the order.
func (o *Order) ItemCount() int { return o.GetInt(OrderItemCount) }

// EstimatedArrival is when the order should arrive; zero when unknown.
func (o *Order) EstimatedArrival() types.DateTime { return o.GetDateTime(OrderEstimatedArrival) }

// StripeSession is the Checkout Session id, or "".
func (o *Order) StripeSession() string { return o.GetString(OrderStripeSession) }

// StripePaymentIntent is the payment intent id, or "".
func (o *Order) StripePaymentIntent() string { return o.GetString(OrderStripePaymentIntent) }

// Claim is the token of the operation changing the order, or "".
func (o *Order) Claim() string { return o.GetString(OrderClaim) }

// ClaimedAt is when Claim was taken.
func (o *Order) ClaimedAt() types.DateTime { return o.GetDateTime(OrderClaimedAt) }

// RefundPending is the idempotency key of a refund asked of Stripe and not
// recorded, or "".
func (o *Order) RefundPending() string { return o.GetString(OrderRefundPending) }

// Created is when the order was placed.
func (o *Order) Created() types.DateTime { return o.GetDateTime(OrderCreated) }

// orderNumberAlphabet has 32 symbols that cannot be misread (no 0, O, 1, I).
const orderNumberAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// FormatOrderNumber turns the low 40 bits of a random number into an order
// number such as "SD-7K3M-9QX2". Callers retry on the unique index.
func FormatOrderNumber(random uint64) string {
	b := []byte("SD-XXXX-XXXX")
	for _, pos := range []int{3, 4, 5, 6, 8, 9, 10, 11} {
		b[pos] = orderNumberAlphabet[random&31]
		random >>= 5
	}
	return string(b)
}

// RefundedAmount is what was refunded so far, in minor units.
func (o *Order) RefundedAmount() int { return o.GetInt(OrderRefundedAmount) }

// Refundable is what may still be refunded, in minor units.
func (o *Order) Refundable() int { return max(0, o.Total()-o.RefundedAmount()) }
