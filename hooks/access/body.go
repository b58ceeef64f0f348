package access

import (
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// MaxBodyBytes bounds the JSON body of the shop's own routes: the largest,
// a checkout of 20 lines, is under 2 KB.
const MaxBodyBytes = 64 << 10

// BindBody reads the JSON body of a custom route into dst: the whole body,
// one JSON value and nothing after it, names matched whatever their case
// (as PocketBase's binding does). No body binds nothing.
//
// What it refuses changes nothing, and no answer or log line carries what
// the body held (a password, say), only where it went wrong:
//   - a body that is not sent as application/json (a form, XML), 415;
//   - more than MaxBodyBytes, 413;
//   - a body that is not JSON, or has something after its value, 400 with
//     shape, an example of the body wanted;
//   - a value of the wrong type (`"amount": 1e3` for a whole number, `"x"`
//     for a list), 400 naming the field as a validation error does:
//     {"data": {"amount": {"code": "validation_invalid_type", ...}}}; a
//     number too large for its field is validation_out_of_range, a name
//     given twice validation_duplicate_field, broken JSON inside a field's
//     value validation_invalid_json.
func BindBody(e *core.RequestEvent, dst any, shape string) error {
	if e.Request.ContentLength == 0 {
		return nil
	}
	if mediaType, _, _ := mime.ParseMediaType(e.Request.Header.Get("Content-Type")); mediaType != "application/json" {
		return router.NewApiError(http.StatusUnsupportedMediaType,
			"Send the body as JSON, with Content-Type: application/json: "+shape+".", nil)
	}
	body, err := io.ReadAll(io.LimitReader(e.Request.Body, MaxBodyBytes+1))
	var apiErr *router.ApiError
	switch {
	case errors.As(err, &apiErr):
		return apiErr // PocketBase's own body limit
	case err != nil:
		return router.NewBadRequestError("The body could not be read.", nil)
	case len(body) > MaxBodyBytes:
		return router.NewApiError(http.StatusRequestEntityTooLarge, "The body is too large for this request.", nil)
	}
	err = json.Unmarshal(body, dst, json.MatchCaseInsensitiveNames(true))
	if err == nil {
		return nil
	}
	var semantic *json.SemanticError
	var syntactic *jsontext.SyntacticError
	switch {
	case errors.As(err, &semantic) && semantic.JSONPointer != "":
		wrong := typeError(semantic.GoType)
		if errors.Is(err, strconv.ErrRange) {
			wrong = validation.NewError("validation_out_of_range", "Too large a number.")
		}
		return router.NewBadRequestError("Check the values sent.", fieldError(fieldPath(reflect.TypeOf(dst), string(semantic.JSONPointer)), wrong))
	case errors.As(err, &syntactic) && syntactic.JSONPointer != "":
		wrong := validation.NewError("validation_invalid_json", "Not valid JSON.")
		if errors.Is(err, jsontext.ErrDuplicateName) {
			wrong = validation.NewError("validation_duplicate_field", "Given more than once.")
		}
		return router.NewBadRequestError("The body must be JSON: "+shape+".", fieldError(fieldPath(reflect.TypeOf(dst), string(syntactic.JSONPointer)), wrong))
	}
	return router.NewBadRequestError("The body must be JSON: "+shape+".", nil)
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
