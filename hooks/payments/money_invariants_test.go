package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// Issue 12: money and stock stay right whatever order things happen in.
// The walk below drives one shop through seeded random sequences of
// checkouts, payments, repeated and forged Stripe events, cancels,
// shipping, refunds, expiries and the stale-orders job, and after every
// step checks the shop against a small model of it and against the
// invariants that hold whatever the model says:
//
//   - a product's stock plus what its order items hold is the stock it
//     started with, and never negative;
//   - no order is paid twice, by a payment that is not its own, or moved by
//     a payment that does not match it; each event is recorded once;
//   - no more money goes back than was paid: at most one whole refund per
//     payment, and one exactly when the order says its money went back;
//   - a cancelled order holds no stock, and its checkout cannot be paid.

const (
	walkSeeds       = 30
	walkSteps       = 40
	walkMaxOrders   = 8
	walkCheckoutURL = "/api/v1/checkout"
)

// walkStock is the stock of the walk's products when it starts.
var walkStock = []int{3, 2}

// walkPlaced is what a 201 from checkout says of the new order.
type walkPlaced struct {
	Order struct {
		ID       string `json:"id"`
		Total    int    `json:"total"`
		Currency string `json:"currency"`
	} `json:"order"`
	SessionID string `json:"session_id"`
}

// walkCheckoutBody is the JSON of a checkout of the products, one line each.
func walkCheckoutBody(products []string, quantities []int) string {
	lines := make([]string, len(products))
	for i, p := range products {
		lines[i] = fmt.Sprintf(`{"product":%q,"quantity":%d}`, p, quantities[i])
	}
	return `{"items":[` + strings.Join(lines, ",") + `]}`
}

// walkPaymentIntent is the payment intent the fake gives a session when it
// is paid (fakestripe.CompleteSession).
func walkPaymentIntent(session string) string {
	return "pi_" + strings.TrimPrefix(session, "cs_")
}

// walkDashboardRefund refunds a payment in full at the fake, as someone in
// Stripe's dashboard does, and returns the refund's id.
func walkDashboardRefund(t *testing.T, fake *fakestripe.Server, paymentIntent string) string {
	t.Helper()
	res, err := http.PostForm(fake.URL+"/v1/refunds", url.Values{"payment_intent": {paymentIntent}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var refund struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&refund); err != nil || refund.ID == "" {
		t.Fatalf("refund %s at the fake: %d %v", paymentIntent, res.StatusCode, err)
	}
	return refund.ID
}

// walkExpireAtStripe ends an open Checkout Session at the fake, as Stripe does
// after 24 hours, and returns the session as its expired event carries it.
func walkExpireAtStripe(t *testing.T, fake *fakestripe.Server, session string) map[string]any {
	t.Helper()
	res, err := http.Post(fake.URL+"/v1/checkout/sessions/"+session+"/expire", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var object map[string]any
	if err := json.NewDecoder(res.Body).Decode(&object); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("expire %s at the fake: %d %v", session, res.StatusCode, err)
	}
	return object
}

// walkRefundedCharge is the charge of a payment refunded in full.
func walkRefundedCharge(paymentIntent, refund string, amount int) map[string]any {
	return map[string]any{
		"id": "ch_" + strings.TrimPrefix(paymentIntent, "pi_"), "object": "charge", "payment_intent": paymentIntent,
		"refunded": true, "amount": amount, "amount_refunded": amount,
		"refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": refund, "object": "refund"}}},
	}
}

// walkOrder is an order the walk placed and what the model expects of it.
type walkOrder struct {
	name        string // o1, o2, … in the step list
	id, session string
	owner       int
	total       int
	currency    string
	lines       map[string]int // product → quantity
	status      c.OrderStatus
	// paidAtStripe: the customer paid the session; paid: the shop applied
	// that payment; shipped: its goods left; moneyBack: the payment was
	// refunded at Stripe; stale: created more than a day ago.
	paidAtStripe, paid, shipped, moneyBack, stale bool
}

// holdsStock reports whether the order's items should hold their units:
// reserved while pending, sold once paid, gone once shipped.
func (o *walkOrder) holdsStock() bool {
	switch o.status {
	case c.StatusPending, c.StatusPaid, c.StatusShipped, c.StatusDelivered:
		return true
	case c.StatusRefunded:
		return o.shipped
	}
	return false
}

// walkEvent is a Stripe event the walk sent, to send again.
type walkEvent struct {
	id, kind string
	object   map[string]any
}

// queuedPayment is a payment made at Stripe whose event has not come yet.
type queuedPayment struct {
	event walkEvent
	order *walkOrder
}

// moneyWalk is one seeded walk: the shop, the model and the steps so far.
type moneyWalk struct {
	t         *testing.T
	seed      uint64
	rng       *rand.Rand
	rig       *shoptest.WebhookRig
	runner    *jobs.Jobs
	products  []string
	initial   map[string]int
	customers []shoptest.Account
	support   shoptest.Account
	orders    []*walkOrder
	delivered []walkEvent
	queued    []queuedPayment
	events    int
	steps     []string
}

func TestMoneyAndStockInvariantsUnderRandomInterleavings(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= walkSeeds; seed++ {
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			t.Parallel()
			w := newMoneyWalk(t, seed)
			w.check()
			for range walkSteps {
				w.step()
				w.check()
			}
		})
	}
}

// newMoneyWalk is a walk on a shop of its own, with its own fake Stripe,
// where the template's two physical products have walkStock and no order
// item holds any of it, and the template's pending orders are too recent
// for the stale-orders job. Rate limits are lifted: the walk checks money
// and stock, not the checkout's limit.
func newMoneyWalk(t *testing.T, seed uint64) *moneyWalk {
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	// registered after the fake's cleanup, so it runs first.
	t.Cleanup(app.Cleanup)
	app.Settings().RateLimits.Enabled = false
	shop := shoptest.Shop()
	w := &moneyWalk{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 12)), runner: runner,
		rig:       &shoptest.WebhookRig{App: app, Fake: fake, Mux: shoptest.ServeShop(t, app)},
		products:  []string{shop.PhysicalProduct, shop.SecondPhysicalProduct},
		initial:   map[string]int{},
		customers: []shoptest.Account{shop.Customer, shop.Customer2},
		support:   shop.Support,
	}
	for i, p := range w.products {
		w.initial[p] = walkStock[i]
		shoptest.WebhookSetFields(t, app, c.Products, p, dbx.Params{c.ProductStock: walkStock[i]})
		if _, err := app.DB().Update(c.OrderItems, dbx.Params{c.ItemStockTaken: 0}, dbx.HashExp{c.ItemProduct: p}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	jobsSetCreated(t, app, dbx.HashExp{c.OrderStatusField: string(c.StatusPending)}, time.Hour)
	return w
}

// fail stops the walk with what went wrong and how to replay it.
func (w *moneyWalk) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d, after step %d: %s\nsteps:\n  %s\nreplay: go test -run 'TestMoneyAndStockInvariantsUnderRandomInterleavings/seed_%d$' ./hooks/",
		w.seed, len(w.steps), fmt.Sprintf(format, args...), strings.Join(w.steps, "\n  "), w.seed)
}

func (w *moneyWalk) logStep(format string, args ...any) {
	w.steps = append(w.steps, fmt.Sprintf("%2d ", len(w.steps)+1)+fmt.Sprintf(format, args...))
}

// walkAction is one kind of step; when reports whether it can run now.
type walkAction struct {
	weight int
	when   func() bool
	run    func()
}

func (w *moneyWalk) step() {
	always := func() bool { return true }
	actions := []walkAction{
		{4, func() bool { return len(w.orders) < walkMaxOrders }, w.checkout},
		{3, func() bool { return len(w.payable()) > 0 }, w.payAtStripe},
		{2, func() bool { return len(w.queued) > 0 }, w.deliverLatePayment},
		{2, func() bool { return len(w.delivered) > 0 }, w.deliverAgain},
		{2, func() bool { return len(w.orders) > 0 }, w.forgedPayment},
		{3, func() bool { return len(w.orders) > 0 }, w.cancel},
		{2, func() bool { return len(w.orders) > 0 }, func() { w.supportMove(c.StatusShipped) }},
		{1, func() bool { return len(w.orders) > 0 }, func() { w.supportMove(c.StatusDelivered) }},
		{2, func() bool { return len(w.refundable()) > 0 }, w.refundEvent},
		{1, func() bool { return len(w.payable()) > 0 }, w.expireEvent},
		{1, always, w.staleJob},
		{2, func() bool { return len(w.orders) > 0 }, w.race},
	}
	var open []walkAction
	total := 0
	for _, a := range actions {
		if a.when() {
			open = append(open, a)
			total += a.weight
		}
	}
	pick := w.rng.IntN(total)
	for _, a := range open {
		if pick < a.weight {
			a.run()
			return
		}
		pick -= a.weight
	}
}

// pickOrder picks one of the orders, mostly one that can still move: a
// cancelled or refunded order makes for dull steps.
func (w *moneyWalk) pickOrder(from []*walkOrder) *walkOrder {
	var live []*walkOrder
	for _, o := range from {
		if o.status != c.StatusCancelled && o.status != c.StatusRefunded {
			live = append(live, o)
		}
	}
	if len(live) > 0 && w.rng.IntN(4) != 0 {
		from = live
	}
	return from[w.rng.IntN(len(from))]
}

// payable are the orders whose checkout is open at Stripe.
func (w *moneyWalk) payable() []*walkOrder {
	var out []*walkOrder
	for _, o := range w.orders {
		if o.status == c.StatusPending && !o.paidAtStripe {
			out = append(out, o)
		}
	}
	return out
}

// refundable are the orders with a payment the shop recorded.
func (w *moneyWalk) refundable() []*walkOrder {
	var out []*walkOrder
	for _, o := range w.orders {
		if o.paid {
			out = append(out, o)
		}
	}
	return out
}

// modelStock is what a product should have left: its start less what the
// orders should hold.
func (w *moneyWalk) modelStock(product string) int {
	stock := w.initial[product]
	for _, o := range w.orders {
		if o.holdsStock() {
			stock -= o.lines[product]
		}
	}
	return stock
}

func (w *moneyWalk) checkout() {
	owner := w.rng.IntN(len(w.customers))
	products := w.products
	if w.rng.IntN(2) == 0 {
		products = []string{w.products[w.rng.IntN(len(w.products))]}
	}
	quantities := make([]int, len(products))
	fits := true
	var shape []string
	for i, p := range products {
		quantities[i] = 1 + w.rng.IntN(2)
		if w.rng.IntN(5) == 0 {
			quantities[i] = 3
		}
		fits = fits && quantities[i] <= w.modelStock(p)
		shape = append(shape, fmt.Sprintf("%d×p%d (stock %d)", quantities[i], w.productIndex(p), w.modelStock(p)))
	}
	status, body := w.rig.Send(w.t, http.MethodPost, walkCheckoutURL, walkCheckoutBody(products, quantities),
		shoptest.Headers(w.customers[owner]))
	w.logStep("checkout by c%d of %s → %d", owner+1, strings.Join(shape, " + "), status)
	if !fits {
		if status != http.StatusBadRequest || !strings.Contains(body, `"quantity":{"code":"validation_out_of_stock"`) {
			w.fail("a checkout beyond the stock got %d %s, want 400 with data.items.N.quantity", status, body)
		}
		return
	}
	if status != http.StatusCreated {
		w.fail("a checkout within the stock got %d %s, want 201", status, body)
	}
	var placed walkPlaced
	if err := json.Unmarshal([]byte(body), &placed); err != nil || placed.Order.ID == "" || placed.SessionID == "" {
		w.fail("checkout answer %s: %v", body, err)
	}
	o := &walkOrder{
		name: fmt.Sprintf("o%d", len(w.orders)+1), id: placed.Order.ID, session: placed.SessionID, owner: owner,
		total: placed.Order.Total, currency: placed.Order.Currency, lines: map[string]int{}, status: c.StatusPending,
	}
	for i, p := range products {
		o.lines[p] = quantities[i]
	}
	w.orders = append(w.orders, o)
	w.steps[len(w.steps)-1] += " " + o.name
}

func (w *moneyWalk) productIndex(product string) int {
	for i, p := range w.products {
		if p == product {
			return i + 1
		}
	}
	return 0
}

// newEvent numbers a Stripe event of the walk.
func (w *moneyWalk) newEvent(kind string, object map[string]any) walkEvent {
	w.events++
	return walkEvent{id: fmt.Sprintf("evt_walk_%d", w.events), kind: kind, object: object}
}

// deliver posts an event to the webhook, which must answer 200 with the
// given "applied" and, if given, ledger status; it is remembered for
// deliverAgain.
func (w *moneyWalk) deliver(ev walkEvent, applied bool, ledger string) {
	w.t.Helper()
	payload, signature := shoptest.StripeEvent(w.t, ev.id, ev.kind, ev.object)
	status, body := w.rig.Send(w.t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
	want := fmt.Sprintf(`"applied":%t`, applied)
	if status != http.StatusOK || !strings.Contains(body, want) || (ledger != "" && !strings.Contains(body, `"status":"`+ledger+`"`)) {
		w.fail("%s %s answered %d %s, want 200 with %s %s", ev.kind, ev.id, status, body, want, ledger)
	}
	w.remember(ev)
}

// remember keeps a delivered event for deliverAgain, once.
func (w *moneyWalk) remember(ev walkEvent) {
	if !slices.ContainsFunc(w.delivered, func(d walkEvent) bool { return d.id == ev.id }) {
		w.delivered = append(w.delivered, ev)
	}
}

// payAtStripe: the customer pays an open checkout. Its event usually
// comes at once, sometimes later (deliverLatePayment).
func (w *moneyWalk) payAtStripe() {
	o := w.pickOrder(w.payable())
	ev := w.newEvent("checkout.session.completed", w.rig.Fake.CompleteSession(o.session))
	o.paidAtStripe = true
	if w.rng.IntN(3) == 0 {
		w.queued = append(w.queued, queuedPayment{ev, o})
		w.logStep("%s paid at Stripe, %s held back", o.name, ev.id)
		return
	}
	w.logStep("%s paid at Stripe, %s delivered", o.name, ev.id)
	w.applyPayment(o, ev)
}

func (w *moneyWalk) deliverLatePayment() {
	i := w.rng.IntN(len(w.queued))
	q := w.queued[i]
	w.queued = append(w.queued[:i], w.queued[i+1:]...)
	w.logStep("%s's held-back payment %s delivered (order %s)", q.order.name, q.event.id, q.order.status)
	w.applyPayment(q.order, q.event)
}

// applyPayment delivers the genuine payment of an order: nothing the walk
// does can close a checkout that was paid, so the order is still pending.
func (w *moneyWalk) applyPayment(o *walkOrder, ev walkEvent) {
	w.deliver(ev, true, c.EventApplied)
	if o.status == c.StatusPending {
		o.status = c.StatusPaid
	}
	o.paid = true
}

// deliverAgain sends an event that was delivered before, under its id:
// Stripe delivers at least once. Nothing may change.
func (w *moneyWalk) deliverAgain() {
	ev := w.delivered[w.rng.IntN(len(w.delivered))]
	w.logStep("%s (%s) delivered again", ev.id, ev.kind)
	w.deliver(ev, false, "")
}

// forgedPayment sends a payment that names an order but does not pay it:
// short, in another currency, or of a session that is not the order's (a
// Payment Link whose client_reference_id the buyer chose). It must be
// recorded as mismatched and move nothing.
func (w *moneyWalk) forgedPayment() {
	o := w.pickOrder(w.orders)
	n := w.events + 1
	session := map[string]any{
		"id": o.session, "object": "checkout.session", "status": "complete", "payment_status": "paid",
		"client_reference_id": o.id, "metadata": map[string]any{"order_id": o.id},
		"payment_intent": fmt.Sprintf("pi_forged_%d", n), "amount_total": o.total, "currency": o.currency,
	}
	var what string
	switch w.rng.IntN(3) {
	case 0:
		session["amount_total"] = o.total - 1
		what = "one short"
	case 1:
		session["currency"] = "jpy"
		what = "in jpy"
	default:
		session["id"] = fmt.Sprintf("cs_link_%d", n)
		what = "in full by another session"
	}
	ev := w.newEvent("checkout.session.completed", session)
	w.logStep("%s (%s) paid %s: %s", o.name, o.status, what, ev.id)
	w.deliver(ev, false, c.EventMismatched)
}

// cancel: the owner cancels (mostly), or support with a reason, or the
// other customer, who must not find the order.
func (w *moneyWalk) cancel() {
	o := w.pickOrder(w.orders)
	who, actor, body := w.customers[o.owner], fmt.Sprintf("c%d", o.owner+1), `{}`
	want := http.StatusConflict
	switch roll := w.rng.IntN(10); {
	case roll == 9:
		other := (o.owner + 1) % len(w.customers)
		who, actor = w.customers[other], fmt.Sprintf("c%d (not the owner)", other+1)
		want = http.StatusNotFound
	case roll >= 7:
		who, actor, body = w.support, "support", `{"reason":"The customer phoned."}`
	}
	if want != http.StatusNotFound && (o.status == c.StatusPaid || (o.status == c.StatusPending && !o.paidAtStripe)) {
		want = http.StatusOK
	}
	status, answer := w.rig.Send(w.t, http.MethodPost, "/api/v1/orders/"+o.id+"/cancel", body, shoptest.Headers(who))
	w.logStep("%s (%s) cancelled by %s → %d", o.name, o.status, actor, status)
	if status != want {
		w.fail("cancel of %s (%s) by %s got %d %s, want %d", o.name, o.status, actor, status, answer, want)
	}
	if want == http.StatusOK {
		o.moneyBack = o.moneyBack || o.status == c.StatusPaid
		o.status = c.StatusCancelled
	}
}

// supportMove: support marks an order shipped or delivered through the
// records API; the state machine allows it from paid and from shipped.
func (w *moneyWalk) supportMove(to c.OrderStatus) {
	from := map[c.OrderStatus]c.OrderStatus{c.StatusShipped: c.StatusPaid, c.StatusDelivered: c.StatusShipped}[to]
	var movable []*walkOrder
	for _, o := range w.orders {
		if o.status == from {
			movable = append(movable, o)
		}
	}
	if len(movable) == 0 || w.rng.IntN(3) == 0 {
		movable = w.orders
	}
	o := w.pickOrder(movable)
	want := http.StatusBadRequest
	if o.status == from || o.status == to {
		want = http.StatusOK
	}
	status, answer := w.rig.Send(w.t, http.MethodPatch, "/api/collections/orders/records/"+o.id,
		shipBody(to), shoptest.Headers(w.support))
	w.logStep("%s (%s) marked %s by support → %d", o.name, o.status, to, status)
	if status != want {
		w.fail("support marking %s (%s) %s got %d %s, want %d", o.name, o.status, to, status, answer, want)
	}
	if want == http.StatusOK {
		o.status = to
		o.shipped = true
	}
}

// refundEvent: the payment of an order is refunded in full, from Stripe's
// dashboard if nobody refunded it yet, and Stripe says so.
func (w *moneyWalk) refundEvent() {
	o := w.pickOrder(w.refundable())
	pi := walkPaymentIntent(o.session)
	source := "the earlier refund"
	if !o.moneyBack {
		walkDashboardRefund(w.t, w.rig.Fake, pi)
		o.moneyBack = true
		source = "a dashboard refund"
	}
	refunds := w.rig.Fake.Refunds(pi)
	ev := w.newEvent("charge.refunded", walkRefundedCharge(pi, fmt.Sprint(refunds[0]["id"]), o.total))
	w.logStep("%s (%s) charge.refunded %s after %s", o.name, o.status, ev.id, source)
	w.deliver(ev, true, c.EventApplied)
	if o.status.CanMoveTo(c.StatusRefunded) {
		o.status = c.StatusRefunded
	}
}

// expireEvent: Stripe expires an open checkout and says so.
func (w *moneyWalk) expireEvent() {
	o := w.pickOrder(w.payable())
	ev := w.newEvent("checkout.session.expired", walkExpireAtStripe(w.t, w.rig.Fake, o.session))
	w.logStep("%s (%s) checkout.session.expired %s", o.name, o.status, ev.id)
	w.deliver(ev, true, c.EventApplied)
	o.status = c.StatusCancelled
}

// staleJob backdates some pending orders past a day and runs the
// stale-orders job: it cancels those whose checkout is still open, and
// leaves those paid at Stripe for their payment event.
func (w *moneyWalk) staleJob() {
	var aged []string
	want := jobs.RunCounts{}
	for _, o := range w.orders {
		if o.status != c.StatusPending {
			continue
		}
		if !o.stale && w.rng.IntN(2) == 0 {
			jobsSetCreated(w.t, w.rig.App, dbx.HashExp{"id": o.id}, 25*time.Hour)
			o.stale = true
			aged = append(aged, o.name)
		}
		if !o.stale {
			continue
		}
		want.Fetched++
		if o.paidAtStripe {
			want.Skipped++
			continue
		}
		want.Updated++
		o.status = c.StatusCancelled
	}
	run, err := w.runner.Run(context.Background(), payments.JobStaleOrders, jobs.RunOptions{Trigger: "test"})
	w.logStep("stale-orders job after backdating [%s] → %s %+v", strings.Join(aged, " "), run.Status, run.RunCounts)
	if err != nil || run.Status != c.JobSucceeded || run.RunCounts != want {
		w.fail("stale-orders job: %s %+v (%v, %v), want succeeded %+v", run.Status, run.RunCounts, err, run.Err, want)
	}
}

// walkRacer is one request of a race, with what the step list calls it.
type walkRacer struct {
	what string
	send func() (int, string)
}

func (w *moneyWalk) cancelBy(o *walkOrder, who shoptest.Account) walkRacer {
	return walkRacer{"cancel", func() (int, string) {
		return w.rig.Send(w.t, http.MethodPost, "/api/v1/orders/"+o.id+"/cancel", `{"reason":"Changed my mind."}`, shoptest.Headers(who))
	}}
}

func (w *moneyWalk) moveBySupport(o *walkOrder, to c.OrderStatus) walkRacer {
	return walkRacer{"mark " + string(to), func() (int, string) {
		return w.rig.Send(w.t, http.MethodPatch, "/api/collections/orders/records/"+o.id, shipBody(to),
			shoptest.Headers(w.support))
	}}
}

func (w *moneyWalk) webhookPost(ev walkEvent) walkRacer {
	w.remember(ev)
	return walkRacer{ev.kind + " " + ev.id, func() (int, string) {
		payload, signature := shoptest.StripeEvent(w.t, ev.id, ev.kind, ev.object)
		return w.rig.Send(w.t, http.MethodPost, shoptest.WebhookURL, string(payload), map[string]string{"Stripe-Signature": signature})
	}}
}

// runRace sends the requests at once and returns their statuses and
// bodies, in the racers' order.
func (w *moneyWalk) runRace(o *walkOrder, racers ...walkRacer) ([]int, []string) {
	statuses, bodies := make([]int, len(racers)), make([]string, len(racers))
	var wg sync.WaitGroup
	for i, r := range racers {
		wg.Go(func() { statuses[i], bodies[i] = r.send() })
	}
	wg.Wait()
	said := make([]string, len(racers))
	for i, r := range racers {
		said[i] = fmt.Sprintf("%s → %d", r.what, statuses[i])
	}
	w.logStep("race on %s (%s): %s", o.name, o.status, strings.Join(said, " ‖ "))
	return statuses, bodies
}

// race sends two or three requests about one order at once, as when the
// customer, support and Stripe act in the same moment. Which wins is the
// scheduler's choice, so the step accepts every outcome the shop may
// reach, and the model follows the one it did reach. A seed replays the
// same requests, not necessarily the same winner.
func (w *moneyWalk) race() {
	o := w.pickOrder(w.orders)
	owner := w.customers[o.owner]
	switch {
	case o.status == c.StatusPending && !o.paidAtStripe && w.rng.IntN(2) == 0:
		// Stripe expires the checkout as the customer cancels.
		ev := w.newEvent("checkout.session.expired", walkExpireAtStripe(w.t, w.rig.Fake, o.session))
		statuses, bodies := w.runRace(o, w.webhookPost(ev), w.cancelBy(o, owner))
		w.expectRace(statuses, bodies, []int{http.StatusOK}, []int{http.StatusOK, http.StatusConflict})
		o.status = c.StatusCancelled

	case o.status == c.StatusPending:
		// The customer pays as they cancel: the checkout can no longer be
		// closed, so the cancel either meets a pending order and gets 409,
		// or meets it paid and refunds it.
		var ev walkEvent
		if i := w.queuedFor(o); i >= 0 {
			ev = w.queued[i].event
			w.queued = append(w.queued[:i], w.queued[i+1:]...)
		} else {
			ev = w.newEvent("checkout.session.completed", w.rig.Fake.CompleteSession(o.session))
			o.paidAtStripe = true
		}
		statuses, bodies := w.runRace(o, w.webhookPost(ev), w.cancelBy(o, owner))
		w.expectRace(statuses, bodies, []int{http.StatusOK}, []int{http.StatusOK, http.StatusConflict})
		o.status, o.paid = c.StatusPaid, true
		if statuses[1] == http.StatusOK {
			o.status, o.moneyBack = c.StatusCancelled, true
		}

	case o.status == c.StatusPaid && w.rng.IntN(2) == 0:
		// The customer cancels as support ships: one of them, not both.
		statuses, bodies := w.runRace(o, w.cancelBy(o, owner), w.moveBySupport(o, c.StatusShipped))
		w.expectRace(statuses, bodies, []int{http.StatusOK, http.StatusConflict}, []int{http.StatusOK, http.StatusConflict, http.StatusBadRequest})
		switch {
		case statuses[0] == http.StatusOK && statuses[1] == http.StatusOK:
			w.fail("%s was both cancelled and shipped: %v %v", o.name, statuses, bodies)
		case statuses[0] == http.StatusOK:
			o.status, o.moneyBack = c.StatusCancelled, true
		case statuses[1] == http.StatusOK:
			o.status, o.shipped = c.StatusShipped, true
		default:
			w.fail("neither the cancel nor the ship of %s went through: %v %v", o.name, statuses, bodies)
		}

	case o.status == c.StatusPaid || o.status == c.StatusShipped || o.status == c.StatusDelivered:
		// Refunded from the dashboard as support moves the order on: it
		// ends refunded, and keeps its stock only if it was shipped.
		to := c.StatusShipped
		if o.status != c.StatusPaid {
			to = c.StatusDelivered
		}
		pi := walkPaymentIntent(o.session)
		refund := walkDashboardRefund(w.t, w.rig.Fake, pi)
		o.moneyBack = true
		ev := w.newEvent("charge.refunded", walkRefundedCharge(pi, refund, o.total))
		statuses, bodies := w.runRace(o, w.webhookPost(ev), w.moveBySupport(o, to))
		w.expectRace(statuses, bodies, []int{http.StatusOK}, []int{http.StatusOK, http.StatusBadRequest, http.StatusConflict})
		o.status = c.StatusRefunded
		o.shipped = o.shipped || (to == c.StatusShipped && statuses[1] == http.StatusOK)

	default:
		// A finished order: cancels and a repeated event change nothing.
		racers := []walkRacer{w.cancelBy(o, owner), w.cancelBy(o, w.support)}
		if len(w.delivered) > 0 {
			racers = append(racers, w.webhookPost(w.delivered[w.rng.IntN(len(w.delivered))]))
		}
		statuses, bodies := w.runRace(o, racers...)
		w.expectRace(statuses, bodies, []int{http.StatusConflict}, []int{http.StatusConflict}, []int{http.StatusOK})
	}
}

// queuedFor is the index of the order's held-back payment, or -1.
func (w *moneyWalk) queuedFor(o *walkOrder) int {
	for i, q := range w.queued {
		if q.order == o {
			return i
		}
	}
	return -1
}

// expectRace checks each walkRacer's status against those it may get.
func (w *moneyWalk) expectRace(statuses []int, bodies []string, allowed ...[]int) {
	w.t.Helper()
	for i, s := range statuses {
		if !slices.Contains(allowed[i], s) {
			w.fail("racer %d answered %d %s, want one of %v", i+1, s, bodies[i], allowed[i])
		}
	}
}

// check compares the shop with the model and the invariants.
func (w *moneyWalk) check() {
	w.t.Helper()
	db := w.rig.App.DB()
	for _, p := range w.products {
		var stock, held int
		if err := db.Select(c.ProductStock).From(c.Products).Where(dbx.HashExp{"id": p}).Row(&stock); err != nil {
			w.fail("stock of %s: %v", p, err)
		}
		if err := db.Select("COALESCE(SUM([[" + c.ItemStockTaken + "]]), 0)").From(c.OrderItems).
			Where(dbx.HashExp{c.ItemProduct: p}).Row(&held); err != nil {
			w.fail("stock held of %s: %v", p, err)
		}
		if stock < 0 {
			w.fail("p%d has stock %d", w.productIndex(p), stock)
		}
		if stock+held != w.initial[p] {
			w.fail("p%d: stock %d + held by items %d = %d, want %d", w.productIndex(p), stock, held, stock+held, w.initial[p])
		}
		if want := w.modelStock(p); stock != want {
			w.fail("p%d has stock %d, want %d", w.productIndex(p), stock, want)
		}
	}

	for _, o := range w.orders {
		var row struct {
			Status        string `db:"status"`
			Session       string `db:"stripe_session"`
			PaymentIntent string `db:"stripe_payment_intent"`
			Claim         string `db:"claim"`
		}
		if err := db.Select(c.OrderStatusField, c.OrderStripeSession, c.OrderStripePaymentIntent, c.OrderClaim).
			From(c.Orders).Where(dbx.HashExp{"id": o.id}).One(&row); err != nil {
			w.fail("read %s: %v", o.name, err)
		}
		wantIntent := ""
		if o.paid {
			wantIntent = walkPaymentIntent(o.session)
		}
		switch {
		case c.OrderStatus(row.Status) != o.status:
			w.fail("%s is %s, want %s", o.name, row.Status, o.status)
		case row.Session != o.session || row.PaymentIntent != wantIntent:
			w.fail("%s has session %q and payment intent %q, want %q and %q (paid only by its own checkout)",
				o.name, row.Session, row.PaymentIntent, o.session, wantIntent)
		case row.Claim != "":
			w.fail("%s is still claimed after the step", o.name)
		}

		var items []walkItemRow
		if err := db.Select(c.ItemProduct, c.ItemQuantity, c.ItemStockTaken).From(c.OrderItems).
			Where(dbx.HashExp{c.ItemOrder: o.id}).All(&items); err != nil {
			w.fail("items of %s: %v", o.name, err)
		}
		if len(items) != len(o.lines) {
			w.fail("%s has %d items, want %d", o.name, len(items), len(o.lines))
		}
		for _, it := range items {
			want := 0
			if o.holdsStock() {
				want = o.lines[it.Product]
			}
			if it.Quantity != o.lines[it.Product] || it.Taken != want {
				w.fail("%s (%s, shipped %t): its item of p%d (quantity %d) holds %d units, want %d",
					o.name, o.status, o.shipped, w.productIndex(it.Product), it.Quantity, it.Taken, want)
			}
		}

		refunds := w.rig.Fake.Refunds(walkPaymentIntent(o.session))
		refunded := 0
		for _, r := range refunds {
			amount, _ := r["amount"].(int64)
			if amount == 0 {
				amount = int64(o.total) // a refund without an amount is of the whole payment
			}
			refunded += int(amount)
		}
		wantRefunds := 0
		if o.moneyBack {
			wantRefunds = 1
		}
		if len(refunds) != wantRefunds || refunded > o.total {
			w.fail("%s (%s, total %d) has %d refunds at Stripe of %d in all, want %d and at most the total",
				o.name, o.status, o.total, len(refunds), refunded, wantRefunds)
		}
		if s := w.rig.Fake.Session(o.session); o.status == c.StatusCancelled && s["status"] == "open" {
			w.fail("%s is cancelled but its checkout is still open at Stripe", o.name)
		}
	}

	for _, q := range []struct{ what, sql string }{
		{"orders with two order_paid emails", "SELECT COUNT(*) FROM (SELECT [[order]] FROM {{email_jobs}} WHERE [[template]] = 'order_paid' GROUP BY [[order]] HAVING COUNT(*) > 1)"},
		{"Stripe events recorded twice", "SELECT COUNT(*) FROM (SELECT [[event_id]] FROM {{stripe_events}} GROUP BY [[event_id]] HAVING COUNT(*) > 1)"},
	} {
		var n int
		if err := db.NewQuery(q.sql).Row(&n); err != nil {
			w.fail("%s: %v", q.what, err)
		}
		if n != 0 {
			w.fail("%d %s", n, q.what)
		}
	}
}

// walkItemRow is what the checks read of an order item.
type walkItemRow struct {
	Product  string `db:"product"`
	Quantity int    `db:"quantity"`
	Taken    int    `db:"stock_taken"`
}

// shipBody is support's PATCH moving an order to status: a shipment comes
// with its carrier and tracking number (CONTRACT §5).
func shipBody(to c.OrderStatus) string {
	if to == c.StatusShipped {
		return `{"status":"shipped","carrier":"DHL","tracking_number":"TRK123"}`
	}
	return fmt.Sprintf(`{"status":%q}`, to)
}
