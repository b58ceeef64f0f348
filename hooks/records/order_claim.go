package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

// An operation that calls Stripe about an order (a cancel, a refund) claims
// the order first and releases it with its last write. Between the two,
// every other change of the order (support shipping it, a Stripe event, a
// second cancel) is refused before it does anything: the records API and
// the routes answer 409, the webhook waits and then asks Stripe to retry.
// So a refund that Stripe made is always recorded by the operation that
// asked for it, and nothing moves the order under it. Before asking, the
// operation notes the refund's idempotency key on the order (NoteRefund);
// if its process dies before the write, the key stays after the claim
// lapses, and the next refund or cancel asks Stripe what became of it
// rather than refunding again.

// claimTTL is how long a claim holds. An operation takes a few seconds; a
// claim older than this was left by a process that died in between, and
// is taken over (the Stripe calls are idempotent, so repeating one is safe).
const claimTTL = 5 * time.Minute

// ErrOrderBusy is a change refused because another operation holds the
// order.
var ErrOrderBusy = errors.New("order is being changed by another operation")

// ErrBusyAPI is ErrOrderBusy as the routes and the records API answer it;
// errors.Is still finds ErrOrderBusy in it.
func ErrBusyAPI() *router.ApiError {
	return router.NewApiError(http.StatusConflict,
		"This order is being changed right now (a cancel or refund is under way); reload it in a moment.", ErrOrderBusy)
}

type claimKey struct{}

// WithClaim marks the saves made under a claim, which the claim guard lets
// through.
func WithClaim(ctx context.Context, claim string) context.Context {
	return context.WithValue(ctx, claimKey{}, claim)
}

// ClaimOrder claims an order that is in one of the statuses, with one
// conditional UPDATE, and returns the claim. An order in another status
// is a StatusConflict; one claimed by a live operation is ErrOrderBusy.
func ClaimOrder(app core.App, orderID string, from ...c.OrderStatus) (string, error) {
	claim := security.RandomString(24)
	now := time.Now().UTC()
	statuses := make([]any, len(from))
	for i, s := range from {
		statuses[i] = string(s)
	}
	res, err := app.NonconcurrentDB().Update(c.Orders,
		dbx.Params{c.OrderClaim: claim, c.OrderClaimedAt: Stamp(now).String()},
		dbx.And(
			dbx.HashExp{"id": orderID},
			dbx.In(c.OrderStatusField, statuses...),
			dbx.Or(dbx.HashExp{c.OrderClaim: ""}, dbx.NewExp("[["+c.OrderClaimedAt+"]] < {:stale}",
				dbx.Params{"stale": Stamp(now.Add(-claimTTL)).String()})),
		)).Execute()
	if err != nil {
		return "", fmt.Errorf("claim order %s: %w", orderID, err)
	}
	if rows, _ := res.RowsAffected(); rows == 1 {
		return claim, nil
	}
	status, _, err := storedClaim(app, orderID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(from, status) {
		return "", StatusConflict{Status: status}
	}
	return "", ErrOrderBusy
}

// NoteRefund records on an order that claim holds the idempotency key of
// the refund about to be asked of Stripe. ErrOrderBusy when the claim is
// no longer held.
func NoteRefund(app core.App, orderID, claim, key string) error {
	res, err := app.NonconcurrentDB().Update(c.Orders, dbx.Params{c.OrderRefundPending: key},
		dbx.HashExp{"id": orderID, c.OrderClaim: claim}).Execute()
	if err != nil {
		return fmt.Errorf("note refund %s of order %s: %w", key, orderID, err)
	}
	if rows, _ := res.RowsAffected(); rows != 1 {
		return ErrOrderBusy
	}
	return nil
}

// ReleaseClaim ends a claim whose operation writes nothing more (it failed
// at Stripe); an operation that succeeds releases it with its last save.
// A refund it noted stays noted: Stripe may have made it all the same
// (its answer lost on the way), and the next refund or cancel asks.
func ReleaseClaim(app core.App, orderID, claim string) {
	_, err := app.NonconcurrentDB().Update(c.Orders, dbx.Params{c.OrderClaim: "", c.OrderClaimedAt: ""},
		dbx.HashExp{"id": orderID, c.OrderClaim: claim}).Execute()
	if err != nil {
		// The claim lapses after claimTTL.
		app.Logger().Error("could not release an order claim", "order", orderID, "error", err.Error())
	}
}

// ClearClaim makes the save of record release its claim and forget the
// refund it noted, which that save records.
func ClearClaim(record *core.Record) {
	record.Set(c.OrderClaim, "")
	record.Set(c.OrderClaimedAt, "")
	record.Set(c.OrderRefundPending, "")
}

// StatusConflict is an order whose status forbids the operation.
type StatusConflict struct{ Status c.OrderStatus }

func (s StatusConflict) Error() string { return "the order is " + string(s.Status) }

// storedOrder is what the guards read of an order as stored.
type storedOrder struct {
	Status    string `db:"status"`
	Claim     string `db:"claim"`
	ClaimedAt string `db:"claimed_at"`
	Updated   string `db:"updated"`
}

// liveClaim is the order's claim, or "" when none or when it lapsed.
func (o storedOrder) liveClaim() string {
	if at, _ := types.ParseDateTime(o.ClaimedAt); o.Claim != "" && !at.Time().Before(time.Now().Add(-claimTTL)) {
		return o.Claim
	}
	return ""
}

// readStoredOrder reads an order as stored, inside the caller's
// transaction if any; the zero value when there is none.
func readStoredOrder(app core.App, orderID string) (storedOrder, error) {
	var row storedOrder
	err := app.DB().Select(c.OrderStatusField, c.OrderClaim, c.OrderClaimedAt, c.OrderUpdated).From(c.Orders).
		Where(dbx.HashExp{"id": orderID}).One(&row)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return row, fmt.Errorf("read order %s: %w", orderID, err)
	}
	return row, nil
}

// storedClaim reads an order's status and live claim as stored.
func storedClaim(app core.App, orderID string) (c.OrderStatus, string, error) {
	row, err := readStoredOrder(app, orderID)
	return c.OrderStatus(row.Status), row.liveClaim(), err
}

// guardOrderWrite refuses a save of an order that another operation holds,
// or that changed since the record being saved was read (a records-API
// edit reads the order before its transaction, and PocketBase writes the
// whole row: it would undo what a webhook or a cancel wrote meanwhile),
// then holds it to the status machine. It runs on every path (records API,
// dashboard, webhooks, sync, jobs) and reads the order once, in the save's
// own transaction.
func guardOrderWrite(e *core.RecordEvent) error {
	stored, err := readStoredOrder(e.App, e.Record.Id)
	if err != nil {
		return err
	}
	if held, _ := e.Context.Value(claimKey{}).(string); stored.liveClaim() != "" && stored.liveClaim() != held {
		return ErrBusyAPI()
	}
	if original := e.Record.Original(); original != nil && stored.Updated != "" &&
		original.GetString(c.OrderUpdated) != stored.Updated {
		return router.NewApiError(http.StatusConflict, "This order changed since it was loaded; reload it and try again.", nil)
	}
	return enforceStatusMachine(e, c.OrderStatus(stored.Status))
}
