package payments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/cache"
	"shopdash/hooks/emails"
	"shopdash/hooks/metrics"
	"shopdash/hooks/records"
	_ "shopdash/pb_migrations"
	"shopdash/seed"
)

// FuzzStripeEventObjects applies any JSON as the object of an event the
// shop handles, through applyEventOnce on a seeded shop: nothing panics;
// the event is applied, or parked (a refund waiting for its payment) or
// refused for good and recorded as such with the shop left as it was, or fails only as the database may fail for a
// moment (a failure Stripe retries) with nothing written. An event that
// fails for any other reason would fail on every retry until Stripe
// disables the endpoint (issue 12). In the objects, {pending} and {paid}
// stand for the ids of a pending order (its session cs_fuzz_pending) and
// a paid one (cs_fuzz_paid, pi_fuzz_paid, in_fuzz_paid).
func FuzzStripeEventObjects(f *testing.F) {
	const (
		paid     = "checkout.session.completed"
		expired  = "checkout.session.expired"
		refunded = "charge.refunded"
		invoice  = "invoice.paid"
		product  = "product.updated"
		price    = "price.created"
	)
	seeds := []struct{ typ, object string }{
		// Issue 12: a session of someone else's Payment Link names our order, pays 1 JPY.
		{paid, `{"id":"cs_attacker","object":"checkout.session","client_reference_id":"{pending}","amount_total":1,"currency":"jpy","payment_status":"paid","status":"complete"}`},
		{paid, `{"id":"cs_fuzz_pending","object":"checkout.session","client_reference_id":"{pending}","amount_total":1,"currency":"jpy","payment_status":"paid"}`},
		{paid, `{"id":"cs_fuzz_pending","object":"checkout.session","amount_total":100000000,"currency":"usd","payment_status":"unpaid"}`},
		{"checkout.session.async_payment_succeeded", `{"id":"cs_fuzz_pending","object":"checkout.session","metadata":{"order_id":"{pending}"},"amount_total":100000000,"currency":"usd","payment_status":"paid","payment_intent":"pi_fuzz_pending","customer":"cus_fuzz"}`},
		{paid, `{"id":"cs_other","object":"checkout.session","metadata":{"order_id":"nosuchorder0000"},"amount_total":100,"currency":"usd","payment_status":"paid"}`},
		{paid, `{"id":"cs_fuzz_paid","object":"checkout.session","amount_total":100000000,"currency":"USD","payment_status":"paid","payment_intent":{"id":"pi_other"},"invoice":"in_other"}`},
		{expired, `{"id":"cs_fuzz_paid","object":"checkout.session"}`},
		{"checkout.session.async_payment_failed", `{"id":"cs_fuzz_pending","object":"checkout.session","client_reference_id":"{paid}"}`},
		// Issue 12: an invoice with a credit line, and with no currency.
		{invoice, `{"id":"in_fuzz_credit","object":"invoice","currency":"","amount_paid":1000,"customer_email":"buyer@example.com","customer_name":"Ann\r\nBcc: x@example.com","created":1767225600,"lines":{"object":"list","data":[{"id":"il_1","amount":1500,"quantity":1,"description":"Mug"},{"id":"il_2","amount":-500,"description":"Credit"}]}}`},
		{invoice, `{"id":"in_fuzz_credit_usd","object":"invoice","currency":"usd","amount_paid":1000,"customer_email":"buyer@example.com","created":1767225600,"lines":{"data":[{"amount":1500,"quantity":0,"price":{"id":"price_1","unit_amount":1500,"product":"prod_fuzz"}},{"amount":-500,"price":{"unit_amount":-500}}],"has_more":true},"total_discount_amounts":[{"amount":100}]}`},
		{invoice, `{"id":"in_fuzz_paid","object":"invoice","metadata":{"order_id":"{paid}"},"currency":"usd","amount_paid":1,"payment_intent":"pi_fuzz_paid"}`},
		{invoice, `{"id":"in_fuzz_huge","object":"invoice","currency":"usd","amount_paid":9223372036854775807,"lines":{"data":[{"amount":9223372036854775807,"quantity":-9223372036854775808,"description":"\u202egnp.exe\u0000"}]}}`},
		{invoice, `{"id":"in_fuzz_half","object":"invoice","currency":"usd","amount_paid":100,"lines":{"data":[{"amount":100,"quantity":1,"description":"Mug"},{"amount":9223372036854775807,"quantity":1,"description":"Overflow"}]}}`},
		{invoice, `{"id":"in_fuzz_pending","object":"invoice","metadata":{"order_id":"{pending}"},"currency":"usd","amount_paid":100000000,"status_transitions":{"paid_at":-1}}`},
		{invoice, `{"id":"in_fuzz_someone","object":"invoice","currency":"eur","amount_paid":500,"customer":"cus_fuzz","payment_intent":"pi_fuzz_paid"}`},
		{refunded, `{"id":"ch_fuzz","object":"charge","payment_intent":"pi_fuzz_paid","refunded":false,"amount":100,"amount_refunded":1,"refunds":{"data":[]}}`},
		{refunded, `{"id":"ch_fuzz","object":"charge","payment_intent":"pi_fuzz_paid","refunded":true,"amount":100,"amount_refunded":100,"refunds":{"data":[{"id":"re_fuzz"}]}}`},
		// A refund of a payment no order has yet: parked.
		{refunded, `{"id":"ch_fuzz_early","object":"charge","payment_intent":"pi_fuzz_later","refunded":false,"amount":100,"amount_refunded":40,"refunds":{"data":[null]}}`},
		{product, `{"id":"prod_fuzz","object":"product","name":"Mug\u202e\u0000","description":"line\r\nbreak","active":true,"metadata":{"product_id":"{pending}"}}`},
		{"product.created", `{"id":"prod_new","object":"product","name":"","active":true}`},
		{"product.deleted", `{"id":"prod_fuzz","object":"product","deleted":true}`},
		{price, `{"id":"price_fuzz","object":"price","product":"prod_fuzz","unit_amount":-5,"currency":"jpy","active":true,"type":"one_time"}`},
		{"price.updated", `{"id":"price_fuzz","object":"price","product":{"id":"prod_fuzz"},"unit_amount":1500,"currency":"","active":true,"type":"one_time"}`},
		{"price.deleted", `{"id":"price_fuzz","object":"price","product":"prod_fuzz","active":false}`},
	}
	// Numbers where strings belong, nulls, and deeply nested garbage, as
	// each kind of object.
	for _, garbage := range []string{
		`{"id":123,"client_reference_id":456,"currency":7,"amount_total":"1","metadata":{"order_id":8}}`,
		`{"id":"in_x","lines":{"data":[{"amount":"1500","quantity":"1"}]},"amount_paid":"1000","refunded":"yes"}`,
		`{"id":null,"metadata":null,"lines":null,"payment_intent":null,"refunds":null,"product":null,"currency":null}`,
		`null`, `{}`, `[]`, `0`, `{"id":"` + strings.Repeat("x", 3000) + `"}`,
		`{"lines":{"data":[null,{},[]]},"refunds":{"data":[null]},"payment_intent":{"id":{"id":1}}}`,
		`{"a":` + strings.Repeat(`[`, 500) + strings.Repeat(`]`, 500) + `}`,
		`{"metadata":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500) + `}`,
	} {
		for _, typ := range []string{paid, refunded, invoice, product, price} {
			seeds = append(seeds, struct{ typ, object string }{typ, garbage})
		}
	}
	for _, seed := range seeds {
		f.Add(seed.typ, []byte(seed.object))
	}

	app := newEventsTestApp(f)
	types := make([]stripe.EventType, 0, len(eventEffects))
	for typ := range eventEffects {
		types = append(types, typ)
	}
	slices.Sort(types)
	events := 0
	f.Fuzz(func(t *testing.T, eventType string, object []byte) {
		typ := stripe.EventType(eventType)
		if _, handled := eventEffects[typ]; !handled {
			typ = types[len(eventType)%len(types)] // a mutated name still picks a handled type
		}
		object = bytes.ReplaceAll(object, []byte("{pending}"), []byte(app.pending))
		object = bytes.ReplaceAll(object, []byte("{paid}"), []byte(app.paid))
		events++
		event := stripe.Event{ID: fmt.Sprintf("evt_fuzz_%d", events), Type: typ, Created: time.Now().Unix(),
			Data: &stripe.EventData{Raw: object}}

		before := shopDigest(t, app)
		result, err := applyEventOnce(context.Background(), app, event)
		ledger := ledgerStatuses(t, app, event.ID)
		unchanged := shopDigest(t, app) == before
		switch {
		case err != nil:
			if !passingFailure(err) {
				t.Errorf("%s of %s failed for a reason a retry cannot change (Stripe retries it until it disables the endpoint): %v", typ, object, err)
			}
			if len(ledger) > 0 || !unchanged {
				t.Errorf("%s of %s failed (%v) but wrote: ledger %q, shop changed %v", typ, object, err, ledger, !unchanged)
			}
		case result.rejected():
			if !slices.Equal(ledger, []string{result.status}) || !unchanged {
				t.Errorf("%s of %s was refused (%s: %s) with ledger %q and shop changed %v; want one %s row and no change",
					typ, object, result.status, result.reason, ledger, !unchanged, result.status)
			}
		case result.status == c.EventParked:
			if !slices.Equal(ledger, []string{c.EventParked}) || !unchanged {
				t.Errorf("%s of %s was parked with ledger %q and shop changed %v; want one parked row and no change",
					typ, object, ledger, !unchanged)
			}
		case result.status == c.EventApplied:
			if !slices.Equal(ledger, []string{c.EventApplied}) {
				t.Errorf("%s of %s was applied but left the ledger %q", typ, object, ledger)
			}
		default:
			t.Errorf("%s of %s was neither applied nor refused: %+v, ledger %q", typ, object, result, ledger)
		}
		if n, err := app.CountRecords(c.Products, dbx.NewExp("[["+c.ProductStock+"]] < 0")); err != nil || n > 0 {
			t.Errorf("%s of %s left %d products with negative stock (%v)", typ, object, n, err)
		}
	})
}

// eventsTestApp is a seeded shop with every hook bound, and the ids of the
// orders that {pending} and {paid} stand for in the fuzzed objects.
type eventsTestApp struct {
	*tests.TestApp
	pending, paid string
}

// newEventsTestApp migrates, seeds and binds a shop for the whole fuzz
// run: a fresh one per input would cost more than the input.
func newEventsTestApp(f testing.TB) *eventsTestApp {
	app, err := tests.NewTestApp(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(app.Cleanup)
	opts := seed.DefaultOptions()
	opts.OrdersPerCustomer = 6
	if _, err := seed.Run(app, opts); err != nil {
		f.Fatal(err)
	}
	stripeIDs := map[c.OrderStatus]map[string]any{
		c.StatusPending: {c.OrderStripeSession: "cs_fuzz_pending"},
		c.StatusPaid: {c.OrderStripeSession: "cs_fuzz_paid", c.OrderStripePaymentIntent: "pi_fuzz_paid",
			c.OrderStripeInvoice: "in_fuzz_paid"},
	}
	ids := map[c.OrderStatus]string{}
	for status, fields := range stripeIDs {
		order, err := app.FindFirstRecordByData(c.Orders, c.OrderStatusField, string(status))
		if err != nil {
			f.Fatalf("a %s order: %v", status, err)
		}
		for field, value := range fields {
			order.Set(field, value)
		}
		if err := app.Save(order); err != nil {
			f.Fatal(err)
		}
		ids[status] = order.Id
	}
	product, err := app.FindFirstRecordByFilter(c.Products, c.ProductDigital+" = false && "+c.ProductActive+" = true")
	if err != nil {
		f.Fatal(err)
	}
	product.Set(c.ProductStripeProduct, "prod_fuzz")
	product.Set(c.ProductStripePrice, "price_fuzz")
	product.Set(c.ProductStripeSync, c.StripeSyncSynced)
	if err := app.Save(product); err != nil {
		f.Fatal(err)
	}
	// The hooks an event runs through: records (status machine, stock),
	// emails (the queue), the caches; not the routes.
	records.Register(app)
	alerter := alerts.New(app, "")
	emails.Register(app, emails.Config{}, alerter)
	Register(app, Config{AppURL: "http://shop.test"}, alerter, cache.RegisterAnswers(app, 0), metrics.Register(app, metrics.Config{}))
	return &eventsTestApp{TestApp: app, pending: ids[c.StatusPending], paid: ids[c.StatusPaid]}
}

// shopDigest sums up every row an event may change, but the ledger's.
func shopDigest(t *testing.T, app core.App) string {
	h := sha256.New()
	for _, table := range []string{c.Orders, c.OrderItems, c.Products, c.Users, c.EmailJobs, c.AuditLog} {
		var rows []dbx.NullStringMap
		if err := app.DB().Select("*").From(table).OrderBy("id").All(&rows); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		fmt.Fprintln(h, table, rows)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// ledgerStatuses lists the statuses the ledger holds for an event id.
func ledgerStatuses(t *testing.T, app core.App, eventID string) []string {
	var statuses []string
	err := app.DB().Select(c.StripeEventStatus).From(c.StripeEvents).
		Where(dbx.HashExp{c.StripeEventID: eventID}).Column(&statuses)
	if err != nil {
		t.Fatalf("read the ledger: %v", err)
	}
	return statuses
}

// passingFailure reports an error a retry of the event may get past: the
// database busy, an order held by a cancel or refund.
func passingFailure(err error) bool {
	msg := err.Error()
	return errors.Is(err, records.ErrOrderBusy) || strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}
