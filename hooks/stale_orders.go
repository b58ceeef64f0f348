package hooks

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
)

// staleAfter is how long an order may wait for its payment. Stripe expires
// a Checkout Session after 24 hours and tells us by webhook; this job
// catches the orders whose webhook never came.
const staleAfter = 24 * time.Hour

// cancelStaleOrders cancels pending orders older than staleAfter. A session
// that was paid after all is left for its webhook, and so is one Stripe
// cannot answer for right now.
func (j *Jobs) cancelStaleOrders(ctx context.Context, counts *RunCounts) error {
	cutoff := stampDate(time.Now().Add(-staleAfter)).String()
	orders, err := j.app.FindRecordsByFilter(c.Orders, "status = 'pending' && created < {:cutoff}", "created", 1000, 0,
		dbx.Params{"cutoff": cutoff})
	if err != nil {
		return err
	}
	for _, order := range orders {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		counts.Fetched++
		if session := order.GetString(c.OrderStripeSession); session != "" && j.payments.stripe != nil {
			s, err := j.payments.stripe.CheckoutSessions.Get(session, &stripe.CheckoutSessionParams{Params: stripe.Params{Context: ctx}})
			var se *stripe.Error
			switch {
			case errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound:
				// Stripe has no such session: nothing can pay this order.
			case err != nil:
				// Stripe cannot vouch for it: it may have been paid with its
				// webhook lost. The next hourly run asks again.
				counts.Failed++
				logStripeFailure(j.app, "look up checkout session", err, "job", JobStaleOrders, "order", order.Id)
				continue
			case s.Status == stripe.CheckoutSessionStatusComplete:
				counts.Skipped++ // paid: its webhook will mark it
				continue
			case s.Status == stripe.CheckoutSessionStatusOpen:
				j.payments.expireSession(j.app, session, order.Id)
			}
		}
		err := j.app.RunInTransaction(func(tx core.App) error {
			fresh, err := tx.FindRecordById(c.Orders, order.Id)
			if err != nil || c.NewOrder(fresh).Status() != c.StatusPending {
				return err
			}
			fresh.Set(c.OrderStatusField, string(c.StatusCancelled))
			fresh.Set(c.OrderCancelReason, "Not paid within 24 hours.")
			return tx.Save(fresh)
		})
		if err != nil {
			counts.Failed++
			j.app.Logger().Warn("could not cancel a stale order", "job", JobStaleOrders, "order", order.Id, "error", err.Error())
			continue
		}
		counts.Updated++
	}
	return nil
}
