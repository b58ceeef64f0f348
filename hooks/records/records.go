// Package records holds the record hooks of the shop's collections (the
// order status machine, stock, claims, validation and normalising of
// users and products, the one shop record) and the order operations that
// several entry points share.
package records

import (
	"context"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Register binds the record hooks of every collection.
func Register(app core.App) {
	registerUsers(app)
	registerProducts(app)
	registerTextFields(app)
	registerOrders(app)
	registerOrderItems(app)
	registerOrderNotes(app)
	registerShop(app)
}

// Stamp is a time as a PocketBase date value.
func Stamp(t time.Time) types.DateTime {
	d, _ := types.ParseDateTime(t)
	return d
}

type silentKey struct{}

// WithoutEmails marks saves that must not write to customers: history
// pulled by the sync, or an invoice paid long ago. Emails follow live
// events only, so a first sync of a shop's past never mails anyone.
func WithoutEmails(ctx context.Context) context.Context {
	return context.WithValue(ctx, silentKey{}, true)
}

// EmailsWanted tells whether saves under ctx may write to customers.
func EmailsWanted(ctx context.Context) bool {
	silent, _ := ctx.Value(silentKey{}).(bool)
	return !silent
}
