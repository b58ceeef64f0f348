package collections

import (
	"errors"
	"testing"

	validation "github.com/pocketbase/ozzo-validation/v4"
)

func TestAddressValidate(t *testing.T) {
	valid := Address{Line1: "1 Main Street", City: "Springfield", PostalCode: "62701", Country: "US"}
	cases := []struct {
		name      string
		edit      func(*Address)
		badFields []string
	}{
		{"complete US address", func(a *Address) {}, nil},
		{"US ZIP+4", func(a *Address) { a.PostalCode = "62701-1234" }, nil},
		{"UK postcode", func(a *Address) { a.Country, a.PostalCode = "GB", "M1 1AE" }, nil},
		{"Canadian postal code in lower case", func(a *Address) { a.Country, a.PostalCode = "CA", "m5v 2t6" }, nil},
		{"country without a known format", func(a *Address) { a.Country, a.PostalCode = "JP", "100-0001" }, nil},
		{"letters in a US ZIP", func(a *Address) { a.PostalCode = "ABC" }, []string{"postal_code"}},
		{"German code with four digits", func(a *Address) { a.Country, a.PostalCode = "DE", "1011" }, []string{"postal_code"}},
		{"missing postal code", func(a *Address) { a.PostalCode = "" }, []string{"postal_code"}},
		{"punctuation as a postal code", func(a *Address) { a.Country, a.PostalCode = "JP", "!!!" }, []string{"postal_code"}},
		{"unknown country", func(a *Address) { a.Country = "XX" }, []string{"country"}},
		{"alpha-3 country", func(a *Address) { a.Country = "USA" }, []string{"country"}},
		{"lower-case country", func(a *Address) { a.Country = "us" }, []string{"country"}},
		{"missing street and city", func(a *Address) { a.Line1, a.City = "", "" }, []string{"line1", "city"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := valid
			tc.edit(&a)
			err := a.Validate()
			var errs validation.Errors
			if err != nil && !errors.As(err, &errs) {
				t.Fatalf("error %v is not field errors", err)
			}
			if len(errs) != len(tc.badFields) {
				t.Fatalf("errors %v, want exactly fields %v", errs, tc.badFields)
			}
			for _, f := range tc.badFields {
				if errs[f] == nil {
					t.Errorf("no error on %s: %v", f, errs)
				}
			}
		})
	}
}

func TestDecodeAddress(t *testing.T) {
	a, err := DecodeAddress(map[string]any{"line1": "1 Main Street", "city": "Springfield", "postal_code": "62701", "country": "US"})
	if err != nil || a.City != "Springfield" {
		t.Fatalf("got %+v, %v", a, err)
	}
	for _, empty := range []any{nil, "", map[string]any{}} {
		if a, err := DecodeAddress(empty); err != nil || !a.IsZero() {
			t.Errorf("DecodeAddress(%#v) = %+v, %v; want zero, nil", empty, a, err)
		}
	}
	if _, err := DecodeAddress(map[string]any{"zip": "62701"}); err == nil {
		t.Error("an unknown key was accepted")
	}
	if _, err := DecodeAddress([]any{"1 Main Street"}); err == nil {
		t.Error("a list was accepted as an address")
	}
}

func TestAddressNormaliseStoresPartsTrimmedAndCodesUpperCase(t *testing.T) {
	in := Address{Line1: "  10 Downing Street ", Line2: " ", City: "Lo\u0301ndon", Region: "", PostalCode: " sw1a \u00a0 2aa ", Country: "gb"}
	want := Address{Line1: "10 Downing Street", City: "Lóndon", PostalCode: "SW1A 2AA", Country: "GB"}
	got, err := in.Normalise()
	if err != nil || got != want {
		t.Fatalf("Normalise() = %+v, %v; want %+v", got, err, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("the normalised address is not valid: %v", err)
	}
}

func TestAddressNormaliseNamesEachRefusedPart(t *testing.T) {
	in := Address{Line1: "1 Main St\r\nBcc: x", City: "Spring\u202efield", PostalCode: "62701\u200b", Country: "US"}
	_, err := in.Normalise()
	var errs validation.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not field errors", err)
	}
	if len(errs) != 3 || errs["line1"] == nil || errs["city"] == nil || errs["postal_code"] == nil {
		t.Fatalf("errors %v, want exactly line1, city and postal_code", errs)
	}
}
