// Package access holds what decides who may ask what of the shop, beyond
// the record rules: the permission checks of the custom routes, the
// customers' list scope, and the bounds on records-API reads and realtime
// subscriptions (docs/security.md).
package access

import (
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"

	c "shopdash/collections"
)

// V1 returns the /api/v1 route group.
func V1(se *core.ServeEvent) *router.RouterGroup[*core.RequestEvent] {
	return se.Router.Group("/api/v1")
}

// SignedIn lets through a signed-in shop user and answers a guest 401.
func SignedIn() *hook.Handler[*core.RequestEvent] {
	return apis.RequireAuth(c.Users)
}

// RequirePermission lets through a signed-in user whose role holds the
// permission of CONTRACT §2, and answers anyone else 403.
func RequirePermission(permission string) *hook.Handler[*core.RequestEvent] {
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
