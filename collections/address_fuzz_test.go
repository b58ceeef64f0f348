package collections

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzAddressNormaliseAndValidate feeds any JSON, as a client may send it
// for a shipping address, through DecodeAddress, Normalise and Validate:
// nothing panics, and an address Normalise accepts is stored as it would
// be stored again (normalising it changes nothing) with no part holding a
// character NormaliseLine refuses. The seeds are issue 12's hostile
// addresses: line breaks, NUL, zero-width and bidi characters, postal
// codes as typed.
func FuzzAddressNormaliseAndValidate(f *testing.F) {
	for _, seed := range []string{
		`{"line1":"1 Main Street","city":"Springfield","postal_code":"62701","country":"US"}`,
		`{"line1":"10 Downing St","city":"London","postal_code":"sw1a  2aa","country":"gb"}`,
		`{"line1":"  Calle Mayor 1  ","line2":"","city":"Madrid","region":"M","postal_code":" 28013 ","country":"es"}`,
		`{"line1":"1 Main St\r\nBcc: victim@example.com","city":"X","postal_code":"1","country":"US"}`,
		`{"line1":"Ann\u0000","city":"Nul\u0000town","postal_code":"00000","country":"US"}`,
		`{"line1":"Ad\u200bmin","city":"\u202egnp.exe","postal_code":"\u200e12345","country":"\u2067US"}`,
		`{"line1":"\ufeff1 Rue","city":"Paris\u2028","postal_code":"75001\u0085","country":"FR"}`,
		`{"line1":"Jose\u0301 Street","city":"Ma\u0301laga","postal_code":"29001","country":"ES"}`,
		`{"line1":"\ud800","city":"\udfff","postal_code":"\ufffd","country":"US"}`,
		`{"line1":"\u3164","city":"\u2800","postal_code":"\ufe0f","country":"\u115f"}`,
		`{"line1":"1 Main St","city":"X","postal_code":"ß1","country":"de"}`,
		`{"line1":"1","city":"X","postal_code":"","country":"XX","zip":"62701"}`,
		`{"line1":1,"city":null,"postal_code":["62701"],"country":{"code":"US"}}`,
		`{"line1":"` + strings.Repeat("a", 3000) + `","city":"X","postal_code":"62701","country":"US"}`,
		`{"line1":"1","line1":"2\n"}`,
		`null`, `""`, `{}`, `[]`, `"1 Main Street"`, `12345`, `true`,
		strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
		`{"line1":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500) + `}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := DecodeAddress(json.RawMessage(raw))
		if err != nil {
			return
		}
		_ = a.Validate()
		normal, err := a.Normalise()
		if err != nil {
			return
		}
		_ = normal.Validate()
		again, err := normal.Normalise()
		if err != nil || again != normal {
			t.Fatalf("Normalise is not idempotent: %#v normalised to %#v, then to %#v, %v", a, normal, again, err)
		}
		for name, part := range map[string]string{
			"line1": normal.Line1, "line2": normal.Line2, "city": normal.City,
			"region": normal.Region, "postal_code": normal.PostalCode, "country": normal.Country,
		} {
			if line, err := NormaliseLine(part); err != nil || line != part {
				t.Fatalf("normalised %s %q is not a normal line: %q, %v", name, part, line, err)
			}
		}
	})
}
