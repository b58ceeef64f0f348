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
	// recovered: Stripe made the refund for an earlier request whose
	// answer was lost, and this one records it.
	recovered bool
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
// at Stripe (refundPayment), then records it (recordRefund). Two refunds
// at once cannot both pass: the second finds the order claimed (409) or,
// after the first, less left to refund (400). Stripe failing changes
// nothing (502).
//
// An order that noted a refund it never recorded (its process died
// between Stripe's answer and the write) has it looked up first: the same
// refund asked again (the same amount) is recorded, not made twice; any
// other is refused (409) once the earlier one is recorded, for support to
// see what the order now shows.
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
	asked := order.Refundable()
	if req.amount != nil {
		asked = *req.amount
	}
	before, lost, apiErr := p.refundedSoFar(app, order)
	if apiErr != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		return nil, apiErr
	}
	if lost != nil {
		recovered := refundOrder{orderID: req.orderID, reason: req.reason, actor: req.actor, recovered: true}
		if int(lost.Amount) != asked {
			recovered.reason = "" // the reason given is for another refund
		}
		record, err := p.recordRefund(app, claim, order, before, lost, recovered)
		if err != nil || int(lost.Amount) == asked {
			return record, err
		}
		return nil, router.NewApiError(http.StatusConflict, fmt.Sprintf(
			"An earlier refund of %d (in %s minor units), whose answer was lost, went through at Stripe and is now recorded on the order. Reload the order and check what is left before refunding more.",
			lost.Amount, strings.ToUpper(order.Currency())), nil)
	}

	remaining := max(0, order.Total()-before)
	amount := remaining
	if req.amount != nil {
		amount = *req.amount
	}
	var refusal *router.ApiError
	switch {
	case remaining == 0:
		refusal = errNothingToRefund(order.Status())
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
	refund, apiErr := p.refundPayment(app, order, claim, before, amount)
	if apiErr != nil {
		records.ReleaseClaim(app, req.orderID, claim)
		return nil, apiErr
	}
	return p.recordRefund(app, claim, order, before+amount, refund, req)
}

// recordRefund writes a refund Stripe made of the order, as read under
// claim, in one transaction: refunded_amount rises to refunded (never down,
// nor past the total: a charge.refunded event may have counted it
// already), the order becomes refunded when nothing remains (giving back
// the stock of an order that had not shipped), the refund is audited and
// the claim released with the refund it noted.
func (p *Payments) recordRefund(app core.App, claim string, order *c.Order, refunded int, refund *stripe.Refund, req refundOrder) (*core.Record, error) {
	from := order.Status()
	var record *core.Record
	var to c.OrderStatus
	err := app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(c.Orders, req.orderID)
		if err != nil {
			return err
		}
		if status := c.NewOrder(fresh).Status(); status != from {
			return fmt.Errorf("order moved from %s to %s while claimed", from, status)
		}
		refunded = min(max(fresh.GetInt(c.OrderRefundedAmount), refunded), order.Total())
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
		data := map[string]any{
			"amount": refund.Amount, "currency": order.Currency(), "reason": req.reason, "refund": refund.ID,
			"from": string(from), "to": string(to), "refunded_amount": refunded,
		}
		if req.recovered {
			data["recovered"] = true
		}
		return audit.Write(tx, req.actor, "order.refund", c.AuditRef(c.Orders, fresh.Id), data)
	})
	if err != nil {
		// The refund stays noted: the next refund or cancel of the order
		// finds it, and charge.refunded records it meanwhile.
		records.ReleaseClaim(app, req.orderID, claim)
		app.Logger().Error("refund made but the order was not updated; the charge.refunded event will record it",
			"order", req.orderID, "refund", refund.ID, "error", err.Error())
		return nil, router.NewApiError(http.StatusInternalServerError,
			"The refund went through, but the order could not be updated yet: it will show the refund shortly.", nil)
	}
	app.Logger().Info("order refunded", "order", record.Id, "amount", refund.Amount, "from", string(from), "to", string(to), "refund", refund.ID)
	return record, nil
}
