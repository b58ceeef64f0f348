package sessions

import (
	"errors"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// applyStaffMFA turns the users collection's MFA on or off as
// SHOPDASH_STAFF_MFA says, at every start. Which accounts it asks is the
// collection's MFA rule (support and store, migration 1764000012), and the
// second method is PocketBase's emailed one-time code.
func applyStaffMFA(app core.App, on bool) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	if users.MFA.Enabled == on {
		return nil
	}
	users.MFA.Enabled = on
	if err := app.Save(users); err != nil {
		return err
	}
	app.Logger().Info("staff second factor", "on", on)
	return nil
}

// auditSignIn records a completed staff sign-in, with its last method
// (otp after a password when the second factor was asked).
func auditSignIn(e *core.RecordAuthRequestEvent) error {
	ref := c.AuditRef(c.Users, e.Record.Id)
	return audit.Write(e.App, ref, "user.sign_in", ref, map[string]any{
		"method": e.AuthMethod,
		"mfa":    e.Record.Collection().MFA.Enabled,
	})
}

// auditFailedSecondFactor records a one-time code refused as the second
// step of a staff sign-in (a wrong, expired or unknown code, or too many
// tries), under the account the MFA session belongs to.
func auditFailedSecondFactor(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodPost || e.Request.URL.Path != "/api/collections/"+c.Users+"/auth-with-otp" {
		return e.Next()
	}
	err := e.Next()
	if err == nil {
		return nil
	}
	info, infoErr := e.RequestInfo()
	if infoErr != nil {
		return err
	}
	mfaID, _ := info.Body["mfaId"].(string)
	if mfaID == "" {
		mfaID = info.Query["mfaId"]
	}
	if mfaID == "" {
		return err
	}
	mfa, findErr := e.App.FindMFAById(mfaID)
	if findErr != nil {
		return err
	}
	user, findErr := e.App.FindRecordById(c.Users, mfa.RecordRef())
	if findErr != nil || !c.NewUser(user).Role().IsStaff() {
		return err
	}
	status := http.StatusBadRequest
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		status = apiErr.Status
	}
	ref := c.AuditRef(c.Users, user.Id)
	if auditErr := audit.Write(e.App, ref, "user.second_factor_failed", ref, map[string]any{"status": status}); auditErr != nil {
		e.App.Logger().Error("audit a failed second factor", "user", user.Id, "error", auditErr)
	}
	return err
}
