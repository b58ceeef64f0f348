package sessions

import (
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// ConfirmSignIn lets a sensitive change of the signed-in account through
// (deleting it, changing its email address): with the account's password,
// or without one when the password was entered less than RecentSignIn ago.
// Otherwise 401 with the code reauth_required, which a page answers by
// asking for the password; a wrong password is 403.
func (p *Policy) ConfirmSignIn(e *core.RequestEvent, password string) error {
	if password != "" {
		if !e.Auth.ValidatePassword(password) {
			return e.ForbiddenError("The password is not right.", nil)
		}
		return nil
	}
	if at := SignedInAt(e); !at.IsZero() && p.now().Sub(at) < RecentSignIn {
		return nil
	}
	return router.NewApiError(http.StatusUnauthorized, "Enter your password again to make this change.", validation.Errors{
		"password": validation.NewError("reauth_required", "Your password was entered more than 10 minutes ago: give it again."),
	})
}

// confirmEmailChange asks for a recent sign-in, or the password in the
// body beside newEmail, before PocketBase mails the confirmation link.
func (p *Policy) confirmEmailChange(e *core.RecordRequestEmailChangeRequestEvent) error {
	info, err := e.RequestInfo()
	if err != nil {
		return err
	}
	password, _ := info.Body["password"].(string)
	if err := p.ConfirmSignIn(e.RequestEvent, password); err != nil {
		return err
	}
	return e.Next()
}
