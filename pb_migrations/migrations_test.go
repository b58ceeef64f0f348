package pb_migrations_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	_ "shopdash/pb_migrations"
)

// newEmptyShop migrates an empty data dir: PocketBase's system migrations
// and ours, nothing seeded.
func newEmptyShop(t *testing.T) *tests.TestApp {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Cleanup)
	return app
}

// TestMigratedSchemaHasEveryField checks that every field the record
// proxies and hooks read exists after migrating an empty database.
func TestMigratedSchemaHasEveryField(t *testing.T) {
	app := newEmptyShop(t)
	want := map[string][]string{
		c.Users: {c.UserName, c.UserRole, c.UserShippingAddress, c.UserLanguage, c.UserMarketingEmails,
			c.UserOrderUpdates, c.UserStripeCustomer, core.FieldNameEmail, core.FieldNamePassword},
		c.Products: {c.ProductName, c.ProductDescription, c.ProductPrice, c.ProductCurrency, c.ProductImage,
			c.ProductStock, c.ProductActive, c.ProductFeatured, c.ProductDigital, c.ProductAsset,
			c.ProductStripeProduct, c.ProductStripePrice, c.ProductStripeSync, c.ProductCreated, c.ProductUpdated},
		c.Orders: {c.OrderNumber, c.OrderUser, c.OrderStatusField, c.OrderTotal, c.OrderCurrency, c.OrderItemCount,
			c.OrderEstimatedArrival, c.OrderCustomerName, c.OrderCustomerEmail, c.OrderShippingAddress,
			c.OrderStripeSession, c.OrderStripeInvoice, c.OrderStripePaymentIntent, c.OrderStripeRefund,
			c.OrderPaidAt, c.OrderCancelledAt, c.OrderCancelReason, c.OrderCreated, c.OrderUpdated,
			c.OrderDiscount, c.OrderClaim, c.OrderClaimedAt, c.OrderRefundPending, c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL,
			c.OrderShippedAt, c.OrderDeliveredAt, c.OrderRefundedAt, c.OrderRefundedAmount, c.OrderReceiptURL},
		c.OrderNotes: {c.NoteOrder, c.NoteAuthor, c.NoteBody, c.NoteCreated},
		c.OrderItems: {c.ItemOrder, c.ItemUser, c.ItemProduct, c.ItemProductName, c.ItemUnitPrice,
			c.ItemQuantity, c.ItemEstimatedArrival, c.ItemCreated, c.ItemStockTaken},
		c.StripeEvents: {c.StripeEventID, c.StripeEventType, c.StripeEventObject, c.StripeEventCreated,
			c.StripeEventStatus, c.StripeEventReason},
		c.EmailJobs: {c.EmailJobOrder, c.EmailJobUser, c.EmailJobRecipient, c.EmailJobTemplate, c.EmailJobLanguage,
			c.EmailJobStatus, c.EmailJobAttempts, c.EmailJobNextAttempt, c.EmailJobLastError, c.EmailJobSentAt,
			c.EmailJobCreated, c.EmailJobUpdated, c.EmailJobRefund, c.EmailJobRefundedAmount},
		c.JobRuns: {c.JobRunJob, c.JobRunStatus, c.JobRunTrigger, c.JobRunStarted, c.JobRunFinished,
			c.JobRunFetched, c.JobRunCreated, c.JobRunUpdated, c.JobRunSkipped, c.JobRunFailed,
			c.JobRunWatermark, c.JobRunError},
		c.AuditLog: {c.AuditActor, c.AuditAction, c.AuditTarget, c.AuditData, c.AuditCreated},
		c.Shop:     {c.ShopAddress, c.ShopSupportEmail},
		c.WebhookEndpoints: {c.EndpointURL, c.EndpointEvents, c.EndpointSecret, c.EndpointActive, c.EndpointDisabledReason,
			c.EndpointDescription, c.EndpointPreviousSecret, c.EndpointPreviousSecretUntil, c.EndpointFailingSince,
			c.EndpointCreated, c.EndpointUpdated},
		c.WebhookDeliveries: {c.DeliveryEndpoint, c.DeliveryEventID, c.DeliveryType, c.DeliveryStatus, c.DeliveryAttempts,
			c.DeliveryNextAttempt, c.DeliveryLastStatus, c.DeliveryLastError, c.DeliveryPayload, c.DeliveryResource,
			c.DeliveryDeliveredAt, c.DeliveryClaim, c.DeliveryCreated, c.DeliveryUpdated},
	}
	for name, fields := range want {
		col, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Errorf("collection %s: %v", name, err)
			continue
		}
		for _, f := range fields {
			if col.Fields.GetByName(f) == nil {
				t.Errorf("%s.%s is missing", name, f)
			}
		}
	}
}

// TestMigratedValuesMatchCollections checks that the select values the
// migration froze are the ones the code uses.
func TestMigratedValuesMatchCollections(t *testing.T) {
	app := newEmptyShop(t)
	values := func(collection, field string) []string {
		col, err := app.FindCollectionByNameOrId(collection)
		if err != nil {
			t.Fatal(err)
		}
		return col.Fields.GetByName(field).(*core.SelectField).Values
	}
	var roles, statuses []string
	for _, r := range c.Roles {
		roles = append(roles, string(r))
	}
	for _, s := range c.OrderStatuses {
		statuses = append(statuses, string(s))
	}
	checks := []struct {
		collection, field string
		want              []string
	}{
		{c.Users, c.UserRole, roles},
		{c.Users, c.UserLanguage, c.Languages},
		{c.Orders, c.OrderStatusField, statuses},
		{c.EmailJobs, c.EmailJobTemplate, c.EmailTemplates},
		{c.EmailJobs, c.EmailJobLanguage, c.Languages},
		{c.EmailJobs, c.EmailJobStatus, []string{c.EmailQueued, c.EmailSent, c.EmailFailed, c.EmailDead}},
		{c.JobRuns, c.JobRunStatus, []string{c.JobRunning, c.JobSucceeded, c.JobFailed, c.JobCancelled}},
		{c.Products, c.ProductStripeSync, []string{c.StripeSyncPending, c.StripeSyncSynced, c.StripeSyncFailed}},
		{c.WebhookEndpoints, c.EndpointEvents, c.WebhookEventTypes},
		{c.WebhookDeliveries, c.DeliveryStatus, c.DeliveryStatuses},
	}
	for _, ch := range checks {
		if got := values(ch.collection, ch.field); !slices.Equal(got, ch.want) {
			t.Errorf("%s.%s values = %v, want %v", ch.collection, ch.field, got, ch.want)
		}
	}
}

// TestMigratedRulesMatchCollections pins the record rules in the database
// to the constants of collections/: a rule change needs a new migration
// and a new constant, together. nil means superusers only.
func TestMigratedRulesMatchCollections(t *testing.T) {
	app := newEmptyShop(t)
	rule := func(s string) *string { return &s }
	want := map[string][5]*string{ // list, view, create, update, delete
		c.Users:        {rule(c.UsersListRule), rule(c.UsersViewRule), rule(c.UsersCreateRule), rule(c.UsersUpdateRule), nil},
		c.Products:     {rule(c.ProductsListRule), rule(c.ProductsViewRule), rule(c.ProductsCreateRule), rule(c.ProductsUpdateRule), rule(c.ProductsDeleteRule)},
		c.Orders:       {rule(c.OrdersListRule), rule(c.OrdersViewRule), nil, rule(c.OrdersUpdateRule), nil},
		c.OrderItems:   {rule(c.OrderItemsListRule), rule(c.OrderItemsViewRule), nil, nil, nil},
		c.AuditLog:     {rule(c.AuditLogListRule), rule(c.AuditLogViewRule), nil, nil, nil},
		c.Shop:         {rule(c.ShopListRule), rule(c.ShopViewRule), nil, nil, nil},
		c.StripeEvents: {nil, nil, nil, nil, nil},
		c.EmailJobs:    {nil, nil, nil, nil, nil},
		c.JobRuns:      {nil, nil, nil, nil, nil},
		// Secrets and customers' data: superusers only (CONTRACT §8).
		c.WebhookEndpoints:  {nil, nil, nil, nil, nil},
		c.WebhookDeliveries: {nil, nil, nil, nil, nil},
	}
	show := func(r *string) string {
		if r == nil {
			return "<superusers only>"
		}
		return *r
	}
	for name, rules := range want {
		col, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		got := [5]*string{col.ListRule, col.ViewRule, col.CreateRule, col.UpdateRule, col.DeleteRule}
		for i, action := range []string{"list", "view", "create", "update", "delete"} {
			if show(got[i]) != show(rules[i]) {
				t.Errorf("%s %s rule = %s, want %s", name, action, show(got[i]), show(rules[i]))
			}
		}
	}
}

// TestMigratedIndexesServeTheDashboardQueries checks the indexes the
// dashboard queries and the uniqueness guarantees rely on.
func TestMigratedIndexesServeTheDashboardQueries(t *testing.T) {
	app := newEmptyShop(t)
	want := map[string][]string{
		c.Orders: {"UNIQUE INDEX `idx_orders_number`", "`idx_orders_user_created` ON `orders` (user, created, id, status, currency, total)", "`idx_orders_created`",
			"UNIQUE INDEX `idx_orders_stripe_session`", "UNIQUE INDEX `idx_orders_stripe_invoice`",
			"UNIQUE INDEX `idx_orders_stripe_payment_intent`", "UNIQUE INDEX `idx_orders_stripe_refund`"},
		c.OrderItems:   {"`idx_order_items_user_created`", "`idx_order_items_created`", "`idx_order_items_order`", "`idx_order_items_product`"},
		c.StripeEvents: {"UNIQUE INDEX `idx_stripe_events_event_id`"},
		c.EmailJobs:    {"UNIQUE INDEX `idx_email_jobs_order_template_refunded` ON `email_jobs` (`order`, template, refunded_amount)"},
		c.Products:     {"UNIQUE INDEX `idx_products_stripe_product`"},
	}
	for name, fragments := range want {
		col, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(col.Indexes, "\n")
		for _, f := range fragments {
			if !strings.Contains(all, f) {
				t.Errorf("%s lacks %s; has:\n%s", name, f, all)
			}
		}
	}
}

// TestOptionalStripeIdsAreUniqueOnlyWhenSet lets many orders have no
// Stripe session while two orders can never share one.
func TestOptionalStripeIdsAreUniqueOnlyWhenSet(t *testing.T) {
	app := newEmptyShop(t)
	col, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	save := func(number, session string) error {
		o := core.NewRecord(col)
		o.Set(c.OrderNumber, number)
		o.Set(c.OrderStatusField, string(c.StatusPending))
		o.Set(c.OrderCurrency, "usd")
		o.Set(c.OrderStripeSession, session)
		return app.Save(o)
	}
	for _, n := range []string{"SD-AAAA-AAA2", "SD-AAAA-AAA3"} {
		if err := save(n, ""); err != nil {
			t.Fatalf("second order without a session refused: %v", err)
		}
	}
	if err := save("SD-AAAA-AAA4", "cs_test_1"); err != nil {
		t.Fatal(err)
	}
	if err := save("SD-AAAA-AAA5", "cs_test_1"); err == nil {
		t.Fatal("two orders saved with the same Stripe session")
	}
	if err := save("SD-AAAA-AAA4", ""); err == nil {
		t.Fatal("two orders saved with the same number")
	}
}

// TestMigrationsRollBack runs every shop migration down and up again.
func TestMigrationsRollBack(t *testing.T) {
	app := newEmptyShop(t)
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	all := len(core.AppMigrations.Items())
	reverted, err := runner.Down(all)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if len(reverted) != all || all < 8 {
		t.Fatalf("reverted %v, want all %d shop migrations", reverted, all)
	}
	if _, err := app.FindCollectionByNameOrId(c.Orders); err == nil {
		t.Fatal("orders still exists after down")
	}
	if _, err := runner.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := app.FindCollectionByNameOrId(c.Orders); err != nil {
		t.Fatalf("orders missing after up: %v", err)
	}
}

// TestRateLimitsAreOn checks the limits that guard sign-in and account
// deletion, and that Stripe's webhook is not held to the guests' limit.
func TestRateLimitsAreOn(t *testing.T) {
	app := newEmptyShop(t)
	limits := app.Settings().RateLimits
	if !limits.Enabled {
		t.Fatal("rate limits are off")
	}
	cases := []struct {
		labels   []string
		audience string
		max      int
	}{
		{[]string{"users:authWithPassword", "*:authWithPassword", "*:auth"}, "", 10},
		{[]string{"DELETE /api/v1/me", "/api/v1/me"}, "", 5},
		{[]string{"GET /api/v1/me/export", "/api/v1/me/export"}, core.RateLimitRuleAudienceAuth, 10},
		{[]string{"POST /api/v1/orders/abc/cancel", "/api/v1/orders/abc/cancel"}, core.RateLimitRuleAudienceAuth, 120},
		{[]string{"POST /api/v1/orders/abc/refund", "/api/v1/orders/abc/refund"}, core.RateLimitRuleAudienceAuth, 120},
		{[]string{"GET /api/v1/orders/abc/timeline", "/api/v1/orders/abc/timeline"}, core.RateLimitRuleAudienceAuth, 600},
		{[]string{"POST /api/v1/products/abc/push", "/api/v1/products/abc/push"}, core.RateLimitRuleAudienceAuth, 120},
		{[]string{"POST /api/v1/stripe/webhook", "/api/v1/stripe/webhook"}, core.RateLimitRuleAudienceGuest, 5000},
		{[]string{"GET /api/collections/products/records", "/api/collections/products/records"}, core.RateLimitRuleAudienceGuest, 300},
		{[]string{"orders:list", "*:list", "GET /api/collections/orders/records"}, core.RateLimitRuleAudienceAuth, 200},
		{[]string{"orders:view", "*:view", "GET /api/collections/orders/records/abc"}, core.RateLimitRuleAudienceAuth, 400},
		{[]string{"users:requestEmailChange", "*:requestEmailChange"}, core.RateLimitRuleAudienceAuth, 3},
		{[]string{"POST /api/v1/me/sessions/revoke", "/api/v1/me/sessions/revoke"}, core.RateLimitRuleAudienceAuth, 5},
	}
	for _, tc := range cases {
		audiences := []string{"", tc.audience}
		rule, ok := limits.FindRateLimitRule(tc.labels, audiences...)
		if !ok || rule.MaxRequests != tc.max {
			t.Errorf("%v: rule %+v (found %v), want at most %d requests", tc.labels, rule, ok, tc.max)
		}
	}
}

// TestPaidCheckoutItemsHoldTheirStockAfterUpgrade: an order the shop's
// checkout made and that was paid before checkouts reserved stock took its
// stock at payment; after the upgrade its items hold it, so a cancel gives
// it back. Pending orders and orders made outside checkout hold nothing.
func TestPaidCheckoutItemsHoldTheirStockAfterUpgrade(t *testing.T) {
	app := newEmptyShop(t)
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	if _, err := runner.Down(migrationsSince(t, "1764000003_stock_and_claims.go")); err != nil {
		t.Fatalf("down: %v", err)
	}
	users, _ := app.FindCollectionByNameOrId(c.Users)
	user := core.NewRecord(users)
	user.SetEmail("upgrade@example.com")
	user.SetPassword("upgrade-password")
	user.Set(c.UserRole, "customer")
	user.Set(c.UserLanguage, "en")
	if err := app.Save(user); err != nil {
		t.Fatal(err)
	}
	products, _ := app.FindCollectionByNameOrId(c.Products)
	product := func(digital bool) string {
		p := core.NewRecord(products)
		p.Set(c.ProductName, "Upgrade product")
		p.Set(c.ProductCurrency, "usd")
		p.Set(c.ProductStock, 10)
		p.Set(c.ProductDigital, digital)
		if err := app.Save(p); err != nil {
			t.Fatal(err)
		}
		return p.Id
	}
	physical, digital := product(false), product(true)
	orders, _ := app.FindCollectionByNameOrId(c.Orders)
	items, _ := app.FindCollectionByNameOrId(c.OrderItems)
	order := func(number string, status c.OrderStatus, session string) string {
		o := core.NewRecord(orders)
		o.Set(c.OrderNumber, number)
		o.Set(c.OrderUser, user.Id)
		o.Set(c.OrderStatusField, string(status))
		o.Set(c.OrderCurrency, "usd")
		o.Set(c.OrderStripeSession, session)
		if err := app.Save(o); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{physical, digital} {
			it := core.NewRecord(items)
			it.Set(c.ItemOrder, o.Id)
			it.Set(c.ItemUser, user.Id)
			it.Set(c.ItemProduct, p)
			it.Set(c.ItemProductName, "Upgrade product")
			it.Set(c.ItemQuantity, 3)
			if err := app.Save(it); err != nil {
				t.Fatal(err)
			}
		}
		return o.Id
	}
	paid := order("SD-UPGR-AAA2", c.StatusPaid, "cs_upgrade_paid")
	pending := order("SD-UPGR-AAA3", c.StatusPending, "cs_upgrade_pending")
	outside := order("SD-UPGR-AAA4", c.StatusPaid, "")
	if _, err := runner.Up(); err != nil {
		t.Fatalf("up: %v", err)
	}
	held := func(orderID, productID string) int {
		var n int
		err := app.DB().NewQuery("SELECT stock_taken FROM order_items WHERE [[order]] = {:o} AND product = {:p}").
			Bind(map[string]any{"o": orderID, "p": productID}).Row(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name           string
		order, product string
		want           int
	}{
		{"paid checkout, physical", paid, physical, 3},
		{"paid checkout, download", paid, digital, 0},
		{"pending checkout", pending, physical, 0},
		{"paid outside checkout", outside, physical, 0},
	} {
		if got := held(tc.order, tc.product); got != tc.want {
			t.Errorf("%s: item holds %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestRefundedOrdersCountTheirRefundAfterUpgrade: orders refunded before
// partial refunds existed were refunded in whole; after the upgrade their
// refunded_amount is their total, and other orders' is 0.
func TestRefundedOrdersCountTheirRefundAfterUpgrade(t *testing.T) {
	app := newEmptyShop(t)
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	if _, err := runner.Down(migrationsSince(t, "1764000006_staff_console.go")); err != nil {
		t.Fatalf("down: %v", err)
	}
	orders, _ := app.FindCollectionByNameOrId(c.Orders)
	order := func(number string, status c.OrderStatus, refund string) string {
		o := core.NewRecord(orders)
		o.Set(c.OrderNumber, number)
		o.Set(c.OrderStatusField, string(status))
		o.Set(c.OrderCurrency, "usd")
		o.Set(c.OrderTotal, 4200)
		o.Set(c.OrderStripeRefund, refund)
		if err := app.Save(o); err != nil {
			t.Fatal(err)
		}
		return o.Id
	}
	refunded := order("SD-UPGR-BBB1", c.StatusRefunded, "re_1")
	cancelledPaid := order("SD-UPGR-BBB2", c.StatusCancelled, "re_2")
	cancelledUnpaid := order("SD-UPGR-BBB3", c.StatusCancelled, "")
	paid := order("SD-UPGR-BBB4", c.StatusPaid, "")
	if _, err := runner.Up(); err != nil {
		t.Fatalf("up: %v", err)
	}
	for id, want := range map[string]int{refunded: 4200, cancelledPaid: 4200, cancelledUnpaid: 0, paid: 0} {
		record, err := app.FindRecordById(c.Orders, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := record.GetInt(c.OrderRefundedAmount); got != want {
			t.Errorf("%s (%s): refunded_amount %d, want %d", record.GetString(c.OrderNumber), record.GetString(c.OrderStatusField), got, want)
		}
		if (want > 0) == record.GetDateTime(c.OrderRefundedAt).IsZero() {
			t.Errorf("%s: refunded_at %q", record.GetString(c.OrderNumber), record.GetString(c.OrderRefundedAt))
		}
	}
}

// migrationsSince is how many of the shop's migrations, from the named one
// on, a Down must revert to stand just before it.
func migrationsSince(t *testing.T, name string) int {
	t.Helper()
	n := 0
	found := false
	for _, m := range core.AppMigrations.Items() {
		if m.File == name {
			found = true
		}
		if found {
			n++
		}
	}
	if !found {
		t.Fatalf("no migration %s", name)
	}
	return n
}

// TestStaffAreAskedForASecondFactor: OTP and MFA on, for support and store
// only.
func TestStaffAreAskedForASecondFactor(t *testing.T) {
	app := newEmptyShop(t)
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		t.Fatal(err)
	}
	if !users.OTP.Enabled || !users.MFA.Enabled || users.MFA.Rule != "role = 'support' || role = 'store'" {
		t.Errorf("OTP %v, MFA %v with rule %q", users.OTP.Enabled, users.MFA.Enabled, users.MFA.Rule)
	}
}
