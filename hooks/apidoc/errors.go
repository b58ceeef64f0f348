package apidoc

import (
	"fmt"
	"net/http"
)

// ErrorCodes are the codes a field error of the shop may carry, with what
// each means. PocketBase's own codes come first (the records API answers
// them on the shop's collections), then the shop's. An answer with a code
// missing here fails the tests that validate answers against the document.
var ErrorCodes = []struct{ Code, Meaning string }{
	// PocketBase (records API, auth, files).
	{"validation_required", "The field is required and was empty or missing."},
	{"validation_invalid_value", "The value is not one the field accepts (PocketBase's generic code)."},
	{"validation_not_unique", "Another record already holds this value."},
	{"validation_min_text_constraint", "The text is shorter than the field's minimum."},
	{"validation_max_text_constraint", "The text is longer than the field's maximum."},
	{"validation_min_number_constraint", "The number is below the field's minimum."},
	{"validation_max_number_constraint", "The number is above the field's maximum."},
	{"validation_only_int_constraint", "The field takes whole numbers only."},
	{"validation_not_a_number", "The value is not a number."},
	{"validation_invalid_email", "Not a valid email address."},
	{"validation_is_email", "Not a valid email address."},
	{"validation_email_domain_not_allowed", "Email addresses of this domain are not accepted."},
	{"validation_invalid_url", "Not a valid URL."},
	{"validation_is_url", "Not a valid URL."},
	{"validation_is_upper_case", "Must be in capital letters."},
	{"validation_is_country_code_2_letter", "Not an ISO 3166-1 alpha-2 country code."},
	{"validation_match_invalid", "The value does not have the field's pattern."},
	{"validation_values_mismatch", "The two values must be the same (passwordConfirm)."},
	{"validation_invalid_old_password", "The current password given is not right."},
	{"validation_invalid_password", "The password is not right."},
	{"validation_missing_rel_records", "A related record does not exist, or the caller may not see it."},
	{"validation_too_many_values", "More values than the field takes."},
	{"validation_not_enough_values", "Fewer values than the field needs."},
	{"validation_too_many_files", "More files than the field takes."},
	{"validation_file_size_limit", "A file is larger than the field takes."},
	{"validation_invalid_mime_type", "A file is of a type the field does not take."},
	{"validation_json_size_limit", "The JSON value is larger than the field takes."},
	{"validation_invalid_date", "Not a date or time the field can read."},
	{"validation_length_out_of_range", "The length is outside the allowed range."},
	{"validation_length_too_long", "Too long."},
	{"validation_length_invalid", "Not of the length required."},
	{"validation_in_invalid", "Not one of the allowed values."},
	{"validation_nil_or_not_empty_required", "When given, it must not be empty."},
	{"validation_min_greater_equal_than_required", "Below the minimum."},
	{"validation_max_less_equal_than_required", "Above the maximum."},
	{"validation_invalid_token", "The token is invalid or has expired."},
	{"validation_invalid_or_existing_id", "The id is malformed or taken."},
	{"validation_forbidden_pk_character", "The id holds a character ids may not."},
	// The shop's own (docs/api.md names where each is answered).
	{"validation_invalid_type", "A body value of the wrong type (a string or a fraction where a whole number goes, an object for a list)."},
	{"validation_out_of_range", "A number outside what the field or parameter accepts."},
	{"validation_duplicate_field", "A body names the same field twice (whatever the case)."},
	{"validation_invalid_json", "Broken JSON inside a body value (a lone surrogate escape)."},
	{"validation_invalid_sort", "A sort the route does not offer."},
	{"validation_invalid_status", "An order status that does not exist."},
	{"validation_from_after_to", "The window's from is not before its to."},
	{"validation_window_too_long", "The window is longer than the route allows."},
	{"validation_unknown_product", "The product does not exist or is not for sale."},
	{"validation_duplicate_product", "The same product on two checkout lines."},
	{"validation_digital_quantity", "A download is bought once: quantity 1."},
	{"validation_out_of_stock", "Not enough units in stock for the quantity."},
	{"validation_mixed_currency", "Products of different currencies in one checkout."},
	{"validation_already_owned", "The customer already owns this download."},
	{"validation_download_in_checkout", "This download is in a checkout waiting for payment."},
	{"validation_email_not_verified", "The account's email address is not confirmed yet."},
	{"validation_refund_too_large", "More than what remains to refund."},
	{"validation_refund_out_of_range", "A refunded amount outside 0..total."},
	{"validation_invalid_transition", "An order status change the state machine refuses."},
	{"validation_use_cancel_route", "Cancelling goes through POST /api/v1/orders/{id}/cancel."},
	{"validation_not_editable", "Support may not change this order field."},
	{"validation_required_to_ship", "An order ships only with a carrier and a tracking number."},
	{"validation_not_shipped", "Shipping details belong to a shipped or delivered order."},
	{"validation_https_link", "An https:// link to a named host is required."},
	{"validation_before_order", "The arrival date is before the order."},
	{"validation_too_far", "The arrival date is more than a year ahead."},
	{"validation_not_in_transit", "The arrival date belongs to a paid or shipped order."},
	{"validation_product_in_orders", "A product that was ordered cannot be deleted: deactivate it."},
	{"validation_invalid_address", "The shipping address is not an address."},
	{"validation_invalid_postal_code", "The postal code does not fit the country."},
	{"validation_invalid_language", "A language the shop does not speak."},
	{"validation_blank_text", "Text that is only spaces."},
	{"validation_control_character", "Text holding a control character."},
	{"validation_invisible_character", "Text holding an invisible or direction-changing character."},
	{"validation_unreadable_text", "Text that is not valid UTF-8."},
	{"validation_query_too_costly", "A records-API filter, sort or expand that crosses too many relations."},
	{"validation_invalid_filter", "A filter that is not one whole expression."},
	{"validation_shop_exists", "The shop collection holds one record only."},
	{"validation_shop_required", "The shop record cannot be deleted."},
	{"reauth_required", "A sensitive change (deleting the account, a new email address) more than 10 minutes after the password was entered: give the password again (`data.password`)."},
	{"session_expired", "The session is past its absolute lifetime (SHOPDASH_SESSION_MAX, SHOPDASH_STAFF_SESSION_MAX after the password was entered, refreshes included): sign in again (`data.session`)."},
}

// errorSchemas are the error envelope of every answer with a 4xx or 5xx
// status: PocketBase's shape, which the JS SDK's ClientResponseError reads.
func errorSchemas() object {
	codes := make([]any, len(ErrorCodes))
	for i, ec := range ErrorCodes {
		codes[i] = object{"const": ec.Code, "description": ec.Meaning}
	}
	return object{
		"ApiError": described(closedAllRequired(object{
			"status":  whole("The HTTP status again."),
			"message": text("What went wrong, for a person; never holds a password, token, address or card data."),
			"data":    ref("FieldErrors"),
		}), "PocketBase's error envelope: `{status, message, data: {field: {code, message}}}`."),
		"FieldErrors": described(object{
			"type":                 "object",
			"additionalProperties": object{"anyOf": []any{ref("FieldError"), ref("FieldErrors")}},
		}, "Field errors by field name; a list's items nest by index (`data.items.0.quantity`). Empty when the error is not about a field."),
		"FieldError": described(closed(object{
			"code":    described(object{"anyOf": codes}, "Every code the shop answers, with its meaning."),
			"message": text("For a person."),
			"params":  described(object{"type": "object"}, "The numbers or values the message refers to."),
		}, "code", "message"), "One field's error."),
	}
}

// errorResponse is an error answer of status, with the envelope (and
// Retry-After on a 503, which a busy records read sets).
func errorResponse(status int) object {
	r := object{
		"description": errorMeaning(status),
		"content":     jsonBody(ref("ApiError")),
	}
	if status == http.StatusServiceUnavailable {
		r["headers"] = object{"Retry-After": object{
			"description": "Seconds to wait before asking again, when the shop is busy.",
			"schema":      object{"type": "string"},
		}}
	}
	return r
}

func errorMeaning(status int) string {
	switch status {
	case 400:
		return "Bad request: field errors in `data` name what to fix."
	case 401:
		return "Not signed in, the token has expired or was revoked, the session is past its lifetime (`session_expired`), or a sensitive change needs the password again (`reauth_required`)."
	case 403:
		return "Signed in, but the role does not allow it."
	case 404:
		return "Not found, or someone else's."
	case 409:
		return "The record's state forbids it now (its status, or another operation holds it)."
	case 413:
		return "The body is too large."
	case 415:
		return "The body is not sent as application/json."
	case 429:
		return "Too many requests: a rate limit of the shop's settings."
	case 500:
		return "The shop failed; nothing to fix on the client's side."
	case 502:
		return "Stripe failed; nothing changed."
	case 503:
		return "Not available now: Stripe is not configured, or the shop is busy."
	}
	return fmt.Sprintf("%d %s.", status, http.StatusText(status))
}
