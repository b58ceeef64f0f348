package payments

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/dbutils"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
)

// importInvoices is the sync's upsertInvoiceOrder for a page of invoices,
// in tx: the same outcome for each, at a fraction of the cost. It looks up
// the page's orders, users and products in a few queries instead of a
// dozen per invoice, applies the invoices of known orders one by one
// (markOrderPaid, through the record hooks), and inserts the new orders and
// their items with one prepared statement each, then applies the refunds
// parked for the new orders' payment intents. A profile of the sync of
// 100,000 invoices spent most of its time in per-record lookups, relation
// checks and statement compiling (docs/performance.md).
//
// The new orders skip the record hooks, which would do nothing for them:
// the sync is silent (no email), they are created paid with their payment
// time, and their items carry their user. They are validated as a save
// would, but for the relation fields, whose ids were just read in tx. It
// returns the outcome of each invoice and the customers whose orders
// changed, whose cached answers the caller forgets after the commit.
func importInvoices(ctx context.Context, tx core.App, invoices []*stripe.Invoice) ([]upsertOutcome, []string, error) {
	known, err := invoiceOrders(tx, invoices)
	if err != nil {
		return nil, nil, err
	}
	outcomes := make([]upsertOutcome, len(invoices))
	var fresh []*stripe.Invoice
	for i, inv := range invoices {
		order := known.byID[inv.Metadata["order_id"]]
		if order == nil {
			order = known.byInvoice[inv.ID]
		}
		if order == nil {
			outcomes[i] = outcomeCreated // once inserted below
			fresh = append(fresh, inv)
			continue
		}
		if outcomes[i], err = markOrderPaid(ctx, tx, order, invoicePayment(inv)); err != nil {
			return nil, nil, fmt.Errorf("invoice %s: %w", inv.ID, err)
		}
	}
	if len(fresh) == 0 {
		return outcomes, nil, nil
	}

	people, err := invoiceUsers(tx, fresh)
	if err != nil {
		return nil, nil, err
	}
	products, err := invoiceProducts(tx, fresh)
	if err != nil {
		return nil, nil, err
	}
	var orders, items []*core.Record
	var owners []string
	for _, inv := range fresh {
		userID := people.of(inv)
		order, lines, err := newInvoiceOrder(tx, inv, invoicePayment(inv), userID,
			func(stripeProduct string) string { return products[stripeProduct] })
		if err != nil {
			return nil, nil, err
		}
		orders = append(orders, order)
		items = append(items, lines...)
		if userID != "" {
			owners = append(owners, userID)
		}
	}
	if err := insertNewRecords(ctx, tx, orders); err != nil {
		return nil, nil, err
	}
	if err := insertNewRecords(ctx, tx, items); err != nil {
		return nil, nil, err
	}
	if err := applyParkedRefundsOfNew(ctx, tx, orders); err != nil {
		return nil, nil, err
	}
	return outcomes, owners, nil
}

// knownOrders are the orders of a page of invoices, by id (from the
// invoice metadata) and by Stripe invoice id.
type knownOrders struct {
	byID, byInvoice map[string]*core.Record
}

func invoiceOrders(app core.App, invoices []*stripe.Invoice) (knownOrders, error) {
	known := knownOrders{byID: map[string]*core.Record{}, byInvoice: map[string]*core.Record{}}
	var ids, invoiceIDs []any
	for _, inv := range invoices {
		if id := inv.Metadata["order_id"]; id != "" {
			ids = append(ids, id)
		}
		invoiceIDs = append(invoiceIDs, inv.ID)
	}
	if len(ids) > 0 {
		records, err := app.FindAllRecords(c.Orders, dbx.In("id", ids...))
		if err != nil {
			return known, fmt.Errorf("orders of invoices by id: %w", err)
		}
		for _, r := range records {
			known.byID[r.Id] = r
		}
	}
	// The partial index's condition, stated, lets SQLite use it (findByStripeID).
	records, err := app.FindAllRecords(c.Orders, dbx.In(c.OrderStripeInvoice, invoiceIDs...),
		dbx.NewExp(c.OrderStripeInvoice+" != ''"))
	if err != nil {
		return known, fmt.Errorf("orders of invoices by invoice id: %w", err)
	}
	for _, r := range records {
		known.byInvoice[r.GetString(c.OrderStripeInvoice)] = r
	}
	return known, nil
}

// invoicePeople are the users a page of invoices may belong to: by Stripe
// customer first, then by verified email (anyone can sign up with any
// email). The webhook's invoice.paid looks its one invoice up here too.
type invoicePeople struct {
	byCustomer, byEmail map[string]string
	// anyCase: emails match without regard to case, as
	// FindAuthRecordByEmail does when the email index says so.
	anyCase bool
}

// of is the user an invoice of the page belongs to, or "".
func (p invoicePeople) of(inv *stripe.Invoice) string {
	if inv.Customer != nil {
		if id, ok := p.byCustomer[inv.Customer.ID]; ok {
			return id
		}
	}
	return p.byEmail[p.emailKey(inv.CustomerEmail)]
}

func (p invoicePeople) emailKey(email string) string {
	if p.anyCase {
		return strings.ToLower(email)
	}
	return email
}

func invoiceUsers(app core.App, invoices []*stripe.Invoice) (invoicePeople, error) {
	people := invoicePeople{byCustomer: map[string]string{}, byEmail: map[string]string{}}
	var customers, emails []any
	for _, inv := range invoices {
		if inv.Customer != nil && inv.Customer.ID != "" {
			customers = append(customers, inv.Customer.ID)
		}
		if inv.CustomerEmail != "" {
			emails = append(emails, inv.CustomerEmail)
		}
	}
	var rows []struct {
		ID       string `db:"id"`
		Customer string `db:"stripe_customer"`
		Email    string `db:"email"`
	}
	if len(customers) > 0 {
		err := app.DB().Select("id", c.UserStripeCustomer, "email").From(c.Users).
			Where(dbx.In(c.UserStripeCustomer, customers...)).AndWhere(dbx.NewExp(c.UserStripeCustomer + " != ''")).
			All(&rows)
		if err != nil {
			return people, fmt.Errorf("users of invoices by Stripe customer: %w", err)
		}
		for _, r := range rows {
			people.byCustomer[r.Customer] = r.ID
		}
	}
	if len(emails) > 0 {
		users, err := app.FindCachedCollectionByNameOrId(c.Users)
		if err != nil {
			return people, err
		}
		index, ok := dbutils.FindSingleColumnUniqueIndex(users.Indexes, core.FieldNameEmail)
		people.anyCase = ok && strings.EqualFold(index.Columns[0].Collate, "nocase")
		match := dbx.In(core.FieldNameEmail, emails...)
		if people.anyCase {
			match = dbx.NewExp("[["+core.FieldNameEmail+"]] COLLATE NOCASE IN ("+placeholders("e", len(emails))+")", numbered("e", emails))
		}
		rows = rows[:0]
		err = app.DB().Select("id", c.UserStripeCustomer, core.FieldNameEmail).From(c.Users).
			Where(match).AndWhere(dbx.HashExp{core.FieldNameVerified: true}).
			All(&rows)
		if err != nil {
			return people, fmt.Errorf("users of invoices by email: %w", err)
		}
		for _, r := range rows {
			people.byEmail[people.emailKey(r.Email)] = r.ID
		}
	}
	return people, nil
}

// invoiceProducts maps the Stripe products of a page's invoice lines to
// the shop's products.
func invoiceProducts(app core.App, invoices []*stripe.Invoice) (map[string]string, error) {
	var stripeIDs []any
	for _, inv := range invoices {
		if inv.Lines == nil {
			continue
		}
		for _, line := range inv.Lines.Data {
			if line.Price != nil && line.Price.Product != nil && line.Price.Product.ID != "" {
				stripeIDs = append(stripeIDs, line.Price.Product.ID)
			}
		}
	}
	products := map[string]string{}
	if len(stripeIDs) == 0 {
		return products, nil
	}
	var rows []struct {
		ID     string `db:"id"`
		Stripe string `db:"stripe_product"`
	}
	err := app.DB().Select("id", c.ProductStripeProduct).From(c.Products).
		Where(dbx.In(c.ProductStripeProduct, stripeIDs...)).AndWhere(dbx.NewExp(c.ProductStripeProduct + " != ''")).
		All(&rows)
	if err != nil {
		return nil, fmt.Errorf("products of invoice lines: %w", err)
	}
	for _, r := range rows {
		products[r.Stripe] = r.ID
	}
	return products, nil
}

// insertNewRecords validates new records of one collection as a save
// would, relations and ids aside, and inserts them with one prepared
// statement, past the record hooks. Their ids and created times are set.
func insertNewRecords(ctx context.Context, tx core.App, records []*core.Record) error {
	if len(records) == 0 {
		return nil
	}
	collection := records[0].Collection()
	now := types.NowDateTime()
	var insert *dbx.Query
	var columns []string
	for _, r := range records {
		r.SetRaw("updated", now)
		if err := validateExceptRelations(ctx, tx, r); err != nil {
			return fmt.Errorf("%s %s: %w", collection.Name, r.Id, err)
		}
		row, err := r.DBExport(tx)
		if err != nil {
			return err
		}
		if insert == nil {
			columns = sortedKeys(row)
			insert = tx.DB().NewQuery(insertSQL(collection.Name, columns)).Prepare()
			defer insert.Close()
		}
		if _, err := insert.Bind(row).Execute(); err != nil {
			return fmt.Errorf("insert %s %s: %w", collection.Name, r.Id, err)
		}
		r.MarkAsNotNew()
	}
	return nil
}

// validateExceptRelations runs the field validators of a save on r, but
// for relation fields, whose ids were read in this transaction (each check
// is a query), and the record id, made by PocketBase's own generator (each
// check compiles the id pattern anew).
func validateExceptRelations(ctx context.Context, app core.App, r *core.Record) error {
	errs := validation.Errors{}
	for _, f := range r.Collection().Fields {
		if f.Type() == core.FieldTypeRelation || f.GetName() == core.FieldNameId {
			continue
		}
		if err := f.ValidateValue(ctx, app, r); err != nil {
			errs[f.GetName()] = err
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// insertSQL is an INSERT of the columns, each parameter named after its
// column, so that a record's DBExport binds as it is.
func insertSQL(table string, columns []string) string {
	quoted := make([]string, len(columns))
	params := make([]string, len(columns))
	for i, col := range columns {
		quoted[i] = "[[" + col + "]]"
		params[i] = "{:" + col + "}"
	}
	return fmt.Sprintf("INSERT INTO {{%s}} (%s) VALUES (%s)", table, strings.Join(quoted, ", "), strings.Join(params, ", "))
}

// placeholders is "{:prefix0}, {:prefix1}, ..." for n parameters.
func placeholders(prefix string, n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("{:%s%d}", prefix, i)
	}
	return strings.Join(names, ", ")
}

// numbered are the parameters of placeholders(prefix, len(values)).
func numbered(prefix string, values []any) dbx.Params {
	params := make(dbx.Params, len(values))
	for i, v := range values {
		params[fmt.Sprintf("%s%d", prefix, i)] = v
	}
	return params
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
