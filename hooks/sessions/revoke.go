package sessions

import (
	"fmt"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
)

func registerRevoke(se *core.ServeEvent) {
	g := access.V1(se)
	g.POST("/me/sessions/revoke", revokeMine).Bind(access.SignedIn())
	g.POST("/admin/users/{id}/sessions/revoke", revokeAccount).Bind(apis.RequireSuperuserAuth())
}

// revokeRequest is the body of POST /api/v1/me/sessions/revoke.
type revokeRequest struct {
	Password string `json:"password"`
}

// revokeMine signs the account out of every device, this one included,
// once its password is given: a stolen token alone cannot end the
// owner's sessions and keep its own going (it ends too).
func revokeMine(e *core.RequestEvent) error {
	var body revokeRequest
	if err := access.BindBody(e, &body, `{"password": "..."}`); err != nil {
		return err
	}
	if err := validation.ValidateStruct(&body,
		validation.Field(&body.Password, validation.Required.Error("Give your password to sign out of all devices."))); err != nil {
		return e.BadRequestError("Check the password.", err)
	}
	if !e.Auth.ValidatePassword(body.Password) {
		return e.UnauthorizedError("The password is not right.", nil)
	}
	if err := Revoke(e.App, e.Auth.Id, audit.Actor(e.Auth)); err != nil {
		return e.InternalServerError("", err)
	}
	return e.NoContent(http.StatusNoContent)
}

// revokeAccount is a superuser's sign-out of any account from every
// device: a lost laptop, a staff member who left.
func revokeAccount(e *core.RequestEvent) error {
	id := e.Request.PathValue("id")
	if _, err := e.App.FindRecordById(c.Users, id); err != nil {
		return e.NotFoundError("No such account.", nil)
	}
	if err := Revoke(e.App, id, audit.Actor(e.Auth)); err != nil {
		return e.InternalServerError("", err)
	}
	return e.NoContent(http.StatusNoContent)
}

// Revoke ends every session of a users account: a new token key makes
// every token signed with the old one fail its check, on the auth cache's
// path and PocketBase's (the save makes the cache forget the account), and
// realtime connections signed in as the account become a guest's. The
// audit entry names who asked: the account itself, or a superuser.
func Revoke(app core.App, userID, actor string) error {
	return app.RunInTransaction(func(tx core.App) error {
		user, err := tx.FindRecordById(c.Users, userID)
		if err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", userID, err)
		}
		user.RefreshTokenKey()
		if err := tx.Save(user); err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", userID, err)
		}
		ref := c.AuditRef(c.Users, userID)
		return audit.Write(tx, actor, "user.sessions_revoke", ref, map[string]any{})
	})
}
