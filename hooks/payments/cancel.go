package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
	"shopdash/hooks/records"
)

// cancelRequest is the body of POST /api/v1/orders/{id}/cancel.
type cancelRequest struct {
	Reason string `json:"reason"`
}

// cancelOrder cancels a pending order (its Checkout Session is expired) or
// a paid one (refunded through Stripe), for the route: customers cancel
// their own orders, support any, with a reason. See cancel.
func (p *Payments) cancelOrder(e *core.RequestEvent) error {
	user := c.NewUser(e.Auth)
	record, err := e.App.FindRecordById(c.Orders, e.Request.PathValue("id"))
	if err != nil || (user.Role() == c.RoleCustomer && record.GetString(c.OrderUser) != user.Id) {
		return e.NotFoundError("", nil)
	}
	var body cancelRequest
	if err := access.BindBody(e, &body, `{"reason": "..."}`); err != nil {
		return err
	}
	rules := []validation.Rule{validation.Length(0, 500)}
	if user.Role() == c.RoleSupport {
		rules = append(rules, validation.Required.Error("Support gives a reason when cancelling an order."))
	}
	if err := validation.ValidateStruct(&body, validation.Field(&body.Reason, rules...)); err != nil {
		return e.BadRequestError("Check the reason.", err)
	}
	if body.Reason != "" {
		// It goes into the order, the audit log and the customer's view.
		reason, err := c.NormaliseMultiline(body.Reason)
		if err != nil {
			return e.BadRequestError("Check the reason.", validation.Errors{"reason": err})
		}
		body.Reason = reason
	}
	order, err := p.cancel(e.App, cancellation{orderID: record.Id, reason: body.Reason, actor: audit.Actor(e.Auth)})
	return answerOrder(e, order, err)
}

// cancellation is one cancel of an order.
type cancellation struct {
	orderID, reason string
	// actor is who cancels, for audit_log; "" for the shop's own jobs.
	actor string
	// closeOffline cancels a pending order without Stripe when payments
	// are off (the stale-orders job), rather than refusing.
	closeOffline bool
}

// cancel claims the order (order_claim.go), then closes its checkout (a
// pending order) or refunds it (a paid one), then cancels it, gives its
// stock back, audits it and releases the claim in one transaction. Stripe
// is called under the claim, so nothing else moves the order meanwhile:
// a ship or a second cancel gets 409, a Stripe event waits. If Stripe
// fails, the claim is released and nothing has changed (502). A cancel
// asked again after its answer was lost finds the refund it made
// (refundRemaining) and makes no other. Once Stripe has refunded, the
// refund is never hidden behind a 409.
func (p *Payments) cancel(app core.App, req cancellation) (*core.Record, error) {
	claim, err := records.ClaimOrder(app, req.orderID, c.StatusPending, c.StatusPaid)
	var conflict records.StatusConflict
	switch {
	case errors.As(err, &conflict):
		return nil, router.NewApiError(http.StatusConflict,
			fmt.Sprintf("An order that is %s cannot be cancelled.", conflict.Status), nil)
	case errors.Is(err, records.ErrOrderBusy):
		return nil, records.ErrBusyAPI()
	case err != nil:
		return nil, err
	}
	record, err := app.FindRecordById(c.Orders, req.orderID)
	if err != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		return nil, err
	}
	order := c.NewOrder(record)
	from := order.Status()
	refund := ""
	var apiErr *router.ApiError
	switch from {
	case c.StatusPending:
		if p.stripe != nil || !req.closeOffline {
			apiErr = p.closeCheckout(app, order)
		}
	case c.StatusPaid:
		refund, apiErr = p.refundRemaining(app, order, claim)
	}
	if apiErr != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		return nil, apiErr
	}

	err = app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(c.Orders, req.orderID)
		if err != nil {
			return err
		}
		if status := c.NewOrder(fresh).Status(); status != from {
			// Only when the claim lapsed and another change took over.
			return fmt.Errorf("order moved from %s to %s while claimed", from, status)
		}
		fresh.Set(c.OrderStatusField, string(c.StatusCancelled))
		fresh.Set(c.OrderCancelReason, req.reason)
		if from == c.StatusPaid {
			// The refund is of all that remained: the order is refunded in whole.
			if refund != "" {
				fresh.Set(c.OrderStripeRefund, refund)
			}
			fresh.Set(c.OrderRefundedAmount, fresh.GetInt(c.OrderTotal))
			fresh.Set(c.OrderRefundedAt, types.NowDateTime())
		}
		records.ClearClaim(fresh)
		if err := tx.SaveWithContext(records.WithClaim(context.Background(), claim), fresh); err != nil {
			return err
		}
		if err := records.ReturnStock(tx, fresh.Id); err != nil {
			return err
		}
		record = fresh
		if req.actor == "" {
			return nil
		}
		return audit.Write(tx, req.actor, "order.cancel", c.AuditRef(c.Orders, fresh.Id),
			map[string]any{"from": string(from), "reason": req.reason, "refund": refund})
	})
	if err != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		if refund != "" {
			// Stripe has refunded: its charge.refunded event, no longer
			// held back by the claim, records it on the order.
			app.Logger().Error("refund made but the order was not updated; the charge.refunded event will record it",
				"order", req.orderID, "refund", refund, "error", err.Error())
			return nil, router.NewApiError(http.StatusInternalServerError,
				"The refund went through, but the order could not be updated yet: it will show as refunded shortly.", nil)
		}
		return nil, fmt.Errorf("cancel order %s: %w", req.orderID, err)
	}
	app.Logger().Info("order cancelled", "order", record.Id, "from", string(from), "refund", refund)
	return record, nil
}

// closeCheckout expires the Checkout Session of a pending order, so it can
// no longer be paid. A session that was paid meanwhile makes it a 409:
// the order is about to become paid, and cancelling it then refunds it.
func (p *Payments) closeCheckout(app core.App, order *c.Order) *router.ApiError {
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
	var missing *stripe.Error
	switch {
	case errors.As(getErr, &missing) && missing.HTTPStatusCode == http.StatusNotFound:
		return nil // Stripe has no such session: nothing can pay this order
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

// refundRemaining refunds, for the cancel holding claim, what remains of
// the payment of a paid order (all of it, or what support's partial
// refunds left) and returns the refund id. A refund the order noted and
// never recorded is looked up first (refundedSoFar): when it left
// nothing to refund, it is the cancel's refund.
func (p *Payments) refundRemaining(app core.App, order *c.Order, claim string) (string, *router.ApiError) {
	if order.StripePaymentIntent() == "" {
		return "", router.NewApiError(http.StatusConflict,
			"This order has no Stripe payment on record to refund; refund it by hand, then mark it in the dashboard.", nil)
	}
	if p.stripe == nil {
		return "", errPaymentsOff()
	}
	before, lost, apiErr := p.refundedSoFar(app, order)
	switch {
	case apiErr != nil:
		return "", apiErr
	case before < order.Total():
		refund, apiErr := p.refundPayment(app, order, claim, before, order.Total()-before)
		if apiErr != nil {
			return "", apiErr
		}
		return refund.ID, nil
	case lost != nil:
		return lost.ID, nil
	}
	return "", nil // refunded in whole at Stripe already (by hand), not yet told
}
