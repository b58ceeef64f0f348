package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// TestBindBodyNamesTheWrongField: a value of the wrong type is a 400 whose
// data names the field as the route's struct spells it, nested as the
// records API nests a list's items; a body that is not one JSON value, or
// not sent as JSON, binds nothing, and no answer echoes what it held.
func TestBindBodyNamesTheWrongField(t *testing.T) {
	type line struct {
		Product  string `json:"product"`
		Quantity int    `json:"quantity"`
	}
	type body struct {
		Amount *int              `json:"amount"`
		Reason string            `json:"reason"`
		Items  []line            `json:"items"`
		Notes  map[string]string `json:"notes"`
	}
	const shape = `{"amount": 1500}`
	whole := `{"code":"validation_invalid_type","message":"Must be a whole number."}`
	cases := []struct {
		name, contentType, in string
		status                int
		want                  string
	}{
		{"a number in exponent form", "", `{"amount":1e3}`, 400, `{"amount":` + whole + `}`},
		{"a number past int64", "", `{"amount":99999999999999999999}`, 400, `{"amount":{"code":"validation_out_of_range","message":"Too large a number."}}`},
		{"the name in capitals", "", `{"AMOUNT":"x"}`, 400, `{"amount":` + whole + `}`},
		{"an item's quantity", "", `{"items":[{"product":"p","Quantity":1.5}]}`, 400, `{"items":{"0":{"quantity":` + whole + `}}}`},
		{"an object for a list", "", `{"items":{}}`, 400, `{"items":{"code":"validation_invalid_type","message":"Must be a list."}}`},
		{"a key with a slash", "", `{"notes":{"a/b":5}}`, 400, `{"notes":{"a/b":{"code":"validation_invalid_type","message":"Must be text."}}}`},
		{"a name given twice", "", `{"amount":100,"AMOUNT":200}`, 400, `{"amount":{"code":"validation_duplicate_field","message":"Given more than once."}}`},
		{"a broken string, its text kept out", "", `{"reason":"MyS3cret\ud800Passw0rd"}`, 400, `{"reason":{"code":"validation_invalid_json","message":"Not valid JSON."}}`},
		{"cut short", "", `{"amount":`, 400, `{"amount":{"code":"validation_invalid_json","message":"Not valid JSON."}}`},
		{"not JSON", "", `amount=5`, 400, `{}`},
		{"something after the value", "", `{"amount":100}garbage`, 400, `{}`},
		{"a second value", "", `{"amount":100} {"amount":5}`, 400, `{}`},
		{"a list for the body", "", `[1]`, 400, `{}`},
		{"a form", "application/x-www-form-urlencoded", `amount=100&reason=x`, 415, `{}`},
		{"XML", "application/xml", `<r><Amount>100</Amount></r>`, 415, `{}`},
		{"a body too large", "", `{"reason":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			req.Header.Set("Content-Type", "application/json")
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			e := &core.RequestEvent{Event: router.Event{Request: req, Response: httptest.NewRecorder()}}
			var dst body
			err := BindBody(e, &dst, shape)
			var apiErr *router.ApiError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status {
				t.Fatalf("got %v, want a %d", err, tc.status)
			}
			data, _ := json.Marshal(apiErr.Data)
			if string(data) != tc.want {
				t.Fatalf("data %s, want %s", data, tc.want)
			}
			if tc.want == `{}` && tc.status != http.StatusRequestEntityTooLarge && !strings.Contains(apiErr.Message, shape) {
				t.Fatalf("message %q does not show the body wanted", apiErr.Message)
			}
			// The request log records the raw error data: it must not quote
			// the body either.
			logged := apiErr.Message + string(data) + fmt.Sprint(apiErr.RawData())
			if strings.Contains(logged, "S3cret") || strings.Contains(logged, "garbage") {
				t.Fatalf("the answer or its logged data echoes the body: %q", logged)
			}
		})
	}
	for _, contentType := range []string{"application/json", "Application/JSON; charset=utf-8"} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"amount":15}`))
		req.Header.Set("Content-Type", contentType)
		var dst body
		if err := BindBody(&core.RequestEvent{Event: router.Event{Request: req}}, &dst, ""); err != nil || dst.Amount == nil || *dst.Amount != 15 {
			t.Fatalf("a good body sent as %q: %v %+v", contentType, err, dst)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	var dst body
	if err := BindBody(&core.RequestEvent{Event: router.Event{Request: req}}, &dst, ""); err != nil || dst.Amount != nil {
		t.Fatalf("no body: %v %+v", err, dst)
	}
}
