package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/records"
	"shopdash/internal/prepared"
)

// paymentDetails is what a Stripe payment tells about an order.
type paymentDetails struct {
	session, paymentIntent, invoice, customer string
	// receiptURL is Stripe's hosted page of the payment, shown to the
	// customer; "" when the event carries none.
	receiptURL string
	// amount and currency are what was paid, in minor units.
	amount   int64
	currency string
	paidAt   time.Time
}

// eventRejection is a Stripe event the shop refuses for good: a payment
// that is not its order's (mismatched), or content that can never be
// applied (failed). The webhook records it in the ledger with its reason,
// alerts the operator and answers 200, so that Stripe stops sending it.
type eventRejection struct {
	status, reason string
}

func (r *eventRejection) Error() string { return r.status + ": " + r.reason }

// paymentMismatch rejects a payment that does not pay its order.
func paymentMismatch(format string, args ...any) error {
	return &eventRejection{status: c.EventMismatched, reason: fmt.Sprintf(format, args...)}
}

// checkPayment accepts a payment for an order only if it is the order's own
// (no other session, invoice or payment intent than those on record) and
// pays it in full, in its currency. Stripe may add tax on top, so more is
// fine. The order ids Stripe echoes back (client_reference_id, metadata)
// prove nothing: a buyer can set client_reference_id on a Payment Link.
func checkPayment(order *core.Record, pay paymentDetails) error {
	o := c.NewOrder(order)
	for _, id := range []struct{ field, paid string }{
		{c.OrderStripeSession, pay.session},
		{c.OrderStripeInvoice, pay.invoice},
		{c.OrderStripePaymentIntent, pay.paymentIntent},
	} {
		if have := order.GetString(id.field); have != "" && id.paid != "" && have != id.paid {
			return paymentMismatch("the payment's %s %s is not the order's (%s)", id.field, id.paid, have)
		}
	}
	if currency := strings.ToLower(pay.currency); currency != o.Currency() {
		return paymentMismatch("paid in %q, the order is in %q", currency, o.Currency())
	}
	if pay.amount < int64(o.Total()) {
		return paymentMismatch("paid %d %s, the order owes %d", pay.amount, o.Currency(), o.Total())
	}
	return nil
}

// findOrderByID returns the order with the id, or nil.
func findOrderByID(app core.App, id string) (*core.Record, error) {
	if id == "" {
		return nil, nil
	}
	order, err := app.FindRecordById(c.Orders, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find order %s: %w", id, err)
	}
	return order, nil
}

// findByStripeID finds the record whose Stripe id field holds id, or nil.
// The Stripe id indexes are partial (unique when set), so the query states
// the index's condition in plain SQL for SQLite to use it (PocketBase's
// filter language would write "!= ”" in a form SQLite does not match).
func findByStripeID(app core.App, collection, field, id string) (*core.Record, error) {
	return writerStatements.FindRecordBy(app, collection, field, id)
}

// writerStatements keeps the webhook transaction's lookups compiled on the
// writer's connection; the batcher prepares them between transactions.
var writerStatements prepared.Statements

// upsertOutcome says what an upsert did to the database.
type upsertOutcome int

// The outcomes of an upsert.
const (
	outcomeUnchanged upsertOutcome = iota
	outcomeCreated
	outcomeUpdated
)

// markOrderPaid applies a payment to an order, if it is the order's
// (checkPayment). A pending order becomes paid and keeps the stock its
// checkout reserved; an order that is already further along only gains
// the Stripe ids it lacks, so a late or repeated event never moves it
// back, and one that gains nothing is not written at all. An order that
// gains its payment intent gets the refunds parked for it
// (applyParkedRefunds). The customer's Stripe customer is kept for their
// next checkout. ctx carries whether the change may email the customer.
func markOrderPaid(ctx context.Context, app core.App, order *core.Record, pay paymentDetails) (upsertOutcome, error) {
	if err := checkPayment(order, pay); err != nil {
		return outcomeUnchanged, err
	}
	changed := false
	setIfEmpty := func(field, value string) {
		if value != "" && order.GetString(field) == "" {
			order.Set(field, value)
			changed = true
		}
	}
	// Refunds of the payment that came before it wait for this.
	gainsIntent := pay.paymentIntent != "" && order.GetString(c.OrderStripePaymentIntent) == ""
	setIfEmpty(c.OrderStripeSession, pay.session)
	setIfEmpty(c.OrderStripePaymentIntent, pay.paymentIntent)
	setIfEmpty(c.OrderStripeInvoice, pay.invoice)

	switch status := c.NewOrder(order).Status(); status {
	case c.StatusPending:
		order.Set(c.OrderStatusField, string(c.StatusPaid))
		order.Set(c.OrderPaidAt, records.Stamp(pay.paidAt))
		changed = true
		if err := records.TakeUnreservedStock(app, order.Id); err != nil {
			return outcomeUnchanged, err
		}
	case c.StatusCancelled:
		if order.GetDateTime(c.OrderPaidAt).IsZero() && changed {
			// Paid after it was cancelled unpaid: the money reached Stripe
			// and pays nothing here; the operator refunds it.
			return outcomeUnchanged, paymentMismatch("order %s was cancelled before this payment; refund it in Stripe", order.Id)
		}
	}
	// After the check of a payment for a cancelled order: a receipt alone
	// is not a payment.
	setIfEmpty(c.OrderReceiptURL, pay.receiptURL)
	if !changed {
		return outcomeUnchanged, nil
	}
	if err := app.SaveWithContext(ctx, order); err != nil {
		return outcomeUnchanged, fmt.Errorf("mark order %s paid: %w", order.Id, err)
	}
	if gainsIntent {
		if err := applyParkedRefunds(ctx, app, order.Id, pay.paymentIntent); err != nil {
			return outcomeUnchanged, err
		}
	}
	return outcomeUpdated, rememberStripeCustomer(app, order.GetString(c.OrderUser), pay.customer)
}

// rememberStripeCustomer saves a user's Stripe customer id once.
func rememberStripeCustomer(app core.App, userID, customer string) error {
	if userID == "" || customer == "" {
		return nil
	}
	user, err := app.FindRecordById(c.Users, userID)
	if err != nil || user.GetString(c.UserStripeCustomer) != "" {
		return nil
	}
	user.Set(c.UserStripeCustomer, customer)
	if err := app.Save(user); err != nil {
		return fmt.Errorf("save stripe customer of user %s: %w", userID, err)
	}
	return nil
}

// upsertInvoiceOrder makes a paid Stripe invoice into its order. The order
// is found by the id in the invoice metadata (set by our checkout), then by
// stripe_invoice; an invoice made outside the shop becomes a new paid order
// linked to its user by Stripe customer or email. Used by the invoice.paid
// webhook; the nightly sync does the same a page at a time (importInvoices).
func upsertInvoiceOrder(ctx context.Context, app core.App, inv *stripe.Invoice) (upsertOutcome, error) {
	order, err := findOrderByID(app, inv.Metadata["order_id"])
	if err == nil && order == nil {
		order, err = findByStripeID(app, c.Orders, c.OrderStripeInvoice, inv.ID)
	}
	if err != nil {
		return outcomeUnchanged, err
	}
	pay := invoicePayment(inv)
	if order != nil {
		return markOrderPaid(ctx, app, order, pay)
	}
	if err := createInvoiceOrder(ctx, app, inv, pay); err != nil {
		return outcomeUnchanged, err
	}
	return outcomeCreated, nil
}

// invoicePayment is what a paid invoice tells about its payment.
func invoicePayment(inv *stripe.Invoice) paymentDetails {
	pay := paymentDetails{invoice: inv.ID, amount: inv.AmountPaid, currency: string(inv.Currency), paidAt: time.Unix(inv.Created, 0)}
	if inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt > 0 {
		pay.paidAt = time.Unix(inv.StatusTransitions.PaidAt, 0)
	}
	if inv.PaymentIntent != nil {
		pay.paymentIntent = inv.PaymentIntent.ID
	}
	if inv.Customer != nil {
		pay.customer = inv.Customer.ID
	}
	if records.CheckHTTPSLink(inv.HostedInvoiceURL) == nil {
		pay.receiptURL = inv.HostedInvoiceURL
	}
	return pay
}

// createInvoiceOrder saves an order for an invoice the shop did not start,
// with the refunds parked for its payment intent.
func createInvoiceOrder(ctx context.Context, app core.App, inv *stripe.Invoice, pay paymentDetails) error {
	// The sync's lookups, for a page of one.
	page := []*stripe.Invoice{inv}
	people, err := invoiceUsers(app, page)
	if err != nil {
		return err
	}
	products, err := invoiceProducts(app, page)
	if err != nil {
		return err
	}
	order, items, err := newInvoiceOrder(app, inv, pay, people.of(inv),
		func(stripeProduct string) string { return products[stripeProduct] })
	if err != nil {
		return err
	}
	if err := app.SaveWithContext(ctx, order); err != nil {
		return fmt.Errorf("create order of invoice %s: %w", inv.ID, err)
	}
	for _, item := range items {
		if err := app.Save(item); err != nil {
			return fmt.Errorf("create item of invoice %s: %w", inv.ID, err)
		}
	}
	return applyParkedRefunds(ctx, app, order.Id, pay.paymentIntent)
}

// newInvoiceOrder builds, unsaved, the paid order of an invoice and an item
// per invoice line, dated from the invoice rather than from when we heard
// of it. Its total is what was paid; credit lines and discounts are its
// discount. productID maps a Stripe product id to ours ("" when unknown).
func newInvoiceOrder(app core.App, inv *stripe.Invoice, pay paymentDetails, userID string,
	productID func(stripeProduct string) string) (*core.Record, []*core.Record, error) {
	ordersCol, err := app.FindCachedCollectionByNameOrId(c.Orders)
	if err != nil {
		return nil, nil, err
	}
	itemsCol, err := app.FindCachedCollectionByNameOrId(c.OrderItems)
	if err != nil {
		return nil, nil, err
	}
	order := core.NewRecord(ordersCol)
	order.Id = core.GenerateDefaultRandomId()
	order.Set(c.OrderNumber, c.FormatOrderNumber(rand.Uint64()))
	order.Set(c.OrderUser, userID)
	order.Set(c.OrderStatusField, string(c.StatusPaid))
	order.Set(c.OrderTotal, inv.AmountPaid)
	order.Set(c.OrderCurrency, string(inv.Currency))
	// The buyer typed the name at Stripe: it is kept, less what the shop's
	// own forms refuse (line breaks, bidi overrides).
	order.Set(c.OrderCustomerName, c.SanitiseLine(inv.CustomerName))
	order.Set(c.OrderCustomerEmail, inv.CustomerEmail)
	order.Set(c.OrderStripeInvoice, inv.ID)
	order.Set(c.OrderStripePaymentIntent, pay.paymentIntent)
	order.Set(c.OrderPaidAt, records.Stamp(pay.paidAt))
	order.Set(c.OrderReceiptURL, pay.receiptURL)
	order.SetRaw(c.OrderCreated, records.Stamp(time.Unix(inv.Created, 0)))

	var items []*core.Record
	count := 0
	var discount int64
	for _, d := range inv.TotalDiscountAmounts {
		discount += d.Amount
	}
	if inv.Lines != nil {
		for _, line := range inv.Lines.Data {
			if line.Amount < 0 || (line.Price != nil && line.Price.UnitAmount < 0) {
				// A credit or discount line: what it takes off is the
				// order's discount, not an item with a negative price.
				discount += max(-line.Amount, 0)
				continue
			}
			item := core.NewRecord(itemsCol)
			item.Id = core.GenerateDefaultRandomId()
			item.Set(c.ItemOrder, order.Id)
			item.Set(c.ItemUser, userID)
			name := c.Truncate(c.SanitiseLine(line.Description), 200)
			if name == "" {
				name = "Item"
			}
			item.Set(c.ItemProductName, name)
			quantity := max(line.Quantity, 1)
			item.Set(c.ItemQuantity, quantity)
			unit := line.Amount / quantity
			if line.Price != nil {
				unit = line.Price.UnitAmount
				if line.Price.Product != nil {
					item.Set(c.ItemProduct, productID(line.Price.Product.ID))
				}
			}
			item.Set(c.ItemUnitPrice, unit)
			item.SetRaw(c.ItemCreated, order.GetRaw(c.OrderCreated))
			count += int(quantity)
			items = append(items, item)
		}
		if inv.Lines.HasMore {
			app.Logger().Warn("invoice has more lines than Stripe sent; the order lists the first ones", "invoice", inv.ID)
		}
	}
	order.Set(c.OrderItemCount, count)
	order.Set(c.OrderDiscount, discount)
	return order, items, nil
}
