package payments

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckoutBody decodes any bytes as the body of POST /api/v1/checkout:
// Validate never panics, and a body it accepts has 1–20 lines, each naming
// a product id of at most 32 characters and a quantity from 1 to 1000,
// before the catalogue is asked anything. The seeds are a hostile buyer's
// bodies: prices in the body, negative, zero and huge quantities, numbers
// where strings belong, too many lines.
func FuzzCheckoutBody(f *testing.F) {
	line := `{"product":"p1","quantity":1}`
	for _, seed := range []string{
		`{"items":[{"product":"abcdefghijklmno","quantity":2}]}`,
		`{"items":[{"product":"abcdefghijklmno","quantity":1,"unit_price":1,"price":0}],"total":1,"currency":"jpy"}`,
		`{"items":[{"product":"abcdefghijklmno","quantity":1}],"user":"someoneelse0001","status":"paid"}`,
		`{"items":[]}`, `{"items":null}`, `{}`, `null`, `[]`, `""`, `{"items":{}}`, `{"items":[null]}`, `{"items":[{}]}`,
		`{"items":[` + strings.TrimSuffix(strings.Repeat(line+",", 20), ",") + `]}`,
		`{"items":[` + strings.TrimSuffix(strings.Repeat(line+",", 21), ",") + `]}`,
		`{"items":[{"product":"p1","quantity":0}]}`, `{"items":[{"product":"p1","quantity":-1}]}`,
		`{"items":[{"product":"p1","quantity":1000}]}`, `{"items":[{"product":"p1","quantity":1001}]}`,
		`{"items":[{"product":"p1","quantity":9223372036854775807}]}`, `{"items":[{"product":"p1","quantity":-9223372036854775808}]}`,
		`{"items":[{"product":"p1","quantity":1e20}]}`, `{"items":[{"product":"p1","quantity":1.5}]}`,
		`{"items":[{"product":"p1","quantity":"1"}]}`, `{"items":[{"product":1,"quantity":1}]}`,
		`{"items":[{"product":"","quantity":1}]}`, `{"items":[{"product":"` + strings.Repeat("a", 33) + `","quantity":1}]}`,
		`{"items":[{"product":"` + strings.Repeat("é", 32) + `","quantity":1}]}`,
		`{"items":[{"product":"p1\u0000","quantity":1}]}`, `{"items":[{"product":"\u202ep1","quantity":1}]}`,
		`{"items":[{"product":"p1\" || 1=1 || \"","quantity":1}]}`,
		`{"items":[{"product":"p1","quantity":1},{"product":"p1","quantity":1000}]}`,
		`{"items":[{"product":"p1","quantity":1}],"items":[]}`, `{"ITEMS":[{"PRODUCT":"p1","QUANTITY":1}]}`,
		`{"items":[{"product":"p1","quantity":1}]`, `{"items":[` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var body checkoutRequest
		if err := json.Unmarshal(raw, &body); err != nil {
			return
		}
		if err := body.Validate(); err != nil {
			return
		}
		if n := len(body.Items); n < 1 || n > maxCheckoutLines {
			t.Fatalf("%s: accepted %d lines", raw, n)
		}
		for i, l := range body.Items {
			if n := utf8.RuneCountInString(l.Product); n < 1 || n > 32 {
				t.Fatalf("%s: accepted line %d with a product id of %d characters", raw, i, n)
			}
			if l.Quantity < 1 || l.Quantity > 1000 {
				t.Fatalf("%s: accepted line %d with quantity %d", raw, i, l.Quantity)
			}
		}
	})
}
