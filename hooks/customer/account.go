package customer

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/audit"
	"shopdash/hooks/records"
	"shopdash/hooks/sessions"
)

func registerAccount(app core.App, policy *sessions.Policy) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se)
		g.GET("/me", showMe).Bind(access.SignedIn())
		g.GET("/me/export", exportMe).Bind(access.SignedIn())
		g.DELETE("/me", func(e *core.RequestEvent) error { return deleteMe(e, policy) }).Bind(access.SignedIn())
		return se.Next()
	})
}

// profile is what the API shows a user of their own account: every field
// but the hidden ones (password hash, token key, Stripe customer).
func profile(auth *core.Record) map[string]any {
	own := auth.Clone()
	own.IgnoreEmailVisibility(true)
	return own.PublicExport()
}

// showMe answers the profile and the permissions of its role.
func showMe(e *core.RequestEvent) error {
	out := profile(e.Auth)
	out["permissions"] = c.NewUser(e.Auth).Role().Permissions()
	return e.JSON(http.StatusOK, out)
}

// exportMe answers everything stored about the user as one JSON document:
// the profile, every order with its items, and the emails sent. Three
// queries, whatever the number of orders.
func exportMe(e *core.RequestEvent) error {
	orders, err := e.App.FindRecordsByFilter(c.Orders, "user = {:u}", "-created", 0, 0, dbx.Params{"u": e.Auth.Id})
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("export orders: %w", err))
	}
	items, err := e.App.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemUser: e.Auth.Id})
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("export items: %w", err))
	}
	byOrder := map[string][]map[string]any{}
	for _, item := range items {
		id := item.GetString(c.ItemOrder)
		byOrder[id] = append(byOrder[id], item.PublicExport())
	}
	exported := make([]map[string]any, len(orders))
	for i, o := range orders {
		exported[i] = o.PublicExport()
		exported[i]["items"] = byOrder[o.Id]
	}

	emails := []struct {
		Order    string         `db:"order" json:"order"`
		Template string         `db:"template" json:"template"`
		Language string         `db:"language" json:"language"`
		Status   string         `db:"status" json:"status"`
		SentAt   types.DateTime `db:"sent_at" json:"sent_at"`
		Created  types.DateTime `db:"created" json:"created"`
	}{}
	err = e.App.DB().Select("order", "template", "language", "status", "sent_at", "created").
		From(c.EmailJobs).Where(dbx.HashExp{c.EmailJobUser: e.Auth.Id}).OrderBy("created DESC").All(&emails)
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("export emails: %w", err))
	}

	now := time.Now().UTC()
	e.Response.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="shopdash-export-%s.json"`, now.Format("2006-01-02")))
	return e.JSON(http.StatusOK, map[string]any{
		"exported_at": records.Stamp(now),
		"profile":     profile(e.Auth),
		"orders":      exported,
		"emails":      emails,
	})
}

// deleteAccountRequest is the body of DELETE /api/v1/me.
type deleteAccountRequest struct {
	Password string `json:"password"`
}

// deleteMe deletes the signed-in account after checking its password, or
// within 10 minutes of the sign-in without it (sessions.ConfirmSignIn), so
// a stolen token alone cannot. records.ForgetCustomer keeps the orders without
// personal data; that, the audit entry and the delete are one transaction.
func deleteMe(e *core.RequestEvent, policy *sessions.Policy) error {
	var body deleteAccountRequest
	if err := access.BindBody(e, &body, `{"password": "..."}`); err != nil {
		return err
	}
	if err := policy.ConfirmSignIn(e, body.Password); err != nil {
		return err
	}

	userID := e.Auth.Id
	err := e.App.RunInTransaction(func(tx core.App) error {
		user, err := tx.FindRecordById(c.Users, userID)
		if err != nil {
			return err
		}
		orders, err := records.ForgetCustomer(tx, userID)
		if err != nil {
			return err
		}
		ref := c.AuditRef(c.Users, userID)
		if err := audit.Write(tx, ref, "user.delete_account", ref, map[string]any{"orders_kept": orders}); err != nil {
			return err
		}
		return tx.Delete(user)
	})
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("delete account %s: %w", userID, err))
	}
	e.App.Logger().Info("account deleted", "user", userID)
	return e.NoContent(http.StatusNoContent)
}
