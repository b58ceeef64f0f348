package collections

// WebhookDeliveries is the outbox of the outgoing webhooks: one row per
// endpoint and event, written in the transaction of the change it tells
// of. Superusers only, read-only (CONTRACT §8).
const WebhookDeliveries = "webhook_deliveries"

// Fields of webhook_deliveries. event_id is the webhook-id of every
// attempt; payload is the body sent, byte for byte. resource is the id of
// the order, product or customer the event is about. claim (hidden) is the
// token of the worker that holds the row while it sends an attempt, until
// next_attempt (its lease) passes.
const (
	DeliveryEndpoint    = "endpoint"
	DeliveryEventID     = "event_id"
	DeliveryType        = "type"
	DeliveryStatus      = "status"
	DeliveryAttempts    = "attempts"
	DeliveryNextAttempt = "next_attempt"
	DeliveryLastStatus  = "last_status"
	DeliveryLastError   = "last_error"
	DeliveryPayload     = "payload"
	DeliveryResource    = "resource"
	DeliveryDeliveredAt = "delivered_at"
	DeliveryClaim       = "claim"
	DeliveryCreated     = "created"
	DeliveryUpdated     = "updated"
)

// Values of webhook_deliveries.status: pending before the first attempt,
// failed with a retry to come, delivered (a 2xx), dead after the last
// attempt.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryDead      = "dead"
)

// DeliveryStatuses lists every status.
var DeliveryStatuses = []string{DeliveryPending, DeliveryDelivered, DeliveryFailed, DeliveryDead}

// DeliveryLastErrorMax bounds last_error: a receiver's answer is never
// stored whole.
const DeliveryLastErrorMax = 500

// DeliveryPayloadMax bounds a payload (an order with many items).
const DeliveryPayloadMax = 1 << 20

// What the data of the events holds besides the resource's id
// (hooks/webhooks builds it, hooks/apidoc describes it from these lists
// and the collections' fields). An order event also carries the customer
// (id, email, name) and the items; order.refunded the refund's amount.
var (
	// WebhookOrderFields are the order's fields in an order event.
	WebhookOrderFields = []string{OrderNumber, OrderStatusField, OrderCurrency, OrderTotal, OrderDiscount,
		OrderRefundedAmount, OrderItemCount, OrderShippingAddress, OrderCarrier, OrderTrackingNumber,
		OrderTrackingURL, OrderEstimatedArrival, OrderReceiptURL, OrderCancelReason, OrderPaidAt,
		OrderShippedAt, OrderDeliveredAt, OrderCancelledAt, OrderRefundedAt, OrderCreated, OrderUpdated}
	// WebhookItemFields are each item's fields in an order event.
	WebhookItemFields = []string{ItemProduct, ItemProductName, ItemUnitPrice, ItemQuantity, ItemEstimatedArrival}
	// WebhookProductFields are the product's fields in a product event.
	WebhookProductFields = []string{ProductName, ProductDescription, ProductPrice, ProductCurrency, ProductStock,
		ProductActive, ProductFeatured, ProductDigital, ProductImage, ProductAsset,
		ProductStripeProduct, ProductStripePrice, ProductCreated, ProductUpdated}
)
