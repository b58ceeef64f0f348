package webhooks

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
	"shopdash/hooks/records"
)

// DefaultReplaySince is how far back a replay looks when not told.
const DefaultReplaySince = "24h"

// ErrNoEndpoint is a replay of an endpoint that does not exist, and
// ErrNoDelivery one of a delivery the endpoint does not have.
var (
	ErrNoEndpoint = errors.New("no such webhook endpoint")
	ErrNoDelivery = errors.New("no such delivery of this webhook endpoint")
)

// Replay selects the deliveries of an endpoint to send again: those
// created since a time (a duration back from now, "24h", or an RFC 3339
// time), of one status or any; or one delivery, whenever it was created.
type Replay struct {
	Since    string `json:"since"`
	Status   string `json:"status"`
	Delivery string `json:"delivery"`
}

// Validate names the field at fault, as the route answers it.
func (r Replay) Validate() error {
	return validation.ValidateStruct(&r,
		validation.Field(&r.Since, validation.By(func(any) error {
			if _, err := r.since(time.Now()); err != nil {
				return validation.NewError("validation_invalid_date", err.Error())
			}
			return nil
		})),
		validation.Field(&r.Status, validation.In(anyOf(c.DeliveryStatuses)...).
			Error("One of pending, delivered, failed, dead.")),
	)
}

// since is the earliest creation time the replay takes.
func (r Replay) since(now time.Time) (time.Time, error) {
	raw := r.Since
	if raw == "" {
		raw = DefaultReplaySince
	}
	if d, err := time.ParseDuration(raw); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if t, err := types.ParseDateTime(raw); err == nil && !t.IsZero() {
		return t.Time(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration back from now (24h) nor an RFC 3339 time", raw)
}

func anyOf(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// ReplayDeliveries queues an endpoint's deliveries again, each under its
// own webhook-id (event_id) and body: back to pending with no attempts,
// due now. A delivery an attempt holds right now is left to it. The
// replay and its audit entry (by actor) are one transaction. It reports
// how many were queued; a running shop sends them within a second (an
// inactive endpoint's when it is active again).
func ReplayDeliveries(app core.App, actor, endpoint string, r Replay) (int64, error) {
	var queued int64
	err := app.RunInTransaction(func(tx core.App) error {
		var err error
		if queued, err = requeue(tx, endpoint, r); err != nil {
			return err
		}
		return audit.Write(tx, actor, "webhooks.replay", c.AuditRef(c.WebhookEndpoints, endpoint),
			map[string]any{"since": r.Since, "status": r.Status, "delivery": r.Delivery, "queued": queued})
	})
	return queued, err
}

// requeue resets the deliveries a replay selects.
func requeue(app core.App, endpoint string, r Replay) (int64, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	if _, err := app.FindRecordById(c.WebhookEndpoints, endpoint); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNoEndpoint
		}
		return 0, err
	}
	now := time.Now().UTC()
	since, _ := r.since(now)
	where := dbx.And(
		dbx.HashExp{c.DeliveryEndpoint: endpoint, c.DeliveryClaim: ""},
		dbx.NewExp("[["+c.DeliveryCreated+"]] >= {:since}", dbx.Params{"since": records.Stamp(since).String()}),
	)
	if r.Delivery != "" {
		if _, err := app.FindFirstRecordByFilter(c.WebhookDeliveries, "id = {:id} && endpoint = {:endpoint}",
			dbx.Params{"id": r.Delivery, "endpoint": endpoint}); err != nil {
			return 0, ErrNoDelivery
		}
		where = dbx.HashExp{c.DeliveryEndpoint: endpoint, c.DeliveryClaim: "", "id": r.Delivery}
	}
	if r.Status != "" {
		where = dbx.And(where, dbx.HashExp{c.DeliveryStatus: r.Status})
	}
	stamp := records.Stamp(now).String()
	res, err := app.NonconcurrentDB().Update(c.WebhookDeliveries, dbx.Params{
		c.DeliveryStatus: c.DeliveryPending, c.DeliveryAttempts: 0, c.DeliveryNextAttempt: stamp,
		c.DeliveryLastStatus: 0, c.DeliveryLastError: "", c.DeliveryDeliveredAt: "", c.DeliveryUpdated: stamp,
	}, where).Execute()
	if err != nil {
		return 0, fmt.Errorf("replay the deliveries of endpoint %s: %w", endpoint, err)
	}
	return res.RowsAffected()
}

// bindRoutes adds POST /api/v1/admin/webhooks/{endpoint}/replay.
func (w *Webhooks) bindRoutes() {
	w.app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se).Group("/admin/webhooks")
		g.Bind(apis.RequireSuperuserAuth())
		g.POST("/{endpoint}/replay", w.replayFromAdmin)
		return se.Next()
	})
}

func (w *Webhooks) replayFromAdmin(e *core.RequestEvent) error {
	var body Replay
	if err := access.BindBody(e, &body, `{"since": "24h", "status": "dead"} or {"delivery": "..."}`); err != nil {
		return err
	}
	if err := body.Validate(); err != nil {
		return e.BadRequestError("Check the values sent.", err)
	}
	endpoint := e.Request.PathValue("endpoint")
	queued, err := ReplayDeliveries(e.App, audit.Actor(e.Auth), endpoint, body)
	switch {
	case errors.Is(err, ErrNoEndpoint):
		return e.NotFoundError("No such webhook endpoint.", nil)
	case errors.Is(err, ErrNoDelivery):
		return e.NotFoundError("No such delivery of this webhook endpoint.", nil)
	case err != nil:
		return e.InternalServerError("", err)
	}
	w.nudge()
	return e.JSON(http.StatusOK, map[string]any{"endpoint": endpoint, "queued": queued})
}
