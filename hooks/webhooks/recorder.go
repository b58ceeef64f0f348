package webhooks

import (
	"time"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/records"
	"shopdash/internal/groupcommit"
	"shopdash/internal/prepared"
)

// maxOutcomeBatch bounds the attempts' outcomes written in one transaction.
const maxOutcomeBatch = 64

// outcome is what an attempt wrote, or is to write, on its delivery.
type outcome struct {
	id, claim  string
	attempts   int
	lastStatus int
	lastError  string
	status     string
	at         time.Time
	// next is the next attempt's time (failed); zero leaves it as it is.
	// A delivered outcome stamps delivered_at with at.
	next time.Time

	written bool // the claim still held: the row is changed
	err     error
}

// updateOutcome writes an attempt's outcome on the row its claim holds:
// attempts, last_status, last_error, status, updated, then next_attempt
// and delivered_at (NULL: unchanged), then the id and the claim.
var updateOutcome = "UPDATE " + prepared.QuoteName(c.WebhookDeliveries) + " SET " +
	prepared.QuoteName(c.DeliveryAttempts) + " = ?, " + prepared.QuoteName(c.DeliveryLastStatus) + " = ?, " +
	prepared.QuoteName(c.DeliveryLastError) + " = ?, " + prepared.QuoteName(c.DeliveryStatus) + " = ?, " +
	prepared.QuoteName(c.DeliveryUpdated) + " = ?, " + prepared.QuoteName(c.DeliveryClaim) + " = '', " +
	prepared.QuoteName(c.DeliveryNextAttempt) + " = COALESCE(?, " + prepared.QuoteName(c.DeliveryNextAttempt) + "), " +
	prepared.QuoteName(c.DeliveryDeliveredAt) + " = COALESCE(?, " + prepared.QuoteName(c.DeliveryDeliveredAt) + ")" +
	" WHERE " + prepared.QuoteName("id") + " = ? AND " + prepared.QuoteName(c.DeliveryClaim) + " = ?"

// outcomeRecorder writes the attempts' outcomes in group commits
// (internal/groupcommit): the shop has one writer, which the payments and
// every other change queue for, and an outcome's own write costs less
// than the transaction around it. The attempts that finish while a batch
// is written are written together in the next one. Each attempt waits
// until its outcome is committed (or has failed), so nothing about an
// attempt changes but the number of transactions.
type outcomeRecorder struct {
	batches groupcommit.Batcher[*outcome]
}

// write writes o, with the outcomes queued meanwhile, and reports whether
// o's claim still held.
func (r *outcomeRecorder) write(w *Webhooks, o *outcome) (bool, error) {
	r.batches.Do(o, func(batch []*outcome) {
		err := w.app.RunInTransaction(func(tx core.App) error {
			for _, b := range batch {
				var next, delivered any
				if !b.next.IsZero() {
					next = records.Stamp(b.next).String()
				}
				if b.status == c.DeliveryDelivered {
					delivered = records.Stamp(b.at).String()
				}
				res, err := w.stmts.Exec(tx, updateOutcome, b.attempts, b.lastStatus, b.lastError, b.status,
					records.Stamp(b.at).String(), next, delivered, b.id, b.claim)
				if err != nil {
					return err
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				b.written = n > 0
			}
			return nil
		})
		if err != nil {
			for _, b := range batch {
				b.written, b.err = false, err
			}
		}
	})
	return o.written, o.err
}
