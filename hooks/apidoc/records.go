package apidoc

import (
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// jsonFieldSchemas are the shapes of the JSON fields whose content the
// shop defines (a JSON field is any value to PocketBase).
var jsonFieldSchemas = map[string]func() object{
	c.Users + "." + c.UserShippingAddress:   addressSchema,
	c.Orders + "." + c.OrderShippingAddress: addressSchema,
}

// addressSchema is collections.Address, or null when none was given.
func addressSchema() object {
	return nullable(closed(object{
		"line1":       text(""),
		"line2":       text(""),
		"city":        text(""),
		"region":      text(""),
		"postal_code": text(""),
		"country":     text("ISO 3166-1 alpha-2"),
	}))
}

// schemaName is the components.schemas name of a collection's record:
// order_items becomes OrderItemsRecord.
func schemaName(collection string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(collection, "_"), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Record"
}

// recordSchema is the JSON of a record as a non-superuser reads it: every
// field but the hidden ones, the password and the token key; an auth
// record's email only when it is the reader's own or made public.
func recordSchema(col *core.Collection) object {
	props := object{
		"collectionId":   text("The collection's id."),
		"collectionName": described(object{"type": "string", "const": col.Name}, ""),
		"expand":         described(object{"type": "object"}, "The related records asked for with `expand`, by field name; only when asked."),
	}
	required := []string{"collectionId", "collectionName"}
	for _, f := range col.Fields {
		if f.GetHidden() || f.Type() == core.FieldTypePassword {
			continue
		}
		name := f.GetName()
		props[name] = fieldSchema(col.Name, f)
		if !(col.IsAuth() && name == core.FieldNameEmail) {
			required = append(required, name)
		}
	}
	o := closed(props, required...)
	o["description"] = fmt.Sprintf("A record of `%s` as the records API shows it to anyone but a superuser (hidden fields left out). Generated from the collection.", col.Name)
	return o
}

// fieldSchema is the JSON schema of one field's value in a record's JSON.
func fieldSchema(collection string, f core.Field) object {
	switch f := f.(type) {
	case *core.TextField:
		s := text(f.Help)
		if f.Max > 0 {
			s["maxLength"] = f.Max
		}
		if f.Pattern != "" {
			s["pattern"] = f.Pattern
		}
		return s
	case *core.EditorField:
		return text(f.Help)
	case *core.EmailField:
		return text(f.Help)
	case *core.URLField:
		return text(f.Help)
	case *core.NumberField:
		s := object{"type": "number"}
		if f.OnlyInt {
			s["type"] = "integer"
		}
		if f.Min != nil && f.Required {
			s["minimum"] = *f.Min
		}
		if f.Max != nil {
			s["maximum"] = *f.Max
		}
		return described(s, f.Help)
	case *core.BoolField:
		return boolean(f.Help)
	case *core.DateField:
		return text(joinNote(f.Help, "UTC time as PocketBase writes it (`2026-11-24 09:40:32.893Z`), or \"\" when unset."))
	case *core.AutodateField:
		return text("UTC time as PocketBase writes it (`2026-11-24 09:40:32.893Z`), set by the server.")
	case *core.SelectField:
		values := append([]string{}, f.Values...)
		if f.MaxSelect > 1 {
			return described(listOf(object{"type": "string", "enum": values}), f.Help)
		}
		if !f.Required {
			values = append(values, "")
		}
		return oneOfValues(f.Help, values...)
	case *core.RelationField:
		return many(f.MaxSelect, text(joinNote(f.Help, "Record id.")))
	case *core.FileField:
		return many(f.MaxSelect, text(joinNote(f.Help, "File name: /api/files/{collectionId}/{recordId}/{name}.")))
	case *core.JSONField:
		if shape, ok := jsonFieldSchemas[collection+"."+f.Name]; ok {
			return shape()
		}
		return described(object{}, joinNote(f.Help, "Any JSON value."))
	case *core.GeoPointField:
		return closedAllRequired(object{"lon": object{"type": "number"}, "lat": object{"type": "number"}})
	}
	return object{}
}

// many is one value ("" when unset) for a single-valued field, a list for
// a multi-valued one.
func many(maxSelect int, item object) object {
	if maxSelect > 1 {
		return listOf(item)
	}
	return item
}

func joinNote(help, note string) string {
	if help == "" {
		return note
	}
	return help + " " + note
}

// writableSchema is the body of a records-API create or update: the fields
// a client may send (PocketBase ignores the others). Rules and hooks decide
// which of them a role may set.
func writableSchema(col *core.Collection, create bool) object {
	props := object{}
	for _, f := range col.Fields {
		if f.GetSystem() && f.GetName() != core.FieldNameEmail && f.GetName() != core.FieldNameEmailVisibility ||
			f.GetHidden() || f.Type() == core.FieldTypeAutodate || f.Type() == core.FieldTypePassword {
			continue
		}
		props[f.GetName()] = fieldSchema(col.Name, f)
	}
	if col.IsAuth() {
		props["password"] = text("New password.")
		props["passwordConfirm"] = text("The same password again.")
		if !create {
			props["oldPassword"] = text("The current password, to change it.")
		}
	}
	return object{"type": "object", "properties": props}
}

// shopCollections are the collections documented: every one of the shop's
// (and users), superuser-only bookkeeping included as shapes, in name order.
func shopCollections(app core.App) ([]*core.Collection, error) {
	all, err := app.FindAllCollections()
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	var out []*core.Collection
	for _, col := range all {
		if col.System && col.Name != c.Users || col.IsView() {
			continue
		}
		out = append(out, col)
	}
	return out, nil
}

// ruleNote says who a rule lets through, for an operation's description.
func ruleNote(rule *string) string {
	switch {
	case rule == nil:
		return "Superusers only."
	case *rule == "":
		return "Anyone, guests included."
	}
	return "Rule: `" + *rule + "` (roles: CONTRACT §2; superusers always)."
}

// recordsPaths documents the records API of each collection where a rule
// lets some role: list, view, create, update, delete.
func recordsPaths(cols []*core.Collection) object {
	paths := object{}
	for _, col := range cols {
		base := "/api/collections/" + col.Name + "/records"
		record := ref(schemaName(col.Name))
		tag := []string{"records: " + col.Name}
		list, item := object{}, object{}
		if col.ListRule != nil {
			list["get"] = operation(tag, "List "+col.Name, "list_"+col.Name, ruleNote(col.ListRule)+
				" Records the rule does not let through are left out of the page (a guest gets an empty page, not an error).",
				listParameters(), nil, recordsResponses(200, closedAllRequired(object{
					"page": whole(""), "perPage": whole(""),
					"totalItems": whole("-1 with skipTotal."), "totalPages": whole("-1 with skipTotal."),
					"items": listOf(record),
				}), 400, 429, 503))
		}
		if col.CreateRule != nil {
			list["post"] = operation(tag, "Create a "+col.Name+" record", "create_"+col.Name, ruleNote(col.CreateRule),
				viewParameters(), recordBody(col, true), recordsResponses(200, record, 400, 403, 413, 429))
		}
		if col.ViewRule != nil {
			item["get"] = operation(tag, "View a "+col.Name+" record", "view_"+col.Name, ruleNote(col.ViewRule)+
				" A record the rule does not let through is 404.",
				viewParameters(), nil, recordsResponses(200, record, 400, 404, 429, 503))
		}
		if col.UpdateRule != nil {
			item["patch"] = operation(tag, "Update a "+col.Name+" record", "update_"+col.Name, ruleNote(col.UpdateRule),
				viewParameters(), recordBody(col, false), recordsResponses(200, record, 400, 401, 403, 404, 409, 413, 429))
		}
		if col.DeleteRule != nil {
			item["delete"] = operation(tag, "Delete a "+col.Name+" record", "delete_"+col.Name, ruleNote(col.DeleteRule),
				nil, nil, recordsResponses(204, nil, 400, 403, 404, 429))
		}
		if len(list) > 0 {
			paths[base] = list
		}
		if len(item) > 0 {
			item["parameters"] = []any{pathParameter("id", "The record's id.")}
			paths[base+"/{id}"] = item
		}
	}
	return paths
}

// recordBody is a create or update body, as JSON or as a multipart form
// (the way to send files).
func recordBody(col *core.Collection, create bool) object {
	schema := writableSchema(col, create)
	return object{"required": create, "content": object{
		"application/json":    object{"schema": schema},
		"multipart/form-data": object{"schema": schema},
	}}
}

// recordsResponses is the answers of a records-API operation: the success
// and the errors, each with the shop's error envelope. Every operation may
// answer 401: a token past its session's lifetime (session_expired).
func recordsResponses(success int, schema object, errors ...int) object {
	out := object{"401": errorResponse(401)}
	switch {
	case success == 204:
		out["204"] = object{"description": "Done."}
	default:
		out[fmt.Sprint(success)] = object{"description": "OK.", "content": jsonBody(schema)}
	}
	for _, status := range errors {
		out[fmt.Sprint(status)] = errorResponse(status)
	}
	return out
}

func listParameters() []any {
	return append([]any{
		queryParameter("page", "Page number, from 1.", object{"type": "integer", "minimum": 1}),
		queryParameter("perPage", "Records per page, 1–1000 (default 30).", object{"type": "integer", "minimum": 1, "maximum": 1000}),
		queryParameter("sort", "Fields, `-` for descending, comma-separated: `-created,id`.", object{"type": "string"}),
		queryParameter("filter", "PocketBase filter expression, e.g. `status = \"paid\" && total > 1000`. Bounded for non-superusers (docs/security.md).", object{"type": "string"}),
		queryParameter("skipTotal", "Skip the count: totalItems and totalPages are -1.", object{"type": "boolean"}),
	}, viewParameters()...)
}

func viewParameters() []any {
	return []any{
		queryParameter("expand", "Relations to load under `expand`, comma-separated, dotted for depth.", object{"type": "string"}),
		queryParameter("fields", "Fields to answer, comma-separated (any answer of the API takes it).", object{"type": "string"}),
	}
}
