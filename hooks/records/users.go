package records

import (
	"slices"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/mails"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/audit"
)

func registerUsers(app core.App) {
	app.OnRecordCreate(c.Users).BindFunc(setUserDefaults)
	app.OnRecordCreateRequest(c.Users).BindFunc(defaultOrderUpdatesOn)
	app.OnRecordCreateRequest(c.Users).BindFunc(sendVerificationAtSignUp)
	app.OnRecordCreateRequest(c.Users).BindFunc(requireOneLanguage)
	app.OnRecordUpdateRequest(c.Users).BindFunc(requireOneLanguage)
	app.OnRecordValidate(c.Users).BindFunc(validateUser)
	app.OnRecordEnrich(c.Users).BindFunc(showCustomerEmailToSupport)
	app.OnRecordCreateRequest(c.Users).BindFunc(auditAccountChangeBySuperuser)
	app.OnRecordUpdateRequest(c.Users).BindFunc(auditAccountChangeBySuperuser)
	app.OnRecordDeleteRequest(c.Users).BindFunc(forgetDeletedAccount)
	app.OnRecordDeleteRequest(c.Users).BindFunc(auditAccountChangeBySuperuser)
}

// setUserDefaults fills role and language, which fields cannot default.
func setUserDefaults(e *core.RecordEvent) error {
	if e.Record.GetString(c.UserRole) == "" {
		e.Record.Set(c.UserRole, string(c.RoleCustomer))
	}
	if e.Record.GetString(c.UserLanguage) == "" {
		e.Record.Set(c.UserLanguage, c.DefaultLanguage)
	}
	return e.Next()
}

// defaultOrderUpdatesOn subscribes a new customer to order updates unless
// the sign-up form said otherwise: a bool field cannot tell unset from false,
// the request body can.
func defaultOrderUpdatesOn(e *core.RecordRequestEvent) error {
	info, err := e.RequestInfo()
	if err != nil {
		return err
	}
	if _, given := info.Body[c.UserOrderUpdates]; !given {
		e.Record.Set(c.UserOrderUpdates, true)
	}
	return e.Next()
}

// sendVerificationAtSignUp emails a new account the link that confirms
// its address: until then it cannot order, and gets no order emails. The
// mail goes in the background, so that a slow mail server never holds
// the sign-up; the page offers to send it again.
func sendVerificationAtSignUp(e *core.RecordRequestEvent) error {
	app := e.App // later hooks may swap in their transaction
	if err := e.Next(); err != nil {
		return err
	}
	if e.Record.Verified() || e.HasSuperuserAuth() {
		return nil // a superuser sends it from /_/ if they want
	}
	record := e.Record.Clone()
	go func() {
		if err := mails.SendRecordVerification(app, record); err != nil {
			app.Logger().Error("could not send the verification email", "user", record.Id, "error", alerts.MailError(err))
		}
	}()
	return nil
}

var errLanguage = validation.NewError("validation_invalid_language", "must be one of "+strings.Join(c.Languages, ", "))

// requireOneLanguage refuses a request whose language is not one string of
// the list: the select field would take a list, or a "language+" append,
// and keep its last value without a word. The body is read again because
// the records API has already folded such values in e.RequestInfo().
func requireOneLanguage(e *core.RecordRequestEvent) error {
	body := map[string]any{}
	if err := e.BindBody(&body); err != nil {
		return e.BadRequestError("Failed to read the submitted data.", err)
	}
	for key, value := range body {
		if strings.Trim(key, "+-") != c.UserLanguage {
			continue
		}
		if lang, ok := value.(string); key != c.UserLanguage || !ok || !slices.Contains(c.Languages, lang) {
			return e.BadRequestError("Choose one of the shop's languages.", validation.Errors{c.UserLanguage: errLanguage})
		}
	}
	return e.Next()
}

// validateUser normalises the name and the address and checks what field
// options cannot: the characters in them, the shape of the address.
// Everything wrong is reported at once, so a form can mark every field.
func validateUser(e *core.RecordEvent) error {
	errs := validation.Errors{}
	normaliseTextField(e.Record, c.UserName, c.NormaliseLine, errs)
	if err := normaliseShippingAddress(e.Record); err != nil {
		errs[c.UserShippingAddress] = err
	}
	if lang := e.Record.GetString(c.UserLanguage); lang != "" && !slices.Contains(c.Languages, lang) {
		errs[c.UserLanguage] = errLanguage
	}
	if len(errs) > 0 {
		return errs
	}
	return e.Next()
}

// normaliseShippingAddress stores the normalised address when it is valid.
// An address already normalised is not set again: that would rewrite the
// stored JSON and show as a change in the audit of an unrelated edit.
func normaliseShippingAddress(record *core.Record) error {
	if fieldUnchanged(record, c.UserShippingAddress) {
		return nil
	}
	addr, err := c.DecodeAddress(record.Get(c.UserShippingAddress))
	if err != nil {
		return validation.NewError("validation_invalid_address", err.Error())
	}
	if addr.IsZero() {
		return nil
	}
	normalised, err := addr.Normalise()
	if err != nil {
		return err
	}
	if err := normalised.Validate(); err != nil {
		return err
	}
	if normalised != addr {
		record.Set(c.UserShippingAddress, normalised)
	}
	return nil
}

// showCustomerEmailToSupport lets support read a customer's email address,
// which PocketBase otherwise shows only to the owner and superusers.
func showCustomerEmailToSupport(e *core.RecordEnrichEvent) error {
	if e.RequestInfo != nil && e.RequestInfo.Auth != nil &&
		e.RequestInfo.Auth.Collection().Name == c.Users &&
		c.NewUser(e.RequestInfo.Auth).Role() == c.RoleSupport {
		e.Record.IgnoreEmailVisibility(true)
	}
	return e.Next()
}

// forgetDeletedAccount removes the personal data of an account a superuser
// deletes (in /_/ or through the records API) from its orders, in the
// transaction of the delete, as DELETE /api/v1/me does.
func forgetDeletedAccount(e *core.RecordRequestEvent) error {
	return e.App.RunInTransaction(func(tx core.App) error {
		if _, err := ForgetCustomer(tx, e.Record.Id); err != nil {
			return err
		}
		e.App = tx
		return e.Next()
	})
}

// auditAccountChangeBySuperuser records what a superuser does to accounts.
// A role change is its own action, with the old and new role; for other
// changes only the field names are kept, as the values are personal data.
// A user's edits of their own profile are not audited, and the record rules
// keep everyone else off other accounts.
func auditAccountChangeBySuperuser(e *core.RecordRequestEvent) error {
	if !e.HasSuperuserAuth() {
		return e.Next()
	}
	verb := audit.Verb(e)
	return audit.Request(e, func() (string, map[string]any) {
		if verb != "update" {
			return "user." + verb, map[string]any{c.UserRole: e.Record.GetString(c.UserRole)}
		}
		names := audit.ChangedFieldNames(e.Record)
		if len(names) == 0 {
			return "", nil
		}
		data := map[string]any{"fields": names}
		if !slices.Contains(names, c.UserRole) {
			return "user.update", data
		}
		data[c.UserRole] = audit.ChangedFields(e.Record, c.UserRole)[c.UserRole]
		return "user.role_change", data
	})
}
