// Package pb_migrations holds the shop's schema as timestamped Go
// migrations. Each file is a frozen step: it states its own change with
// literal fields and rules and only borrows the name constants of
// collections/, so a later edit elsewhere never changes what it did.
package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

func init() {
	m.Register(createShop, dropShop)
}

// createShop extends users and creates every collection of CONTRACT §2.
func createShop(app core.App) error {
	steps := []struct {
		name string
		fn   func(core.App) error
	}{
		{c.Users, extendUsers},
		{c.Shop, createShopSettings},
		{c.Products, createProducts},
		{c.Orders, createOrders},
		{c.OrderItems, createOrderItems},
		{c.StripeEvents, createStripeEvents},
		{c.EmailJobs, createEmailJobs},
		{c.JobRuns, createJobRuns},
		{c.AuditLog, createAuditLog},
	}
	for _, s := range steps {
		if err := s.fn(app); err != nil {
			return fmt.Errorf("create %s: %w", s.name, err)
		}
	}
	return nil
}

func dropShop(app core.App) error {
	for _, name := range []string{c.AuditLog, c.JobRuns, c.EmailJobs, c.StripeEvents, c.OrderItems, c.Orders, c.Products, c.Shop} {
		col, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			continue
		}
		if err := app.Delete(col); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	// PocketBase's own rules, which do not read the fields removed below.
	owner := "id = @request.auth.id"
	users.ListRule, users.ViewRule, users.UpdateRule, users.DeleteRule = &owner, &owner, &owner, &owner
	users.CreateRule = types.Pointer("")
	for _, f := range []string{c.UserRole, c.UserShippingAddress, c.UserLanguage, c.UserMarketingEmails, c.UserOrderUpdates, c.UserStripeCustomer} {
		users.Fields.RemoveByName(f)
	}
	users.RemoveIndex("idx_users_stripe_customer")
	return app.Save(users)
}

func minimum(v float64) *float64 { return types.Pointer(v) }

func autodates(col *core.Collection, withUpdated bool) {
	col.Fields.Add(&core.AutodateField{Name: "created", OnCreate: true})
	if withUpdated {
		col.Fields.Add(&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true})
	}
}

func extendUsers(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	users.ListRule = types.Pointer(`id = @request.auth.id || (@request.auth.role = "support" && role = "customer")`)
	users.ViewRule = users.ListRule
	users.CreateRule = types.Pointer(`(@request.body.role:isset = false || @request.body.role = "customer")`)
	users.UpdateRule = types.Pointer(`id = @request.auth.id && (@request.body.role:isset = false || @request.body.role = role)`)
	users.DeleteRule = nil

	users.Fields.Add(
		&core.SelectField{Name: c.UserRole, Required: true, MaxSelect: 1, Values: []string{"customer", "support", "store"}, Presentable: true},
		&core.JSONField{Name: c.UserShippingAddress, MaxSize: 2000},
		&core.SelectField{Name: c.UserLanguage, Required: true, MaxSelect: 1, Values: []string{"en", "es", "fr", "de"}},
		&core.BoolField{Name: c.UserMarketingEmails},
		&core.BoolField{Name: c.UserOrderUpdates},
		&core.TextField{Name: c.UserStripeCustomer, Hidden: true, Max: 255},
	)
	users.AddIndex("idx_users_stripe_customer", true, c.UserStripeCustomer, c.UserStripeCustomer+" != ''")
	return app.Save(users)
}

func createShopSettings(app core.App) error {
	shop := core.NewBaseCollection(c.Shop)
	shop.ListRule = types.Pointer(`@request.auth.id != ""`)
	shop.ViewRule = shop.ListRule
	shop.Fields.Add(
		&core.TextField{Name: c.ShopAddress, Max: 500},
		&core.EmailField{Name: c.ShopSupportEmail},
	)
	autodates(shop, true)
	if err := app.Save(shop); err != nil {
		return err
	}
	record := core.NewRecord(shop)
	record.Set(c.ShopAddress, "1 Example Street, Springfield, US")
	record.Set(c.ShopSupportEmail, "support@example.com")
	return app.Save(record)
}

func createProducts(app core.App) error {
	products := core.NewBaseCollection(c.Products)
	products.ListRule = types.Pointer(`(active = true && @request.context != "protectedFile") || @request.auth.role = "support" || @request.auth.role = "store"`)
	products.ViewRule = products.ListRule
	products.CreateRule = types.Pointer(`@request.auth.role = "store" && @request.body.stripe_product:isset = false && @request.body.stripe_price:isset = false && @request.body.stripe_sync:isset = false`)
	products.UpdateRule = products.CreateRule
	products.DeleteRule = types.Pointer(`@request.auth.role = "store"`)

	products.Fields.Add(
		&core.TextField{Name: c.ProductName, Required: true, Max: 200, Presentable: true},
		&core.TextField{Name: c.ProductDescription, Max: 5000},
		&core.NumberField{Name: c.ProductPrice, OnlyInt: true, Min: minimum(0)},
		&core.TextField{Name: c.ProductCurrency, Required: true, Pattern: `^[a-z]{3}$`, Min: 3, Max: 3},
		&core.FileField{Name: c.ProductImage, MaxSelect: 1, MaxSize: 5 << 20,
			MimeTypes: []string{"image/jpeg", "image/png", "image/svg+xml", "image/webp", "image/gif"}, Thumbs: []string{"400x400"}},
		&core.NumberField{Name: c.ProductStock, OnlyInt: true, Min: minimum(0)},
		&core.BoolField{Name: c.ProductActive},
		&core.BoolField{Name: c.ProductFeatured},
		&core.BoolField{Name: c.ProductDigital},
		&core.FileField{Name: c.ProductAsset, MaxSelect: 1, MaxSize: 100 << 20, Protected: true},
		&core.TextField{Name: c.ProductStripeProduct, Max: 255},
		&core.TextField{Name: c.ProductStripePrice, Max: 255},
		&core.SelectField{Name: c.ProductStripeSync, MaxSelect: 1, Values: []string{"pending", "synced", "failed"}},
	)
	autodates(products, true)
	products.AddIndex("idx_products_stripe_product", true, c.ProductStripeProduct, c.ProductStripeProduct+" != ''")
	products.AddIndex("idx_products_active_featured", false, c.ProductActive+", "+c.ProductFeatured, "")
	return app.Save(products)
}

func createOrders(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	orders := core.NewBaseCollection(c.Orders)
	orders.ListRule = types.Pointer(`(user = @request.auth.id && @request.auth.role = "customer") || @request.auth.role = "support"`)
	orders.ViewRule = orders.ListRule
	orders.UpdateRule = types.Pointer(`@request.auth.role = "support"`)

	orders.Fields.Add(
		&core.TextField{Name: c.OrderNumber, Required: true, Max: 32, Presentable: true},
		// Optional so that deleting an account keeps its orders, unlinked.
		&core.RelationField{Name: c.OrderUser, CollectionId: users.Id, MaxSelect: 1},
		&core.SelectField{Name: c.OrderStatusField, Required: true, MaxSelect: 1,
			Values: []string{"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}},
		&core.NumberField{Name: c.OrderTotal, OnlyInt: true, Min: minimum(0)},
		&core.TextField{Name: c.OrderCurrency, Required: true, Pattern: `^[a-z]{3}$`, Min: 3, Max: 3},
		&core.NumberField{Name: c.OrderItemCount, OnlyInt: true, Min: minimum(0)},
		&core.DateField{Name: c.OrderEstimatedArrival},
		&core.TextField{Name: c.OrderCustomerName, Max: 255},
		&core.EmailField{Name: c.OrderCustomerEmail},
		&core.JSONField{Name: c.OrderShippingAddress, MaxSize: 2000},
		&core.TextField{Name: c.OrderStripeSession, Max: 255},
		&core.TextField{Name: c.OrderStripeInvoice, Max: 255},
		&core.TextField{Name: c.OrderStripePaymentIntent, Max: 255},
		&core.TextField{Name: c.OrderStripeRefund, Max: 255},
		&core.DateField{Name: c.OrderPaidAt},
		&core.DateField{Name: c.OrderCancelledAt},
		&core.TextField{Name: c.OrderCancelReason, Max: 500},
	)
	autodates(orders, true)
	orders.AddIndex("idx_orders_number", true, c.OrderNumber, "")
	orders.AddIndex("idx_orders_user_created", false, "user, created, id", "")
	// Support's newest-first list of every order.
	orders.AddIndex("idx_orders_created", false, "created, id", "")
	orders.AddIndex("idx_orders_status_created", false, "status, created", "")
	for _, f := range []string{c.OrderStripeSession, c.OrderStripeInvoice, c.OrderStripePaymentIntent, c.OrderStripeRefund} {
		orders.AddIndex("idx_orders_"+f, true, f, f+" != ''")
	}
	return app.Save(orders)
}

func createOrderItems(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	products, err := app.FindCollectionByNameOrId(c.Products)
	if err != nil {
		return err
	}
	items := core.NewBaseCollection(c.OrderItems)
	items.ListRule = types.Pointer(`(user = @request.auth.id && @request.auth.role = "customer") || @request.auth.role = "support"`)
	items.ViewRule = items.ListRule

	items.Fields.Add(
		&core.RelationField{Name: c.ItemOrder, CollectionId: orders.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		&core.RelationField{Name: c.ItemUser, CollectionId: users.Id, MaxSelect: 1},
		&core.RelationField{Name: c.ItemProduct, CollectionId: products.Id, MaxSelect: 1},
		&core.TextField{Name: c.ItemProductName, Required: true, Max: 200, Presentable: true},
		&core.NumberField{Name: c.ItemUnitPrice, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.ItemQuantity, OnlyInt: true, Required: true, Min: minimum(1)},
		&core.DateField{Name: c.ItemEstimatedArrival},
	)
	autodates(items, false)
	items.AddIndex("idx_order_items_user_created", false, "user, created, id", "")
	items.AddIndex("idx_order_items_created", false, "created, id", "")
	items.AddIndex("idx_order_items_order", false, c.ItemOrder, "")
	items.AddIndex("idx_order_items_product", false, c.ItemProduct, "")
	return app.Save(items)
}

func createStripeEvents(app core.App) error {
	events := core.NewBaseCollection(c.StripeEvents)
	events.Fields.Add(
		&core.TextField{Name: c.StripeEventID, Required: true, Max: 255, Presentable: true},
		&core.TextField{Name: c.StripeEventType, Required: true, Max: 255},
		&core.TextField{Name: c.StripeEventObject, Max: 255},
	)
	autodates(events, false)
	events.AddIndex("idx_stripe_events_event_id", true, c.StripeEventID, "")
	return app.Save(events)
}

func createEmailJobs(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	orders, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		return err
	}
	jobs := core.NewBaseCollection(c.EmailJobs)
	jobs.Fields.Add(
		&core.RelationField{Name: c.EmailJobOrder, CollectionId: orders.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
		&core.RelationField{Name: c.EmailJobUser, CollectionId: users.Id, MaxSelect: 1},
		&core.EmailField{Name: c.EmailJobRecipient},
		&core.SelectField{Name: c.EmailJobTemplate, Required: true, MaxSelect: 1,
			Values: []string{"order_paid", "order_shipped", "order_cancelled", "order_refunded"}},
		&core.SelectField{Name: c.EmailJobLanguage, Required: true, MaxSelect: 1, Values: []string{"en", "es", "fr", "de"}},
		&core.SelectField{Name: c.EmailJobStatus, Required: true, MaxSelect: 1, Values: []string{"queued", "sent", "failed", "dead"}},
		&core.NumberField{Name: c.EmailJobAttempts, OnlyInt: true, Min: minimum(0)},
		&core.DateField{Name: c.EmailJobNextAttempt},
		&core.TextField{Name: c.EmailJobLastError, Max: 2000},
		&core.DateField{Name: c.EmailJobSentAt},
	)
	autodates(jobs, true)
	jobs.AddIndex("idx_email_jobs_order_template", true, "`order`, template", "")
	jobs.AddIndex("idx_email_jobs_status_next", false, "status, next_attempt", "")
	return app.Save(jobs)
}

func createJobRuns(app core.App) error {
	runs := core.NewBaseCollection(c.JobRuns)
	runs.Fields.Add(
		&core.TextField{Name: c.JobRunJob, Required: true, Max: 100, Presentable: true},
		&core.SelectField{Name: c.JobRunStatus, Required: true, MaxSelect: 1, Values: []string{"running", "succeeded", "failed", "cancelled"}},
		&core.TextField{Name: c.JobRunTrigger, Max: 100},
		&core.DateField{Name: c.JobRunStarted, Required: true},
		&core.DateField{Name: c.JobRunFinished},
		&core.NumberField{Name: c.JobRunFetched, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.JobRunCreated, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.JobRunUpdated, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.JobRunSkipped, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.JobRunFailed, OnlyInt: true, Min: minimum(0)},
		&core.DateField{Name: c.JobRunWatermark},
		&core.TextField{Name: c.JobRunError, Max: 2000},
	)
	runs.AddIndex("idx_job_runs_job_started", false, "job, started", "")
	return app.Save(runs)
}

func createAuditLog(app core.App) error {
	audit := core.NewBaseCollection(c.AuditLog)
	audit.ListRule = types.Pointer(`@request.auth.role = "support"`)
	audit.ViewRule = audit.ListRule
	audit.Fields.Add(
		&core.TextField{Name: c.AuditActor, Required: true, Max: 255},
		&core.TextField{Name: c.AuditAction, Required: true, Max: 100, Presentable: true},
		&core.TextField{Name: c.AuditTarget, Max: 255},
		&core.JSONField{Name: c.AuditData, MaxSize: 20000},
	)
	autodates(audit, false)
	audit.AddIndex("idx_audit_log_target", false, "target, created", "")
	audit.AddIndex("idx_audit_log_created", false, "created", "")
	return app.Save(audit)
}
