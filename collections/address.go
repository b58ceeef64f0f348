package collections

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/ozzo-validation/v4/is"
)

// Address is a postal address as stored in users.shipping_address and
// orders.shipping_address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	Region     string `json:"region"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// postalCodeFormats are the postal code shapes of the countries the shop
// ships to most; other countries get postalCodeFallback.
var postalCodeFormats = map[string]*regexp.Regexp{
	"US": regexp.MustCompile(`^\d{5}(-\d{4})?$`),
	"CA": regexp.MustCompile(`^[A-Z]\d[A-Z] ?\d[A-Z]\d$`),
	"GB": regexp.MustCompile(`^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$`),
	"DE": regexp.MustCompile(`^\d{5}$`),
	"FR": regexp.MustCompile(`^\d{5}$`),
	"ES": regexp.MustCompile(`^\d{5}$`),
	"IT": regexp.MustCompile(`^\d{5}$`),
	"NL": regexp.MustCompile(`^\d{4} ?[A-Z]{2}$`),
	"MX": regexp.MustCompile(`^\d{5}$`),
	"AU": regexp.MustCompile(`^\d{4}$`),
}

var postalCodeFallback = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 -]{1,10}[A-Z0-9]$`)

var errPostalCode = validation.NewError("validation_invalid_postal_code", "is not a valid postal code for the country")

// Validate checks a complete address: street, city, a postal code in the
// country's format and an ISO 3166-1 alpha-2 country code.
func (a Address) Validate() error {
	return validation.ValidateStruct(&a,
		validation.Field(&a.Line1, validation.Required, validation.Length(1, 200)),
		validation.Field(&a.Line2, validation.Length(0, 200)),
		validation.Field(&a.City, validation.Required, validation.Length(1, 100)),
		validation.Field(&a.Region, validation.Length(0, 100)),
		validation.Field(&a.PostalCode, validation.Required, validation.Length(1, 16), validation.By(a.checkPostalCode)),
		validation.Field(&a.Country, validation.Required, validation.Length(2, 2), is.UpperCase, is.CountryCode2),
	)
}

// Normalise returns the address with each part normalised as one line of
// text, the postal code upper-case with single spaces inside and the
// country upper-case, so that "sw1a  1aa" and "SW1A 1AA" are stored, and
// matched by a courier, alike. The error holds a field error for each part
// with a character no address may hold.
func (a Address) Normalise() (Address, error) {
	errs := validation.Errors{}
	for key, part := range map[string]*string{
		"line1": &a.Line1, "line2": &a.Line2, "city": &a.City,
		"region": &a.Region, "postal_code": &a.PostalCode, "country": &a.Country,
	} {
		text, err := NormaliseLine(*part)
		if err != nil {
			errs[key] = err
			continue
		}
		*part = text
	}
	if len(errs) > 0 {
		return a, errs
	}
	a.PostalCode = strings.Join(strings.Fields(strings.ToUpper(a.PostalCode)), " ")
	a.Country = strings.ToUpper(a.Country)
	return a, nil
}

func (a Address) checkPostalCode(value any) error {
	code := strings.ToUpper(value.(string))
	if code == "" {
		return nil
	}
	format, ok := postalCodeFormats[a.Country]
	if !ok {
		format = postalCodeFallback
	}
	if !format.MatchString(code) {
		return errPostalCode
	}
	return nil
}

// DecodeAddress reads a stored address value. Unknown keys are an error so
// that a typo (say "zip") is reported instead of silently dropped; an unset
// value is the zero Address.
func DecodeAddress(raw any) (Address, error) {
	var a Address
	data, err := json.Marshal(raw)
	if err != nil {
		return a, err
	}
	switch strings.TrimSpace(string(data)) {
	case "null", `""`, "{}":
		return a, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("must be an object with line1, line2, city, region, postal_code and country: %w", err)
	}
	return a, nil
}
