package hooks

import (
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
)

// v1 returns the /api/v1 route group.
func v1(se *core.ServeEvent) *router.RouterGroup[*core.RequestEvent] {
	return se.Router.Group("/api/v1")
}

// signedIn lets through a signed-in shop user and answers a guest 401.
func signedIn() *hook.Handler[*core.RequestEvent] {
	return apis.RequireAuth(c.Users)
}

// requirePermission lets through a signed-in user whose role holds the
// permission of CONTRACT §2, and answers anyone else 403.
func requirePermission(permission string) *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id: "shopdashRequire_" + permission,
		Func: func(e *core.RequestEvent) error {
			if e.Auth == nil || e.Auth.Collection().Name != c.Users ||
				!c.NewUser(e.Auth).Role().Can(permission) {
				return e.ForbiddenError("Your role does not allow "+permission+".", nil)
			}
			return e.Next()
		},
	}
}
