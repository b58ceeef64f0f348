package apidoc

import (
	"fmt"
	"maps"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/access"
)

// signedIn is the security of a route that needs a token.
var signedIn = []any{object{"pocketbaseToken": []any{}}}

// public is the security of a route anyone may call.
var public = []any{object{}}

// route is one /api/v1 operation: the success answers by status, and the
// error statuses it may answer (429 and 500 any route may).
type route struct {
	tag, summary, id, description string
	security                      []any
	parameters                    []any
	body                          object
	answers                       map[int]object
	errors                        []int
}

func (r route) operation() object {
	responses := object{}
	for status, answer := range r.answers {
		responses[fmt.Sprint(status)] = answer
	}
	errors := append([]int{429, 500}, r.errors...)
	if len(r.security) == 1 && len(r.security[0].(object)) > 0 {
		// Signed in only: a guest is 401, a user of another role (or a
		// superuser on a customer's route) 403.
		errors = append(errors, 401, 403)
	}
	for _, status := range errors {
		responses[fmt.Sprint(status)] = errorResponse(status)
	}
	op := operation([]string{r.tag}, r.summary, r.id, r.description, r.parameters, r.body, responses)
	op["security"] = r.security
	return op
}

// jsonAnswer is an answer with a JSON body and optional headers.
func jsonAnswer(description string, schema object, headers object) object {
	a := object{"description": description, "content": jsonBody(schema)}
	if headers != nil {
		a["headers"] = headers
	}
	return a
}

func header(description string) object {
	return object{"description": description, "schema": object{"type": "string"}}
}

// jsonRequest is a JSON body of at most access.MaxBodyBytes.
func jsonRequest(schema object, required bool) object {
	return object{
		"required":    required,
		"description": fmt.Sprintf("JSON (`Content-Type: application/json`, else 415), one value, at most %d bytes (else 413); names match whatever their case.", access.MaxBodyBytes),
		"content":     jsonBody(schema),
	}
}

// routeSchemas are the answers' named shapes, built from the record
// shapes where they are records.
func routeSchemas(cols map[string]*core.Collection) object {
	profile := recordSchema(cols[c.Users])
	profile["required"] = append(profile["required"].([]string), core.FieldNameEmail)
	profile["description"] = "The signed-in user's own record: every field but the hidden ones (password hash, token key, Stripe customer)."
	me := extend(profile, "permissions", listOf(oneOfValues("", permissionNames()...)))
	me["description"] = "The profile and the permissions of the user's role (CONTRACT §2)."
	orderWithItems := extend(recordSchema(cols[c.Orders]), "items", listOf(ref(schemaName(c.OrderItems))))
	orderWithItems["description"] = "An order with its items."
	exportedOrder := extend(recordSchema(cols[c.Orders]), "items", nullable(listOf(ref(schemaName(c.OrderItems)))))
	exportedOrder["description"] = "An order with its items (null when it has none)."
	statuses := make([]string, len(c.OrderStatuses))
	for i, s := range c.OrderStatuses {
		statuses[i] = string(s)
	}
	return object{
		"Profile":        profile,
		"Me":             me,
		"OrderWithItems": orderWithItems,
		"ExportedOrder":  exportedOrder,
		"Dashboard": closedAllRequired(object{
			"user":              ref("Profile"),
			"featured_products": described(listOf(ref(schemaName(c.Products))), "At most 8 active featured products."),
			"recent_order":      nullable(ref("OrderWithItems")),
			"stats": closedAllRequired(object{
				"orders_12m": whole("Paid, shipped and delivered orders of the last 12 months."),
				"spent_12m":  whole("What they cost, in minor units of currency."),
				"currency":   text("The currency most of them were in."),
			}),
		}),
		"Purchase": closedAllRequired(object{
			"id": text("Order item id."), "order": text(""), "order_number": text(""),
			"status":  oneOfValues("The order's status.", statuses...),
			"product": text(""), "product_name": text("As bought."),
			"unit_price": whole("Minor units."), "quantity": whole(""), "total": whole("unit_price × quantity."),
			"currency": text(""), "estimated_arrival": text("\"\" when unknown."), "created": text(""),
		}),
		"PurchasesPage": closedAllRequired(object{
			"page": whole(""), "perPage": whole(""), "totalItems": whole(""), "totalPages": whole(""),
			"items": listOf(ref("Purchase")),
		}),
		"Download": closedAllRequired(object{
			"item": text("Order item id."), "order": text(""), "order_number": text(""),
			"product": text(""), "product_name": text(""), "purchased": text(""),
			"url":     text("Works without Authorization until expires."),
			"expires": text("When url stops working."),
		}),
		"TimelineEntry": closedAllRequired(object{
			"at":    text(""),
			"kind":  oneOfValues("", "created", "paid", "shipped", "delivered", "cancelled", "refunded", "refund", "change", "note", "email"),
			"actor": text("`Name <email>`, `Stripe`, `a superuser`, or \"\"."),
			"text":  text("For a person."),
			"data":  nullable(object{"type": "object"}),
		}),
		"CustomerResult": closedAllRequired(object{
			"id": text(""), "name": text(""), "email": text(""), "language": text(""),
			"verified": boolean(""), "shipping_address": addressSchema(), "created": text(""),
		}),
		"JobState": closedAllRequired(object{
			"name": text(""), "paused": boolean(""), "running": boolean(""),
			"last_runs": described(listOf(ref(schemaName(c.JobRuns))), "The last five runs, newest first."),
		}),
	}
}

// extend is a copy of an object schema with one more required property.
func extend(schema object, name string, property object) object {
	out := maps.Clone(schema)
	props := maps.Clone(schema["properties"].(object))
	props[name] = property
	out["properties"] = props
	out["required"] = append(append([]string{}, schema["required"].([]string)...), name)
	return out
}

func permissionNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, role := range c.Roles {
		for _, p := range role.Permissions() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
