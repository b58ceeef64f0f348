package apidoc

import "sort"

// object is a node of the document as it is written out: JSON objects are
// maps, so encoding/json writes their keys sorted and the document comes
// out the same every time.
type object = map[string]any

// ref points at a schema of components.schemas.
func ref(name string) object { return object{"$ref": "#/components/schemas/" + name} }

// text is a string schema with a description.
func text(description string) object {
	return described(object{"type": "string"}, description)
}

// whole is an integer schema with a description.
func whole(description string) object {
	return described(object{"type": "integer"}, description)
}

// boolean is a boolean schema with a description.
func boolean(description string) object {
	return described(object{"type": "boolean"}, description)
}

// listOf is an array of items.
func listOf(items object) object { return object{"type": "array", "items": items} }

// oneOfValues is a string that takes one of the values.
func oneOfValues(description string, values ...string) object {
	return described(object{"type": "string", "enum": values}, description)
}

// nullable lets a schema also be null.
func nullable(schema object) object { return object{"anyOf": []any{schema, object{"type": "null"}}} }

// closed is an object with exactly these properties, the required ones
// always there: an answer that gains a field the document does not name
// fails validation.
func closed(properties object, required ...string) object {
	o := object{"type": "object", "properties": properties, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		o["required"] = required
	}
	return o
}

// closedAllRequired is closed with every property required.
func closedAllRequired(properties object) object {
	return closed(properties, keys(properties)...)
}

// described adds a description when there is one.
func described(schema object, description string) object {
	if description != "" {
		schema["description"] = description
	}
	return schema
}

// keys lists an object's keys, sorted.
func keys(o object) []string {
	out := make([]string, 0, len(o))
	for k := range o {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonBody is a request or response content of application/json.
func jsonBody(schema object) object {
	return object{"application/json": object{"schema": schema}}
}
