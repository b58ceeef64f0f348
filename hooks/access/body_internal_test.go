package access

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// TestBindBodyNamesTheWrongField: a value of the wrong type is a 400 whose
// data names the field as the route's struct spells it, nested as the
// records API nests a list's items; a body that is not JSON names none.
func TestBindBodyNamesTheWrongField(t *testing.T) {
	type line struct {
		Product  string `json:"product"`
		Quantity int    `json:"quantity"`
	}
	type body struct {
		Amount *int              `json:"amount"`
		Items  []line            `json:"items"`
		Notes  map[string]string `json:"notes"`
	}
	cases := []struct{ name, in, want string }{
		{"a number in exponent form", `{"amount":1e3}`, `{"amount":{"code":"validation_invalid_type","message":"Must be a whole number."}}`},
		{"a number past int64", `{"amount":99999999999999999999}`, `{"amount":{"code":"validation_out_of_range","message":"Too large a number."}}`},
		{"the name in capitals", `{"AMOUNT":"x"}`, `{"amount":{"code":"validation_invalid_type","message":"Must be a whole number."}}`},
		{"an item's quantity", `{"items":[{"product":"p","Quantity":1.5}]}`, `{"items":{"0":{"quantity":{"code":"validation_invalid_type","message":"Must be a whole number."}}}}`},
		{"an object for a list", `{"items":{}}`, `{"items":{"code":"validation_invalid_type","message":"Must be a list."}}`},
		{"a key with a slash", `{"notes":{"a/b":5}}`, `{"notes":{"a/b":{"code":"validation_invalid_type","message":"Must be text."}}}`},
		{"not JSON", `{"amount":`, `{}`},
		{"a list for the body", `[1]`, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			req.Header.Set("Content-Type", "application/json")
			e := &core.RequestEvent{Event: router.Event{Request: req, Response: httptest.NewRecorder()}}
			var dst body
			err := BindBody(e, &dst, `{"amount": 1500}`)
			var apiErr *router.ApiError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
				t.Fatalf("got %v, want a 400", err)
			}
			data, _ := json.Marshal(apiErr.Data)
			if string(data) != tc.want {
				t.Fatalf("data %s, want %s", data, tc.want)
			}
			if tc.want == `{}` && !strings.Contains(apiErr.Message, `{"amount": 1500}`) {
				t.Fatalf("message %q does not show the body wanted", apiErr.Message)
			}
		})
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"amount":15}`))
	req.Header.Set("Content-Type", "application/json")
	var dst body
	if err := BindBody(&core.RequestEvent{Event: router.Event{Request: req}}, &dst, ""); err != nil || dst.Amount == nil || *dst.Amount != 15 {
		t.Fatalf("a good body: %v %+v", err, dst)
	}
}
