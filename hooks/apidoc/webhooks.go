package apidoc

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// webhooks is the document's webhooks section: a delivery of each event
// type (Standard Webhooks v1) to the endpoints of webhook_endpoints. The
// data of each is described from the field lists hooks/webhooks builds it
// with (collections.Webhook*Fields) and those fields' definitions, closed:
// a payload that gains, loses or changes a field fails the test that
// validates built payloads against this section.
func webhooks(cols map[string]*core.Collection) object {
	out := object{}
	for _, kind := range c.WebhookEventTypes {
		out[kind] = object{"post": object{
			"summary":     kind,
			"operationId": "webhook_" + strings.ReplaceAll(kind, ".", "_"),
			"description": webhookDescriptions[kind] + " Sent as a Standard Webhooks v1 delivery: headers webhook-id (the same on every attempt and on a replay), webhook-timestamp and webhook-signature (`v1,` base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes; two, space-separated, for a day after the secret is rotated). 2xx is delivered; 410 disables the endpoint; Retry-After is honoured; anything else is retried on the schedule. Deliveries are not ordered: compare `data.updated`.",
			"parameters": []any{
				object{"name": "webhook-id", "in": "header", "required": true, "schema": object{"type": "string"}},
				object{"name": "webhook-timestamp", "in": "header", "required": true, "schema": object{"type": "string"}},
				object{"name": "webhook-signature", "in": "header", "required": true, "schema": object{"type": "string"}},
			},
			"requestBody": object{"required": true, "content": jsonBody(closedAllRequired(object{
				"type":      object{"type": "string", "const": kind},
				"timestamp": text("When the event happened, RFC 3339 with nanoseconds (UTC)."),
				"data":      webhookData(cols, kind),
			}))},
			"responses": object{
				"2XX": object{"description": "Delivered."},
				"410": object{"description": "Gone: the shop disables the endpoint."},
			},
		}}
	}
	return out
}

// webhookDescriptions says when each event is sent.
var webhookDescriptions = map[string]string{
	c.EventOrderCreated:    "An order was placed (a checkout, or an invoice paid at once), with its items.",
	c.EventOrderPaid:       "An order was paid.",
	c.EventOrderShipped:    "An order was shipped, with its carrier and tracking.",
	c.EventOrderDelivered:  "An order was delivered.",
	c.EventOrderCancelled:  "An order was cancelled.",
	c.EventOrderRefunded:   "A refund of an order, one delivery per refund: `amount` is this refund, `refunded_amount` all so far.",
	c.EventProductCreated:  "A product was created.",
	c.EventProductUpdated:  "A product's catalogue fields changed (not the Stripe bookkeeping).",
	c.EventProductDeleted:  "A product was deleted: its last state.",
	c.EventCustomerDeleted: "A customer deleted their account (or a superuser did): its id only.",
}

// webhookData is the data of an event type's deliveries.
func webhookData(cols map[string]*core.Collection, kind string) object {
	switch {
	case kind == c.EventCustomerDeleted:
		return closedAllRequired(object{"id": text("The deleted customer's id.")})
	case strings.HasPrefix(kind, "product."):
		props := fieldsOf(cols[c.Products], c.WebhookProductFields)
		props["id"] = text("The product's id.")
		return described(closedAllRequired(props), "The product as store people see it (file fields are file names).")
	}
	props := fieldsOf(cols[c.Orders], c.WebhookOrderFields)
	props["id"] = text("The order's id.")
	props["customer"] = closedAllRequired(object{
		"id":    text("The customer's user id (\"\" once the account is deleted)."),
		"email": text("The email given at checkout; \"\" once the account is deleted."),
		"name":  text("The name given at checkout; \"\" once the account is deleted."),
	})
	item := fieldsOf(cols[c.OrderItems], c.WebhookItemFields)
	item["id"] = text("The item's id.")
	props["items"] = listOf(closedAllRequired(item))
	description := "The order as support's page shows it, with its items."
	if kind == c.EventOrderRefunded {
		props["amount"] = whole("This refund, in minor units.")
		description += " `amount` is this refund; `refunded_amount` all refunds so far."
	}
	return described(closedAllRequired(props), description)
}

// fieldsOf describes the named fields of a collection as its records show
// them.
func fieldsOf(col *core.Collection, names []string) object {
	props := object{}
	for _, name := range names {
		props[name] = fieldSchema(col.Name, col.Fields.GetByName(name))
	}
	return props
}
