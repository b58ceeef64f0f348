package realtime

import (
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// visibility is who may hear of a collection's records: the collection's
// list and view rule (they are the same for every collection here) as a Go
// test on the record and the listener, so a broadcast checks it without a
// query. TestVisibilityMatchesTheRecordRules compares each with the rule
// PocketBase evaluates, for every role, so the two cannot drift apart.
type visibility struct {
	// owner is the field holding the id of the one customer who may see a
	// record ("id" for users: a customer sees only themselves); empty when
	// customers see no record or every record alike. A customer's topics
	// on such a collection are indexed by their id, so a write reaches the
	// owner's topics only, never every customer's.
	owner string
	// visible reports whether the signed-in auth (nil: a guest) may see
	// the record in realtime (@request.context = "realtime").
	visible func(record, auth *core.Record) bool
}

// visibilities are the collections a non-superuser may follow in realtime.
// Any other topic is refused to them at subscribe time: its rule is
// superusers-only, so it could only cost the shop and never deliver.
var visibilities = map[string]visibility{
	c.Orders:     {owner: c.OrderUser, visible: ownedOrSupport(c.OrderUser)},
	c.OrderItems: {owner: c.ItemUser, visible: ownedOrSupport(c.ItemUser)},
	c.OrderNotes: {visible: roleIs(c.RoleSupport)},
	c.AuditLog:   {visible: roleIs(c.RoleSupport)},
	c.Products:   {visible: activeOrStaff},
	c.Users:      {owner: "id", visible: selfOrCustomerToSupport},
	c.Shop:       {visible: signedIn},
}

func roleOf(auth *core.Record) c.Role {
	if auth == nil {
		return ""
	}
	return c.Role(auth.GetString(c.UserRole))
}

// ownedOrSupport mirrors `(field = @request.auth.id && @request.auth.role = "customer") || @request.auth.role = "support"`.
func ownedOrSupport(field string) func(record, auth *core.Record) bool {
	return func(record, auth *core.Record) bool {
		switch roleOf(auth) {
		case c.RoleSupport:
			return true
		case c.RoleCustomer:
			return record.GetString(field) == auth.Id
		}
		return false
	}
}

// roleIs mirrors `@request.auth.role = "<role>"`.
func roleIs(role c.Role) func(record, auth *core.Record) bool {
	return func(_, auth *core.Record) bool { return roleOf(auth) == role }
}

// activeOrStaff mirrors the products rule in the realtime context:
// `(active = true && @request.context != "protectedFile") || @request.auth.role = "support" || @request.auth.role = "store"`.
func activeOrStaff(record, auth *core.Record) bool {
	role := roleOf(auth)
	return record.GetBool(c.ProductActive) || role == c.RoleSupport || role == c.RoleStore
}

// selfOrCustomerToSupport mirrors `id = @request.auth.id || (@request.auth.role = "support" && role = "customer")`.
func selfOrCustomerToSupport(record, auth *core.Record) bool {
	if auth == nil {
		return false
	}
	return record.Id == auth.Id || (roleOf(auth) == c.RoleSupport && c.Role(record.GetString(c.UserRole)) == c.RoleCustomer)
}

// signedIn mirrors `@request.auth.id != ""`.
func signedIn(_, auth *core.Record) bool { return auth != nil && auth.Id != "" }
