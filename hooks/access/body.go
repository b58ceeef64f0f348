package access

import (
	"encoding/json/v2"
	"errors"
	"reflect"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// BindBody reads the request body of a custom route into dst. A body that
// is not JSON answers 400 with shape, an example of the body it wants; a
// value of the wrong type (`"amount": 1e3` for a whole number, `"x"` for a
// list) answers 400 naming the field, as a validation error does:
// {"data": {"amount": {"code": "validation_invalid_type", ...}}}; a number
// too large for its field, validation_out_of_range.
func BindBody(e *core.RequestEvent, dst any, shape string) error {
	err := e.BindBody(dst)
	if err == nil {
		return nil
	}
	var semantic *json.SemanticError
	if errors.As(err, &semantic) && semantic.JSONPointer != "" {
		path := fieldPath(reflect.TypeOf(dst), string(semantic.JSONPointer))
		wrong := typeError(semantic.GoType)
		if errors.Is(err, strconv.ErrRange) {
			wrong = validation.NewError("validation_out_of_range", "Too large a number.")
		}
		return router.NewBadRequestError("Check the values sent.", fieldError(path, wrong))
	}
	return router.NewBadRequestError("The body must be JSON: "+shape+".", err)
}

// fieldPath splits a JSON pointer into the names of its fields as dst's
// type spells them: PocketBase's binding matches names whatever their case,
// and the error must name "amount" even when the body said "AMOUNT".
func fieldPath(t reflect.Type, pointer string) []string {
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	path := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, segment := range path {
		path[i] = unescape.Replace(segment)
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == nil:
		case t.Kind() == reflect.Struct:
			name, field := structField(t, path[i])
			path[i], t = name, field
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map:
			t = t.Elem()
		default:
			t = nil
		}
	}
	return path
}

// structField finds the field of t that the JSON name binds to, as
// PocketBase's case-insensitive binding does, and returns its own name
// and type (the name as given, and nil, when there is none).
func structField(t reflect.Type, name string) (string, reflect.Type) {
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" {
			tag = f.Name
		}
		if f.IsExported() && tag != "-" && strings.EqualFold(tag, name) {
			return tag, f.Type
		}
	}
	return name, nil
}

// fieldError nests err under the path, the way PocketBase renders the
// errors of a list's items: items/0/quantity is
// {"items": {"0": {"quantity": err}}}.
func fieldError(path []string, err error) validation.Errors {
	var nested error = err
	for i := len(path) - 1; i >= 0; i-- {
		nested = validation.Errors{path[i]: nested}
	}
	return nested.(validation.Errors)
}

// typeError says what the field should have held.
func typeError(t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	message := "Invalid value type."
	if t != nil {
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			message = "Must be a whole number."
		case reflect.Float32, reflect.Float64:
			message = "Must be a number."
		case reflect.String:
			message = "Must be text."
		case reflect.Bool:
			message = "Must be true or false."
		case reflect.Slice, reflect.Array:
			message = "Must be a list."
		case reflect.Struct, reflect.Map:
			message = "Must be an object."
		}
	}
	return validation.NewError("validation_invalid_type", message)
}
