package collections

import "github.com/pocketbase/pocketbase/core"

// Users is PocketBase's own auth collection, extended with the shop's fields.
const Users = "users"

// Fields of users besides PocketBase's auth fields (email, password, ...).
const (
	UserName            = "name"
	UserRole            = "role"
	UserShippingAddress = "shipping_address"
	UserLanguage        = "language"
	UserMarketingEmails = "marketing_emails"
	UserOrderUpdates    = "order_updates"
	UserStripeCustomer  = "stripe_customer"
)

// Languages the shop speaks, the default first.
var Languages = []string{"en", "es", "fr", "de"}

// DefaultLanguage is the language of a user who has not chosen one.
const DefaultLanguage = "en"

// Access rules of users. A customer sees and edits only themself and cannot
// change their role; support reads every customer. stripe_customer is a
// hidden field, which PocketBase drops from a non-superuser's request body,
// so nobody but a superuser can set it. Customers delete their account
// through DELETE /api/v1/me, which asks for the password; superusers may
// delete one in /_/, and both paths remove its personal data from orders. Accounts are deleted through DELETE /api/v1/me, which asks for
// the password, so the records API never deletes one.
const (
	UsersListRule   = `id = @request.auth.id || (@request.auth.role = "support" && role = "customer")`
	UsersViewRule   = UsersListRule
	UsersCreateRule = `(@request.body.role:isset = false || @request.body.role = "customer")`
	UsersUpdateRule = `id = @request.auth.id && (@request.body.role:isset = false || @request.body.role = role)`
)

// User is a typed view of a users record.
type User struct {
	core.BaseRecordProxy
}

// NewUser wraps a users record.
func NewUser(record *core.Record) *User {
	u := &User{}
	u.SetProxyRecord(record)
	return u
}

// Name is the user's display name.
func (u *User) Name() string { return u.GetString(UserName) }

// Email is the sign-in email address.
func (u *User) Email() string { return u.GetString(core.FieldNameEmail) }

// Role is the user's role; an unset role reads as customer.
func (u *User) Role() Role {
	if r := Role(u.GetString(UserRole)); r != "" {
		return r
	}
	return RoleCustomer
}

// Language is the user's language, falling back to the default.
func (u *User) Language() string {
	if l := u.GetString(UserLanguage); l != "" {
		return l
	}
	return DefaultLanguage
}

// OrderUpdates reports whether the user wants shipping emails.
func (u *User) OrderUpdates() bool { return u.GetBool(UserOrderUpdates) }

// StripeCustomer is the user's Stripe customer id, or "".
func (u *User) StripeCustomer() string { return u.GetString(UserStripeCustomer) }

// ShippingAddress decodes the stored address; an unset address is the zero value.
func (u *User) ShippingAddress() (Address, error) {
	return DecodeAddress(u.Get(UserShippingAddress))
}
