package records

import (
	"fmt"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// registerTextFields normalises the catalogue's free text on every
// validated save (records API, dashboard, app.Save), before the field
// options check lengths. The user's name and address are done by
// validateUser.
func registerTextFields(app core.App) {
	app.OnRecordValidate(c.Products).BindFunc(normaliseProductText)
}

// normaliseProductText stores the name as one line and the description
// with its line breaks, both trimmed and in NFC.
func normaliseProductText(e *core.RecordEvent) error {
	errs := validation.Errors{}
	normaliseTextField(e.Record, c.ProductName, c.NormaliseLine, errs)
	normaliseTextField(e.Record, c.ProductDescription, c.NormaliseMultiline, errs)
	if len(errs) > 0 {
		return errs
	}
	return e.Next()
}

// normaliseTextField sets a text field to its normalised value, or adds the
// field's error to errs and leaves the record as it is. A value the save
// does not change is left alone: text stored before these checks must not
// block an unrelated save (a payment remembering the customer's Stripe id).
func normaliseTextField(record *core.Record, field string, normalise func(string) (string, error), errs validation.Errors) {
	if fieldUnchanged(record, field) {
		return
	}
	text, err := normalise(record.GetString(field))
	if err != nil {
		errs[field] = err
		return
	}
	record.Set(field, text)
}

// fieldUnchanged reports whether a save leaves a field of a stored record as it
// was loaded.
func fieldUnchanged(record *core.Record, field string) bool {
	original := record.Original()
	return !record.IsNew() && original != nil && fmt.Sprint(original.Get(field)) == fmt.Sprint(record.Get(field))
}
