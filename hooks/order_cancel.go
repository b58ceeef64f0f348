package hooks

import (
	"errors"
	"fmt"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
)

// cancelRequest is the body of POST /api/v1/orders/{id}/cancel.
type cancelRequest struct {
	Reason string `json:"reason"`
}

// errOrderMoved ends a cancel whose order changed status while Stripe was
// being called.
var errOrderMoved = errors.New("order changed meanwhile")

// cancelOrder cancels a pending order (its Checkout Session is expired) or
// a paid one (refunded through Stripe first). Stripe is called before
// anything is written: if it fails the order is unchanged (502), and the
// idempotency key makes a retried cancel reuse the same refund. Customers
// cancel their own orders; support any, with a reason. Every cancel is
// audited with the status change, in one transaction.
func (p *payments) cancelOrder(e *core.RequestEvent) error {
	user := c.NewUser(e.Auth)
	record, err := e.App.FindRecordById(c.Orders, e.Request.PathValue("id"))
	if err != nil || (user.Role() == c.RoleCustomer && record.GetString(c.OrderUser) != user.Id) {
		return e.NotFoundError("", nil)
	}
	var body cancelRequest
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("The body must be JSON: {\"reason\": \"...\"}.", err)
	}
	rules := []validation.Rule{validation.Length(0, 500)}
	if user.Role() == c.RoleSupport {
		rules = append(rules, validation.Required.Error("Support gives a reason when cancelling an order."))
	}
	if err := validation.ValidateStruct(&body, validation.Field(&body.Reason, rules...)); err != nil {
		return e.BadRequestError("Check the reason.", err)
	}

	order := c.NewOrder(record)
	from := order.Status()
	if !from.Cancellable() {
		return router.NewApiError(http.StatusConflict,
			fmt.Sprintf("An order that is %s cannot be cancelled.", from), nil)
	}
	refund := ""
	switch from {
	case c.StatusPending:
		if apiErr := p.closeCheckout(e.App, order); apiErr != nil {
			return apiErr
		}
	case c.StatusPaid:
		var apiErr *router.ApiError
		if refund, apiErr = p.refundOrder(e.App, order); apiErr != nil {
			return apiErr
		}
	}

	err = e.App.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(c.Orders, record.Id)
		if err != nil {
			return err
		}
		if c.NewOrder(fresh).Status() != from {
			return errOrderMoved
		}
		fresh.Set(c.OrderStatusField, string(c.StatusCancelled))
		fresh.Set(c.OrderCancelReason, body.Reason)
		if refund != "" {
			fresh.Set(c.OrderStripeRefund, refund)
		}
		if err := tx.Save(fresh); err != nil {
			return err
		}
		if from == c.StatusPaid {
			if err := returnStock(tx, fresh.Id); err != nil {
				return err
			}
		}
		record = fresh
		return writeAudit(tx, actorRef(e.Auth), "order.cancel", c.AuditRef(c.Orders, fresh.Id),
			map[string]any{"from": string(from), "reason": body.Reason, "refund": refund})
	})
	if errors.Is(err, errOrderMoved) {
		return router.NewApiError(http.StatusConflict, "The order changed while it was being cancelled; reload it and try again.", nil)
	}
	if err != nil {
		return e.InternalServerError("", err)
	}
	e.App.Logger().Info("order cancelled", "order", record.Id, "from", string(from), "refund", refund)
	return e.JSON(http.StatusOK, record)
}

// closeCheckout expires the Checkout Session of a pending order, so it can
// no longer be paid. A session that was paid meanwhile makes it a 409:
// the order is about to become paid, and cancelling it then refunds it.
func (p *payments) closeCheckout(app core.App, order *c.Order) *router.ApiError {
	session := order.StripeSession()
	if session == "" {
		return nil // never reached Stripe (e.g. demo data)
	}
	if p.stripe == nil {
		return errPaymentsOff()
	}
	params := &stripe.CheckoutSessionExpireParams{}
	params.SetIdempotencyKey("expire-" + session)
	_, err := p.stripe.CheckoutSessions.Expire(session, params)
	if err == nil {
		return nil
	}
	current, getErr := p.stripe.CheckoutSessions.Get(session, nil)
	switch {
	case getErr != nil:
		logStripeFailure(app, "expire checkout session", err, "order", order.Id, "session", session)
		return errStripeFailed("close the checkout", err)
	case current.Status == stripe.CheckoutSessionStatusExpired:
		return nil
	case current.Status == stripe.CheckoutSessionStatusComplete:
		return router.NewApiError(http.StatusConflict,
			"The payment for this order has just gone through; reload it, then cancel it to get a refund.", nil)
	}
	logStripeFailure(app, "expire checkout session", err, "order", order.Id, "session", session)
	return errStripeFailed("close the checkout", err)
}

// refundOrder refunds the whole payment of a paid order and returns the
// refund id.
func (p *payments) refundOrder(app core.App, order *c.Order) (string, *router.ApiError) {
	intent := order.StripePaymentIntent()
	if intent == "" {
		return "", router.NewApiError(http.StatusConflict,
			"This order has no Stripe payment on record to refund; refund it by hand, then mark it in the dashboard.", nil)
	}
	if p.stripe == nil {
		return "", errPaymentsOff()
	}
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(intent),
		Reason:        stripe.String(string(stripe.RefundReasonRequestedByCustomer)),
		Metadata:      map[string]string{"order_id": order.Id},
	}
	params.SetIdempotencyKey("refund-" + order.Id)
	refund, err := p.stripe.Refunds.New(params)
	if err != nil {
		logStripeFailure(app, "refund order", err, "order", order.Id)
		return "", errStripeFailed("refund the payment", err)
	}
	return refund.ID, nil
}
