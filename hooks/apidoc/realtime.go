package apidoc

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// authPaths documents the PocketBase route that gives the token.
func authPaths() object {
	return object{"/api/collections/users/auth-with-password": object{"post": operation(
		[]string{"auth"}, "Sign in with email and password", "authWithPassword",
		"PocketBase's sign-in. Staff with MFA on get 401 with an `mfaId` and finish with an emailed code (PocketBase's OTP routes).",
		[]any{queryParameter("expand", "Relations of the record to expand.", object{"type": "string"})},
		object{"required": true, "content": jsonBody(closed(object{
			"identity": text("The email address."),
			"password": text(""),
		}, "identity", "password"))},
		object{
			"200": jsonAnswer("Signed in.", closedAllRequired(object{
				"token":  text("Send it as the Authorization header."),
				"record": ref("Profile"),
			}), nil),
			"400": errorResponse(400),
			"401": jsonAnswer("A second factor is needed (MFA).", closedAllRequired(object{"mfaId": text("")}), nil),
			"429": errorResponse(429),
		},
	)}}
}

// realtimeProse describes the realtime topics: which, and who hears what.
func realtimeProse(cols []*core.Collection) string {
	var followed []string
	for _, col := range cols {
		if col.ListRule != nil || col.ViewRule != nil {
			followed = append(followed, "`"+col.Name+"`")
		}
	}
	return strings.TrimSpace(`
## Realtime

PocketBase's realtime API (` + "`GET /api/realtime`" + ` opens the event stream,
` + "`POST /api/realtime`" + ` sets the connection's topics), through the JS SDK:
` + "`pb.collection(name).subscribe(\"*\" | id, callback, {fields, filter})`" + `.

Topics: ` + "`{collection}/*`" + ` (every record the list rule lets the
listener see) and ` + "`{collection}/{id}`" + ` (one record, under the view rule),
for ` + strings.Join(followed, ", ") + `. Each event is
` + "`{action: \"create\" | \"update\" | \"delete\", record}`" + `, the record as the
records API shows it (schemas *Record below).

Who hears what: a customer their own orders, order items and profile, and
active products; support every order, order item, note, customer, product and
the audit log; store the products; guests active products. The shop delivers
these events itself (ADR 9); the subscribe request answers 403 for another
collection's topic, 400 for a malformed topic, an ` + "`expand`" + ` option or a filter on
` + "`@request`/`@collection`" + `, 429 past 20 filtered topics from one address.
Events of one connection arrive in write order; a connection 256 events
behind is closed (the SDK reconnects). A topic's filter is not applied to
delete events.`)
}

// webhookEventTypes are the outgoing webhooks' event types (CONTRACT §8),
// by what their data holds.
var webhookEventTypes = []struct{ Type, Data string }{
	{"order.created", "order"}, {"order.paid", "order"}, {"order.shipped", "order"},
	{"order.delivered", "order"}, {"order.cancelled", "order"}, {"order.refunded", "refund"},
	{"product.created", "product"}, {"product.updated", "product"}, {"product.deleted", "product"},
	{"customer.deleted", "customer"},
}

// webhooks is the document's webhooks section: the deliveries the shop
// sends to the endpoints of webhook_endpoints, Standard Webhooks v1.
func webhooks() object {
	data := map[string]object{
		"order": described(object{"type": "object", "required": []string{"id", "number", "status"}, "properties": object{
			"id": text(""), "number": text(""), "status": text(""), "currency": text(""), "total": whole(""),
			"refunded_amount": whole(""), "items": listOf(object{"type": "object"}),
			"customer":         object{"type": "object", "properties": object{"id": text(""), "email": text("")}},
			"shipping_address": addressSchema(), "carrier": text(""), "tracking_number": text(""), "tracking_url": text(""),
		}}, "The order as the staff API shows it."),
		"refund": described(object{"type": "object", "required": []string{"id", "number", "status", "amount", "refunded_amount"}, "properties": object{
			"id": text(""), "number": text(""), "status": text(""), "currency": text(""),
			"amount": whole("This refund, in minor units."), "refunded_amount": whole("All refunds so far."),
		}}, "The order and this refund."),
		"product":  described(ref(schemaName(c.Products)), "The product."),
		"customer": closedAllRequired(object{"id": text("The deleted customer's id.")}),
	}
	out := object{}
	for _, ev := range webhookEventTypes {
		out[ev.Type] = object{"post": object{
			"summary":     ev.Type,
			"operationId": "webhook_" + strings.ReplaceAll(ev.Type, ".", "_"),
			"description": "A delivery to a webhook endpoint (Standard Webhooks v1): headers webhook-id (the same on every attempt), webhook-timestamp and webhook-signature (`v1,` base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes). 2xx is delivered; 410 disables the endpoint; Retry-After is honoured; anything else is retried on the schedule.",
			"parameters": []any{
				object{"name": "webhook-id", "in": "header", "required": true, "schema": object{"type": "string"}},
				object{"name": "webhook-timestamp", "in": "header", "required": true, "schema": object{"type": "string"}},
				object{"name": "webhook-signature", "in": "header", "required": true, "schema": object{"type": "string"}},
			},
			"requestBody": object{"required": true, "content": jsonBody(closedAllRequired(object{
				"type":      object{"type": "string", "const": ev.Type},
				"timestamp": text("RFC 3339."),
				"data":      data[ev.Data],
			}))},
			"responses": object{
				"2XX": object{"description": "Delivered."},
				"410": object{"description": "Gone: the shop disables the endpoint."},
			},
		}}
	}
	return out
}
