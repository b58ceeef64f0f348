package payments

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
)

// staleAfter is how long an order may wait for its payment. Stripe expires
// a Checkout Session after 24 hours and tells us by webhook; this job
// catches the orders whose webhook never came.
const staleAfter = 24 * time.Hour

// CancelStaleOrders, the stale_orders job, cancels pending orders older than staleAfter and gives
// their stock back, as a customer's cancel does: under the order's claim,
// with the session expired at Stripe first. A session that was paid after
// all is left for its webhook, and so is one Stripe cannot answer for
// right now, or an order another operation holds.
func (p *Payments) CancelStaleOrders(ctx context.Context, run *jobs.Run) error {
	counts := &run.Counts
	cutoff := records.Stamp(time.Now().Add(-staleAfter)).String()
	orders, err := p.app.FindRecordsByFilter(c.Orders, "status = 'pending' && created < {:cutoff}", "created", 1000, 0,
		dbx.Params{"cutoff": cutoff})
	if err != nil {
		return err
	}
	for _, order := range orders {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		counts.Fetched++
		_, err := p.cancel(p.app, cancellation{orderID: order.Id, reason: "Not paid within 24 hours.", closeOffline: true})
		var apiErr *router.ApiError
		switch {
		case err == nil:
			counts.Updated++
		case errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict:
			counts.Skipped++ // paid meanwhile, or held by another operation
		default:
			// Stripe cannot vouch for it: it may have been paid with its
			// webhook lost. The next hourly run asks again.
			counts.Failed++
			p.app.Logger().Warn("could not cancel a stale order", "job", JobStaleOrders, "order", order.Id, "error", err.Error())
		}
	}
	return nil
}
