package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// errSignedAhead refuses a signature dated later than the tolerance after
// our clock. stripe-go refuses only those dated too long ago, and one
// dated ahead could be replayed for as long as it is ahead.
var errSignedAhead = errors.New("signature dated ahead of our clock by more than the tolerance")

// verifyEvent accepts an event signed with any configured secret, of any
// API version (the fields we read are stable across versions), dated
// within stripe-go's 5-minute tolerance of our clock either way. A body
// so signed that is no event the shop can take is an *unreadableEvent.
func (p *Payments) verifyEvent(payload []byte, signature string) (stripe.Event, error) {
	if time.Until(signedAt(signature)) > webhook.DefaultTolerance {
		return stripe.Event{}, errSignedAhead
	}
	var err error
	for _, secret := range p.cfg.StripeWebhookSecrets {
		if err = webhook.ValidatePayload(payload, signature, secret); err == nil {
			return readEvent(payload)
		}
	}
	return stripe.Event{}, err
}

// signedAt is the time a Stripe-Signature header says it was signed
// (t=), read as stripe-go reads it: the last t= wins. Zero when it has
// none, which the signature check then refuses.
func signedAt(signature string) time.Time {
	var at time.Time
	for _, pair := range strings.Split(signature, ",") {
		if value, ok := strings.CutPrefix(pair, "t="); ok {
			if unix, err := strconv.ParseInt(value, 10, 64); err == nil {
				at = time.Unix(unix, 0)
			}
		}
	}
	return at
}

// unreadableEvent is a signed body that is no event the shop can take:
// answered 400 with what is wrong, field by field where it can say, and
// nothing written. Stripe sends no such event; it would fail every retry.
type unreadableEvent struct {
	message string
	fields  validation.Errors
}

func (u *unreadableEvent) Error() string {
	if len(u.fields) > 0 {
		return u.message + " " + u.fields.Error()
	}
	return u.message
}

// readEvent reads a signed body as an event whose id the ledger can hold
// and whose object is a JSON object, as stripe-go's ConstructEvent does
// after the signature check.
func readEvent(payload []byte) (stripe.Event, error) {
	var envelope struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if json.Unmarshal(payload, &envelope) == nil && !bytes.HasPrefix(envelope.Data.Object, []byte("{")) {
		return stripe.Event{}, &unreadableEvent{message: "The event cannot be read.", fields: validation.Errors{
			"data": validation.Errors{"object": validation.NewError("validation_invalid_type", "An event's data.object is a JSON object.")},
		}}
	}
	var event stripe.Event
	if err := json.Unmarshal(payload, &event); err != nil {
		return stripe.Event{}, &unreadableEvent{message: "The event cannot be read: " + err.Error()}
	}
	var invalid validation.Error
	switch {
	case event.ID == "":
		invalid = validation.NewError("validation_required", "An event has an id.")
	case len(event.ID) > maxStripeIDLength:
		invalid = validation.NewError("validation_length_too_long",
			"An event id is at most "+strconv.Itoa(maxStripeIDLength)+" characters.")
	}
	if invalid != nil {
		return stripe.Event{}, &unreadableEvent{message: "The event cannot be read.", fields: validation.Errors{"id": invalid}}
	}
	return event, nil
}
