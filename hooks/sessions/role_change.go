package sessions

import (
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// endSessionsOnRoleChange gives an account a new token key when its role
// changes, on every path (the records API, /_/, a command): a customer made
// support would otherwise keep a session signed in with a password alone,
// without the staff's second factor and under the customers' 30-day
// lifetime; a member of staff made a customer would keep the staff's. The
// account signs in again under its new role's rules.
func endSessionsOnRoleChange(e *core.RecordEvent) error {
	if !e.Record.IsNew() && e.Record.Original().GetString(c.UserRole) != e.Record.GetString(c.UserRole) {
		e.Record.RefreshTokenKey()
	}
	return e.Next()
}
