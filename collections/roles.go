// Package collections names the shop's PocketBase collections and their
// fields, states their access rules, and wraps their records in small typed
// proxies so the rest of the code never spells a field name twice.
package collections

// Role is what a signed-in user may do in the shop.
type Role string

// The roles of the users collection.
const (
	RoleCustomer Role = "customer"
	RoleSupport  Role = "support"
	RoleStore    Role = "store"
)

// IsStaff reports whether the role is one of the shop's team (support,
// store): shorter sessions and a second factor (docs/security.md).
func (r Role) IsStaff() bool { return r == RoleSupport || r == RoleStore }

// Roles lists every role, the default first.
var Roles = []Role{RoleCustomer, RoleSupport, RoleStore}

// Permission names of CONTRACT §2, returned by GET /api/v1/me.
const (
	PermGetOrders      = "get:orders"
	PermCreateOrders   = "create:orders"
	PermUpdateOrders   = "update:orders"
	PermCancelOrders   = "cancel:orders"
	PermRefundOrders   = "refund:orders"
	PermGetProducts    = "get:products"
	PermCreateProducts = "create:products"
	PermUpdateProducts = "update:products"
	PermDeleteProducts = "delete:products"
	PermGetUsers       = "get:users"
)

var rolePermissions = map[Role][]string{
	RoleCustomer: {PermGetOrders, PermCreateOrders, PermCancelOrders, PermGetProducts, PermGetUsers},
	RoleSupport:  {PermGetOrders, PermUpdateOrders, PermCancelOrders, PermRefundOrders, PermGetProducts, PermGetUsers},
	RoleStore:    {PermGetProducts, PermCreateProducts, PermUpdateProducts, PermDeleteProducts},
}

// Permissions returns the permission names a role holds, in a stable order.
func (r Role) Permissions() []string {
	return append([]string(nil), rolePermissions[r]...)
}

// Can reports whether the role holds the permission.
func (r Role) Can(permission string) bool {
	for _, p := range rolePermissions[r] {
		if p == permission {
			return true
		}
	}
	return false
}
