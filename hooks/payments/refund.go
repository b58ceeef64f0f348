package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
	"shopdash/hooks/records"
)

// refundRequest is the body of POST /api/v1/orders/{id}/refund: an amount
// in the order's minor units (nil: all that remains) and why.
type refundRequest struct {
	Amount *int   `json:"amount"`
	Reason string `json:"reason"`
}

// refundOrderRoute refunds the whole of an order or a part of it, for
// support (CONTRACT §5). See refund.
func (p *Payments) refundOrderRoute(e *core.RequestEvent) error {
	record, err := e.App.FindRecordById(c.Orders, e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	var body refundRequest
	if err := access.BindBody(e, &body, `{"amount": 1500, "reason": "..."}`); err != nil {
		return err
	}
	body.Reason = strings.TrimSpace(body.Reason)
	if reason, err := c.NormaliseLine(body.Reason); err == nil {
		body.Reason = reason
	} else if body.Reason != "" {
		return e.BadRequestError("Check the refund.", validation.Errors{"reason": err})
	}
	err = validation.ValidateStruct(&body,
		validation.Field(&body.Reason, validation.Required.Error("Give the reason for the refund."), validation.RuneLength(1, 500)),
		validation.Field(&body.Amount, validation.NilOrNotEmpty.Error("Refund more than nothing."),
			validation.Min(1).Error("Refund more than nothing.")),
	)
	if err != nil {
		return e.BadRequestError("Check the refund.", err)
	}
	order, err := p.refund(e.App, refundOrder{orderID: record.Id, amount: body.Amount, reason: body.Reason, actor: audit.Actor(e.Auth)})
	return answerOrder(e, order, err)
}

// refundOrder is one refund of an order.
type refundOrder struct {
	orderID string
	// amount is in minor units; nil refunds all that remains.
	amount *int
	reason string
	actor  string
}

// errNothingToRefund is the 409 of an order with nothing left to refund.
func errNothingToRefund(status c.OrderStatus) *router.ApiError {
	return router.NewApiError(http.StatusConflict,
		fmt.Sprintf("An order that is %s has nothing to refund.", status), nil)
}

// errTooMuch is the 400 of an amount larger than what remains.
func errTooMuch(remaining int, currency string) *router.ApiError {
	return router.NewApiError(http.StatusBadRequest, "Check the refund.", validation.Errors{
		"amount": validation.NewError("validation_refund_too_large",
			fmt.Sprintf("At most %d (in %s minor units) is left to refund.", remaining, strings.ToUpper(currency))),
	})
}

// refund claims the order (paid, shipped or delivered), refunds the amount
// at Stripe under a key of its own, then adds it to refunded_amount, and
// when nothing remains makes the order refunded (giving back the stock of
// an order that had not shipped), audits it and releases the claim, in one
// transaction. Two refunds at once cannot both pass: the second finds the
// order claimed (409) or, after the first, less left to refund (400).
// Stripe failing changes nothing (502).
func (p *Payments) refund(app core.App, req refundOrder) (*core.Record, error) {
	claim, err := records.ClaimOrder(app, req.orderID, c.StatusPaid, c.StatusShipped, c.StatusDelivered)
	var conflict records.StatusConflict
	switch {
	case errors.As(err, &conflict):
		return nil, errNothingToRefund(conflict.Status)
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
	from, remaining := order.Status(), order.Refundable()
	amount := remaining
	if req.amount != nil {
		amount = *req.amount
	}
	var refusal *router.ApiError
	switch {
	case remaining == 0:
		refusal = errNothingToRefund(from)
	case amount > remaining:
		refusal = errTooMuch(remaining, order.Currency())
	case order.StripePaymentIntent() == "":
		refusal = router.NewApiError(http.StatusConflict,
			"This order has no Stripe payment on record to refund; refund it in Stripe's dashboard.", nil)
	case p.stripe == nil:
		refusal = errPaymentsOff()
	}
	if refusal != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		return nil, refusal
	}

	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(order.StripePaymentIntent()),
		Amount:        stripe.Int64(int64(amount)),
		Reason:        stripe.String(string(stripe.RefundReasonRequestedByCustomer)),
		Metadata:      map[string]string{"order_id": order.Id},
	}
	// One key per refund: the claim is new for each, and stripe-go's own
	// retries of this request reuse it.
	params.SetIdempotencyKey("refund-" + order.Id + "-" + claim)
	refund, err := p.stripe.Refunds.New(params)
	if err != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		logStripeFailure(app, "refund order", err, "order", order.Id)
		return nil, errStripeFailed("refund the payment", err)
	}

	var to c.OrderStatus
	err = app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(c.Orders, req.orderID)
		if err != nil {
			return err
		}
		if status := c.NewOrder(fresh).Status(); status != from {
			return fmt.Errorf("order moved from %s to %s while claimed", from, status)
		}
		// A charge.refunded event may have counted part of it already.
		refunded := min(max(fresh.GetInt(c.OrderRefundedAmount), record.GetInt(c.OrderRefundedAmount)+amount), order.Total())
		fresh.Set(c.OrderRefundedAmount, refunded)
		fresh.Set(c.OrderStripeRefund, refund.ID)
		to = from
		if refunded >= order.Total() {
			to = c.StatusRefunded
			fresh.Set(c.OrderStatusField, string(to))
		}
		records.ClearClaim(fresh)
		if err := tx.SaveWithContext(records.WithClaim(context.Background(), claim), fresh); err != nil {
			return err
		}
		if from == c.StatusPaid && to == c.StatusRefunded {
			if err := records.ReturnStock(tx, fresh.Id); err != nil {
				return err
			}
		}
		record = fresh
		return audit.Write(tx, req.actor, "order.refund", c.AuditRef(c.Orders, fresh.Id), map[string]any{
			"amount": amount, "currency": order.Currency(), "reason": req.reason, "refund": refund.ID,
			"from": string(from), "to": string(to), "refunded_amount": refunded,
		})
	})
	if err != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		app.Logger().Error("refund made but the order was not updated; the charge.refunded event will record it",
			"order", req.orderID, "refund", refund.ID, "error", err.Error())
		return nil, router.NewApiError(http.StatusInternalServerError,
			"The refund went through, but the order could not be updated yet: it will show the refund shortly.", nil)
	}
	app.Logger().Info("order refunded", "order", record.Id, "amount", amount, "from", string(from), "to", string(to), "refund", refund.ID)
	return record, nil
}
