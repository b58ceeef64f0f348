package webhooks

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

// bindEndpointRules holds endpoints to the contract on every path (the
// records API, /_/, the command): a checked URL, a secret generated when
// none is given, the replaced secret kept for a day on rotation, a new
// endpoint active unless said otherwise; and drops the cached list after
// each change.
func (w *Webhooks) bindEndpointRules() {
	w.app.OnRecordValidate(c.WebhookEndpoints).BindFunc(w.checkEndpoint)
	w.app.OnRecordCreate(c.WebhookEndpoints).BindFunc(fillSecret)
	w.app.OnRecordUpdate(c.WebhookEndpoints).BindFunc(rotateSecret)
	w.app.OnRecordCreateRequest(c.WebhookEndpoints).BindFunc(activeUnlessSaid)
	forget := func(e *core.RecordEvent) error {
		w.endpoints.forget()
		w.nudge()
		return e.Next()
	}
	// The outbox is written by the shop alone, read-only to superusers too
	// (CONTRACT §8): a row made by hand could lack what an attempt needs.
	w.app.OnRecordCreateRequest(c.WebhookDeliveries).BindFunc(deliveriesReadOnly)
	w.app.OnRecordUpdateRequest(c.WebhookDeliveries).BindFunc(deliveriesReadOnly)
	w.app.OnRecordDeleteRequest(c.WebhookDeliveries).BindFunc(deliveriesReadOnly)
	w.app.OnRecordAfterCreateSuccess(c.WebhookEndpoints).BindFunc(forget)
	w.app.OnRecordAfterUpdateSuccess(c.WebhookEndpoints).BindFunc(forget)
	w.app.OnRecordAfterDeleteSuccess(c.WebhookEndpoints).BindFunc(forget)
}

// deliveriesReadOnly refuses writes of webhook_deliveries through the
// records API, superusers' included.
func deliveriesReadOnly(e *core.RecordRequestEvent) error {
	return e.ForbiddenError("Webhook deliveries are written by the shop alone; replay them with POST /api/v1/admin/webhooks/{endpoint}/replay.", nil)
}

// checkEndpoint refuses a URL that is not https to a public host (unless
// private ones are allowed) and a secret that is not whsec_ base64.
func (w *Webhooks) checkEndpoint(e *core.RecordEvent) error {
	errs := validation.Errors{}
	if err := CheckEndpointURL(e.Record.GetString(c.EndpointURL), w.cfg.AllowPrivate); err != nil {
		errs[c.EndpointURL] = err
	}
	if secret := e.Record.GetString(c.EndpointSecret); secret != "" {
		if err := checkSecret(secret); err != nil {
			errs[c.EndpointSecret] = err
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return e.Next()
}

// fillSecret generates the secret of a new endpoint given none.
func fillSecret(e *core.RecordEvent) error {
	if e.Record.GetString(c.EndpointSecret) == "" {
		e.Record.Set(c.EndpointSecret, newSecret())
	}
	return e.Next()
}

// rotateSecret keeps the secret a change replaces as previous_secret for
// WebhookSecretOverlap, so receivers that still hold it verify the
// deliveries meanwhile; an emptied secret is replaced by a new one.
func rotateSecret(e *core.RecordEvent) error {
	if e.Record.GetString(c.EndpointSecret) == "" {
		e.Record.Set(c.EndpointSecret, newSecret())
	}
	stored, err := e.App.FindRecordById(c.WebhookEndpoints, e.Record.Id)
	if err != nil {
		return err
	}
	if old := stored.GetString(c.EndpointSecret); old != "" && old != e.Record.GetString(c.EndpointSecret) {
		e.Record.Set(c.EndpointPreviousSecret, old)
		e.Record.Set(c.EndpointPreviousSecretUntil, types.NowDateTime().Add(c.WebhookSecretOverlap))
	}
	if e.Record.GetBool(c.EndpointActive) && !stored.GetBool(c.EndpointActive) {
		// Enabled again: the reason it was disabled, and its failures, are past.
		e.Record.Set(c.EndpointDisabledReason, "")
		e.Record.Set(c.EndpointFailingSince, "")
	}
	return e.Next()
}

// activeUnlessSaid makes an endpoint created through the records API
// active when the body does not say: a bool field cannot tell unset from
// false, the request body can.
func activeUnlessSaid(e *core.RecordRequestEvent) error {
	info, err := e.RequestInfo()
	if err != nil {
		return err
	}
	if _, given := info.Body[c.EndpointActive]; !given {
		e.Record.Set(c.EndpointActive, true)
	}
	return e.Next()
}
