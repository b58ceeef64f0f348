package apidoc

import (
	"strings"

	c "shopdash/collections"
)

// v1Routes are the shop's own routes, by path and method. A route served
// and not here, or here and not served, fails TestDocumentedRoutesAreServed.
func v1Routes() map[string]map[string]route {
	order := ref(schemaName(c.Orders))
	idParam := []any{pathParameter("id", "The order's id.")}
	return map[string]map[string]route{
		DocumentPath: {"get": {
			tag: "meta", summary: "This document", id: "openapi", security: public,
			description: "The OpenAPI 3.1 document of the shop's API. Cacheable; revalidate with If-None-Match.",
			parameters:  []any{object{"name": "If-None-Match", "in": "header", "schema": object{"type": "string"}}},
			answers: map[int]object{
				200: jsonAnswer("The document.", object{"type": "object"}, object{
					"ETag": header("Strong validator of the document."), "Cache-Control": header("How long to keep it."),
				}),
				304: {"description": "Not modified: the If-None-Match ETag is current.", "headers": object{"ETag": header("")}},
			},
		}},
		"/api/v1/me": {
			"get": {
				tag: "account", summary: "The signed-in user", id: "getMe", security: signedIn,
				answers: map[int]object{200: jsonAnswer("Profile and permissions.", ref("Me"), nil)},
				errors:  []int{401},
			},
			"delete": {
				tag: "account", summary: "Delete the account", id: "deleteMe", security: signedIn,
				description: "Needs the account's current password, or a sign-in less than 10 minutes old (401 `reauth_required` otherwise; 403 for a wrong password), so a stolen token alone cannot delete an account. Orders stay for accounting without personal data.",
				body:        jsonRequest(closed(object{"password": text("The account's current password; may be left out within 10 minutes of the sign-in.")}), false),
				answers:     map[int]object{204: {"description": "Deleted."}},
				errors:      []int{400, 401, 403, 413, 415},
			},
		},
		"/api/v1/me/sessions/revoke": {"post": {
			tag: "account", summary: "Sign out of all devices", id: "revokeSessions", security: signedIn,
			description: "Ends every session of the account, this one included (a new token key): every token is refused from then on, on the REST API, realtime and /api/v1. 401 for a wrong password.",
			body:        jsonRequest(closed(object{"password": text("The account's current password.")}, "password"), true),
			answers:     map[int]object{204: {"description": "Every session ended."}},
			errors:      []int{400, 401, 413, 415},
		}},
		"/api/v1/me/export": {"get": {
			tag: "account", summary: "Export the account's data", id: "exportMe", security: signedIn,
			answers: map[int]object{200: jsonAnswer("Everything stored about the user, as an attachment.", closedAllRequired(object{
				"exported_at": text(""),
				"profile":     ref("Profile"),
				"orders":      listOf(ref("ExportedOrder")),
				"emails": listOf(closedAllRequired(object{
					"order": text(""), "template": text(""), "language": text(""), "status": text(""),
					"sent_at": text(""), "created": text(""),
				})),
			}), object{"Content-Disposition": header("attachment; filename=\"shopdash-export-YYYY-MM-DD.json\"")})},
			errors: []int{401},
		}},
		"/api/v1/dashboard": {"get": {
			tag: "shopping", summary: "The customer's dashboard", id: "getDashboard", security: signedIn,
			answers: map[int]object{200: jsonAnswer("Profile, featured products, newest order, 12-month stats.", ref("Dashboard"), nil)},
			errors:  []int{401},
		}},
		"/api/v1/purchases": {"get": {
			tag: "shopping", summary: "The customer's order items", id: "listPurchases", security: signedIn,
			description: "Permission get:orders. The user's own order items in a window (default the last 12 months, at most 24). Every bad parameter is 400 with a field error named after it.",
			parameters: []any{
				queryParameter("from", "`2026-01-31` or `2026-01-31T12:00:00Z`.", object{"type": "string"}),
				queryParameter("to", "As from; a date-only to includes that day.", object{"type": "string"}),
				queryParameter("sort", "created, product_name, unit_price, quantity, total, status, estimated_arrival; `-` descending (default -created).", object{"type": "string"}),
				queryParameter("page", "From 1.", object{"type": "integer", "minimum": 1}),
				queryParameter("perPage", "1–100, default 20.", object{"type": "integer", "minimum": 1, "maximum": 100}),
				queryParameter("status", "One status or several, comma-separated.", object{"type": "string"}),
			},
			answers: map[int]object{200: jsonAnswer("A page of items.", ref("PurchasesPage"), nil)},
			errors:  []int{400, 401, 403},
		}},
		"/api/v1/downloads": {"get": {
			tag: "shopping", summary: "The customer's downloads", id: "listDownloads", security: signedIn,
			answers: map[int]object{200: jsonAnswer("Digital items of paid, shipped or delivered orders.", closedAllRequired(object{"items": listOf(ref("Download"))}), nil)},
			errors:  []int{401},
		}},
		"/api/v1/downloads/{item}": {"get": {
			tag: "shopping", summary: "Download an item's file", id: "download", security: []any{object{}, object{"pocketbaseToken": []any{}}},
			description: "Signed in, or with the link's token from GET /api/v1/downloads.",
			parameters: []any{pathParameter("item", "The order item's id."),
				queryParameter("token", "The file token of the download link.", object{"type": "string"})},
			answers: map[int]object{200: {"description": "The file, as an attachment.",
				"headers": object{"Content-Disposition": header("attachment; filename=…"), "Cache-Control": header("private, no-store")},
				"content": object{"*/*": object{}}, // the asset, of its own type
			}},
			errors: []int{401, 403, 404},
		}},
		"/api/v1/checkout": {"post": {
			tag: "shopping", summary: "Check out", id: "checkout", security: signedIn,
			description: "Permission create:orders. Prices come from the products, never from the body. Creates a pending order and a Stripe Checkout Session; with `Accept: text/html` answers 303 to it.",
			body: jsonRequest(closed(object{"items": described(object{"type": "array", "minItems": 1, "maxItems": 20,
				"items": closed(object{
					"product":  text("An active product's id, once per checkout."),
					"quantity": object{"type": "integer", "minimum": 1, "description": "1..stock; 1 for a download."},
				}, "product", "quantity")}, "1–20 lines in one currency.")}, "items"), true),
			answers: map[int]object{
				201: jsonAnswer("The order and where to pay.", closedAllRequired(object{
					"order": order, "checkout_url": text("Stripe's hosted checkout page."), "session_id": text(""),
				}), nil),
				303: {"description": "To Stripe's checkout page (the request accepted text/html).", "headers": object{"Location": header("Stripe's checkout URL.")}},
			},
			errors: []int{400, 401, 403, 413, 415, 502, 503},
		}},
		"/api/v1/orders/{id}/cancel": {"post": {
			tag: "orders", summary: "Cancel an order", id: "cancelOrder", security: signedIn, parameters: idParam,
			description: "Permission cancel:orders: customers their own pending or paid orders, support any with a reason. A paid order is refunded through Stripe first.",
			body:        jsonRequest(closed(object{"reason": text("Support must give one.")}), false),
			answers:     map[int]object{200: jsonAnswer("The cancelled order.", order, nil)},
			errors:      []int{400, 401, 403, 404, 409, 413, 415, 502, 503},
		}},
		"/api/v1/orders/{id}/refund": {"post": {
			tag: "orders", summary: "Refund an order", id: "refundOrder", security: signedIn, parameters: idParam,
			description: "Permission refund:orders (support). Whole or partial; the order becomes refunded when nothing remains.",
			body: jsonRequest(closed(object{
				"amount": object{"type": "integer", "minimum": 1, "description": "Minor units; default all that remains."},
				"reason": object{"type": "string", "minLength": 1, "maxLength": 500},
			}, "reason"), true),
			answers: map[int]object{200: jsonAnswer("The order.", order, nil)},
			errors:  []int{400, 401, 403, 404, 409, 413, 415, 502, 503},
		}},
		"/api/v1/orders/{id}/timeline": {"get": {
			tag: "staff", summary: "An order's timeline", id: "orderTimeline", security: signedIn, parameters: idParam,
			description: "Permission update:orders (support). Oldest first.",
			answers:     map[int]object{200: jsonAnswer("The order's life.", closedAllRequired(object{"items": listOf(ref("TimelineEntry"))}), nil)},
			errors:      []int{401, 403, 404},
		}},
		"/api/v1/customers": {"get": {
			tag: "staff", summary: "Find customers", id: "searchCustomers", security: signedIn,
			description: "Permission update:orders (support). Customers whose email or name holds q, newest first, at most 20.",
			parameters:  []any{object{"name": "q", "in": "query", "required": true, "description": "3–100 characters.", "schema": object{"type": "string"}}},
			answers: map[int]object{200: jsonAnswer("The customers found.", closedAllRequired(object{
				"items": listOf(ref("CustomerResult")), "perPage": whole(""), "more": boolean("More than perPage matched."), "q": text(""),
			}), nil)},
			errors: []int{400, 401, 403},
		}},
		"/api/v1/products/{id}/push": {"post": {
			tag: "staff", summary: "Push a product to Stripe again", id: "pushProduct", security: signedIn,
			parameters:  []any{pathParameter("id", "The product's id.")},
			description: "Permission update:products (store). The push runs in the background; stripe_sync becomes synced or failed.",
			answers:     map[int]object{202: jsonAnswer("Queued.", closedAllRequired(object{"product": ref(schemaName(c.Products))}), nil)},
			errors:      []int{401, 403, 404, 409, 503},
		}},
		"/api/v1/stripe/webhook": {"post": {
			tag: "stripe", summary: "Stripe's events", id: "stripeWebhook", security: public,
			description: "For Stripe only: verifies Stripe-Signature, applies each event once, answers 200 to events it does not handle. " +
				"A `charge.refunded` of a payment no order has yet (Stripe does not order its deliveries) is recorded `parked` and applied with that payment. " +
				"400: a bad signature, or a signed event the shop cannot read (an `id` empty or longer than 255 characters, a `data.object` that is not a JSON object), with the field named in `data`.",
			parameters: []any{object{"name": "Stripe-Signature", "in": "header", "required": true, "schema": object{"type": "string"}}},
			body:       object{"required": true, "content": jsonBody(object{"type": "object", "description": "A Stripe event."})},
			answers: map[int]object{200: jsonAnswer("Received.", closed(object{
				"received": boolean(""), "applied": boolean(""),
				// parked: hooks/payments/refund_parked.go.
				"status": oneOfValues("What the ledger recorded now; absent for events not handled or seen before.", c.EventApplied, c.EventParked, c.EventMismatched, c.EventFailed),
			}, "received", "applied"), nil)},
			errors: []int{400, 409, 503},
		}},
		"/api/v1/admin/jobs": {"get": {
			tag: "admin", summary: "The background jobs", id: "listJobs", security: signedIn,
			description: "Superusers only.",
			answers:     map[int]object{200: jsonAnswer("Every job with its switch and last runs.", closedAllRequired(object{"items": listOf(ref("JobState"))}), nil)},
			errors:      []int{401, 403},
		}},
		"/api/v1/admin/users/{id}/sessions/revoke": {"post": {
			tag: "admin", summary: "Sign an account out of all devices", id: "revokeAccountSessions", security: signedIn,
			description: "Superusers only. Ends every session of the account at once (REST, realtime, /api/v1); audited as `user.sessions_revoke` under the superuser. `shopdash sessions revoke EMAIL` does the same from the command line.",
			parameters:  []any{pathParameter("id", "The account's id (users).")},
			answers:     map[int]object{204: {"description": "Every session ended."}},
			errors:      []int{401, 403, 404},
		}},
		"/api/v1/admin/jobs/{name}/run":    {"post": jobSwitch("run", "Run a job now", 202)},
		"/api/v1/admin/jobs/{name}/pause":  {"post": jobSwitch("pause", "Pause a job", 200)},
		"/api/v1/admin/jobs/{name}/resume": {"post": jobSwitch("resume", "Resume a job", 200)},
		"/api/v1/admin/webhooks/{endpoint}/replay": {"post": {
			tag: "admin", summary: "Replay an endpoint's webhook deliveries", id: "replayWebhooks", security: signedIn,
			description: "Superusers only. Queues the endpoint's deliveries created since `since` (default the last 24 hours), of one status or any, or the one `delivery`, to be sent again, each under its own webhook-id and body, with a fresh retry schedule; one an attempt holds right now is left to it. An inactive endpoint's are sent when it is active again.",
			parameters:  []any{pathParameter("endpoint", "The webhook endpoint's id.")},
			body: jsonRequest(closed(object{
				"since":    text("A duration back from now (`24h`, `90m`) or an RFC 3339 time; default `24h`."),
				"status":   object{"type": "string", "enum": c.DeliveryStatuses, "description": "Only deliveries of this status; any when absent."},
				"delivery": text("One delivery of the endpoint (a webhook_deliveries id), whenever it was created; 404 if the endpoint has no such delivery."),
			}), false),
			answers: map[int]object{200: jsonAnswer("How many deliveries were queued.", closedAllRequired(object{
				"endpoint": text(""), "queued": whole("Deliveries queued again."),
			}), nil)},
			errors: []int{400, 401, 403, 404, 413, 415},
		}},
	}
}

// jobSwitch is one of the superusers' job actions.
func jobSwitch(action, summary string, status int) route {
	answer := closedAllRequired(object{"job": text(""), "paused": boolean("")})
	errors := []int{401, 403, 404}
	if action == "run" {
		answer = closedAllRequired(object{"job": text(""), "started": boolean("")})
		errors = append(errors, 409)
	}
	return route{
		tag: "admin", summary: summary, id: action + "Job", security: signedIn,
		description: "Superusers only.",
		parameters:  []any{pathParameter("name", "The job's name (GET /api/v1/admin/jobs).")},
		answers:     map[int]object{status: jsonAnswer(strings.ToUpper(action[:1])+action[1:]+".", answer, nil)},
		errors:      errors,
	}
}

// v1Paths is v1Routes as the document's path items.
func v1Paths() object {
	paths := object{}
	for path, methods := range v1Routes() {
		item := object{}
		for method, r := range methods {
			item[method] = r.operation()
		}
		paths[path] = item
	}
	return paths
}
