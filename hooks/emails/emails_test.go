package emails_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/emails"
	"shopdash/hooks/jobs"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

// emailShop is a shop whose outbox the test drains by running the job.
func emailShop(t *testing.T, cfg hooks.Config) (*tests.TestApp, func() jobs.JobRun) {
	t.Helper()
	app, runner := shoptest.NewAppWithJobs(t, cfg)
	t.Cleanup(app.Cleanup)
	return app, func() jobs.JobRun {
		t.Helper()
		run, err := runner.Run(context.Background(), emails.JobEmailOutbox, jobs.RunOptions{Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
}

// TestOrderEmailsInEveryLanguage sends each template in each language and
// reads the message: subject, greeting, items, total in the order's
// currency, arrival, the shop's address, both parts.
func TestOrderEmailsInEveryLanguage(t *testing.T) {
	shop := shoptest.Shop()
	// The phrase each subject must carry, per language and template.
	subjects := map[string]map[string]string{
		"en": {c.TemplateOrderPaid: "is confirmed", c.TemplateOrderShipped: "is on its way", c.TemplateOrderCancelled: "is cancelled", c.TemplateOrderRefunded: "is refunded", c.TemplateOrderPartlyRefunded: "Part of your order"},
		"es": {c.TemplateOrderPaid: "está confirmado", c.TemplateOrderShipped: "está en camino", c.TemplateOrderCancelled: "está cancelado", c.TemplateOrderRefunded: "ha sido reembolsado", c.TemplateOrderPartlyRefunded: "parte de tu pedido"},
		"fr": {c.TemplateOrderPaid: "est confirmée", c.TemplateOrderShipped: "est en route", c.TemplateOrderCancelled: "est annulée", c.TemplateOrderRefunded: "est remboursée", c.TemplateOrderPartlyRefunded: "Une partie de votre commande"},
		"de": {c.TemplateOrderPaid: "ist bestätigt", c.TemplateOrderShipped: "ist unterwegs", c.TemplateOrderCancelled: "ist storniert", c.TemplateOrderRefunded: "ist erstattet", c.TemplateOrderPartlyRefunded: "Ein Teil Ihrer Bestellung"},
	}
	totals := map[string]string{"en": ".", "es": ",", "fr": ",", "de": ","}
	moves := map[string][]c.OrderStatus{
		c.TemplateOrderPaid:      {c.StatusPaid},
		c.TemplateOrderShipped:   {c.StatusPaid, c.StatusShipped},
		c.TemplateOrderCancelled: {c.StatusCancelled},
		c.TemplateOrderRefunded:  {c.StatusPaid, c.StatusRefunded},
		// then refundPart
		c.TemplateOrderPartlyRefunded: {c.StatusPaid},
	}
	for _, lang := range c.Languages {
		for _, template := range c.EmailTemplates {
			t.Run(lang+"/"+template, func(t *testing.T) {
				app, drain := emailShop(t, hooks.Config{AppURL: shoptest.AppURL})
				if _, err := app.DB().Update(c.Users, dbx.Params{c.UserLanguage: lang}, dbx.HashExp{"id": shop.Customer.ID}).Execute(); err != nil {
					t.Fatal(err)
				}
				for _, s := range moves[template] {
					shoptest.MoveOrder(t, app, shop.CustomerOrder, s)
				}
				if template == c.TemplateOrderPartlyRefunded {
					refundPart(t, app, shop.CustomerOrder, 150)
				}
				drain()

				var msg *struct{ subject, html, text, to string }
				for _, m := range app.TestMailer.Messages() {
					if strings.Contains(m.Subject, subjects[lang][template]) {
						msg = &struct{ subject, html, text, to string }{m.Subject, m.HTML, m.Text, m.To[0].Address}
					}
				}
				if msg == nil {
					t.Fatalf("no %s %s email among %d sent", lang, template, app.TestMailer.TotalSend())
				}
				order, _ := app.FindRecordById(c.Orders, shop.CustomerOrder)
				o := c.NewOrder(order)
				for _, part := range []string{msg.html, msg.text} {
					for _, want := range []string{o.Number(), "Casey Customer", "shopdash", "1 Example Street", strings.ToUpper(o.Currency())} {
						if !strings.Contains(part, want) {
							t.Errorf("%s %s lacks %q:\n%s", lang, template, want, part)
						}
					}
				}
				whole, cents := o.Total()/100, o.Total()%100
				if !strings.Contains(msg.text, fmt.Sprintf("%d%s%02d", whole%1000, totals[lang], cents)) {
					t.Errorf("%s total %d not written in %s style:\n%s", lang, o.Total(), lang, msg.text)
				}
				if msg.to != "customer@example.com" || !strings.Contains(msg.subject, o.Number()) {
					t.Errorf("to %q subject %q", msg.to, msg.subject)
				}
			})
		}
	}
}

// refundPart adds amount to the order's refunded_amount, as the refund
// route and a charge.refunded event for a part do.
func refundPart(t *testing.T, app core.App, id string, amount int) {
	t.Helper()
	err := app.RunInTransaction(func(tx core.App) error {
		order, err := tx.FindRecordById(c.Orders, id)
		if err != nil {
			return err
		}
		order.Set(c.OrderRefundedAmount, order.GetInt(c.OrderRefundedAmount)+amount)
		return tx.Save(order)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPartialRefundsSendOneEmailEach: each refund of a part sends
// order_partly_refunded with its amount and the sum so far; a save that
// refunds nothing more (a repeated charge.refunded) sends none; the refund
// of the rest sends order_refunded only, even when the status follows in a
// later save.
func TestPartialRefundsSendOneEmailEach(t *testing.T) {
	shop := shoptest.Shop()
	app, drain := emailShop(t, hooks.Config{AppURL: shoptest.AppURL})
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	refundPart(t, app, shop.CustomerOrder, 300)
	refundPart(t, app, shop.CustomerOrder, 0)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusShipped)
	refundPart(t, app, shop.CustomerOrder, 200)
	order, err := app.FindRecordById(c.Orders, shop.CustomerOrder)
	if err != nil {
		t.Fatal(err)
	}
	total := c.NewOrder(order).Total()
	refundPart(t, app, shop.CustomerOrder, total-500)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusRefunded)
	drain()

	type sent struct {
		template         string
		refund, refunded int
	}
	var got []sent
	for _, job := range shoptest.EmailJobs(t, app, shop.CustomerOrder) {
		if status := job.GetString(c.EmailJobStatus); status != c.EmailSent {
			t.Errorf("%s email is %s", job.GetString(c.EmailJobTemplate), status)
		}
		got = append(got, sent{job.GetString(c.EmailJobTemplate), job.GetInt(c.EmailJobRefund), job.GetInt(c.EmailJobRefundedAmount)})
	}
	want := []sent{
		{c.TemplateOrderPaid, 0, 0},
		{c.TemplateOrderPartlyRefunded, 200, 500},
		{c.TemplateOrderPartlyRefunded, 300, 300},
		{c.TemplateOrderRefunded, 0, 0},
		{c.TemplateOrderShipped, 0, 0},
	}
	byKey := func(a, b sent) int {
		return cmp.Or(strings.Compare(a.template, b.template), cmp.Compare(a.refunded, b.refunded))
	}
	slices.SortFunc(got, byKey)
	slices.SortFunc(want, byKey)
	// The last part refunded all while the order was still shipped: it is
	// not told as a part; the status change after it tells the whole.
	if !slices.Equal(got, want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
	var texts []string
	for _, m := range app.TestMailer.Messages() {
		if strings.Contains(m.Subject, "Part of your order") {
			texts = append(texts, m.Text)
		}
	}
	currency := strings.ToUpper(c.NewOrder(order).Currency())
	if len(texts) != 2 || !strings.Contains(strings.Join(texts, ""), "Refunded now: 3.00 "+currency+"\nRefunded in all: 3.00 "+currency) ||
		!strings.Contains(strings.Join(texts, ""), "Refunded now: 2.00 "+currency+"\nRefunded in all: 5.00 "+currency) {
		t.Fatalf("partial refund emails:\n%s", strings.Join(texts, "\n---\n"))
	}
}

// TestShippingEmailsRespectOrderUpdates: receipts always go, shipping
// updates only to customers who want them.
func TestShippingEmailsRespectOrderUpdates(t *testing.T) {
	shop := shoptest.Shop()
	app, drain := emailShop(t, hooks.Config{AppURL: shoptest.AppURL})
	if _, err := app.DB().Update(c.Users, dbx.Params{c.UserOrderUpdates: false}, dbx.HashExp{"id": shop.Customer.ID}).Execute(); err != nil {
		t.Fatal(err)
	}
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusShipped)
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusRefunded)
	drain()
	var templates []string
	for _, job := range shoptest.EmailJobs(t, app, shop.CustomerOrder) {
		templates = append(templates, job.GetString(c.EmailJobTemplate))
	}
	slices.Sort(templates)
	if want := []string{c.TemplateOrderPaid, c.TemplateOrderRefunded}; !slices.Equal(templates, want) {
		t.Fatalf("emails %v, want %v", templates, want)
	}
	if n := app.TestMailer.TotalSend(); n != 2 {
		t.Fatalf("%d messages sent, want 2", n)
	}
}

// TestFailingMailerBacksOffToDead walks every retry of a job whose mail
// server refuses it, checking each wait, then the dead state, the error
// log entry and the operator alert.
func TestFailingMailerBacksOffToDead(t *testing.T) {
	shop := shoptest.Shop()
	app, drain := emailShop(t, hooks.Config{AppURL: shoptest.AppURL, AlertEmail: "ops@example.com"})
	failing := true
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		if failing && e.Message.To[0].Address != "ops@example.com" {
			return errors.New("421 mail server busy")
		}
		return e.Next()
	})
	shoptest.MoveOrder(t, app, shop.CustomerOrder, c.StatusPaid)

	waits := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour}
	for attempt := 1; attempt <= len(waits)+1; attempt++ {
		before := time.Now()
		drain()
		job := shoptest.EmailJobs(t, app, shop.CustomerOrder)[0]
		if got := job.GetInt(c.EmailJobAttempts); got != attempt {
			t.Fatalf("attempt %d recorded as %d", attempt, got)
		}
		if !strings.Contains(job.GetString(c.EmailJobLastError), "mail server busy") {
			t.Fatalf("last error %q", job.GetString(c.EmailJobLastError))
		}
		if attempt > len(waits) {
			if job.GetString(c.EmailJobStatus) != c.EmailDead {
				t.Fatalf("after %d attempts the job is %s, want dead", attempt, job.GetString(c.EmailJobStatus))
			}
			break
		}
		wait := job.GetDateTime(c.EmailJobNextAttempt).Time().Sub(before)
		if job.GetString(c.EmailJobStatus) != c.EmailFailed || wait < waits[attempt-1]-time.Second || wait > waits[attempt-1]+time.Minute {
			t.Fatalf("attempt %d: %s, next in %s; want failed, next in %s", attempt, job.GetString(c.EmailJobStatus), wait, waits[attempt-1])
		}
		// Time passes: the retry comes due.
		if _, err := app.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobNextAttempt: "2000-01-01 00:00:00.000Z"}, dbx.HashExp{"id": job.Id}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	if alerts := shoptest.AlertsTo(shoptest.AwaitAlerts(app, 1), "will not be retried"); alerts != 1 {
		t.Fatalf("%d operator alerts, want 1", alerts)
	}
	// An operator puts it back in the queue and the server has recovered.
	if n, err := emails.RetryEmails(app, true); err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	failing = false
	drain()
	if job := shoptest.EmailJobs(t, app, shop.CustomerOrder)[0]; job.GetString(c.EmailJobStatus) != c.EmailSent {
		t.Fatalf("after retry the job is %s", job.GetString(c.EmailJobStatus))
	}
}

// TestRepeatedWebhookSendsOneEmail delivers the same payment three times
// and a second event for the same payment: one order_paid email.
func TestRepeatedWebhookSendsOneEmail(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	app, drain := emailShop(t, shoptest.StripeConfig(fake.URL))
	if _, err := app.DB().Update(c.Orders, dbx.Params{c.OrderStripeSession: "cs_test_once"}, dbx.HashExp{"id": shop.CustomerOrder}).Execute(); err != nil {
		t.Fatal(err)
	}
	order, err := app.FindRecordById(c.Orders, shop.CustomerOrder)
	if err != nil {
		t.Fatal(err)
	}
	session := map[string]any{
		"id": "cs_test_once", "object": "checkout.session", "client_reference_id": shop.CustomerOrder,
		"metadata": map[string]string{"order_id": shop.CustomerOrder}, "payment_status": "paid", "payment_intent": "pi_once",
		"amount_total": order.GetInt(c.OrderTotal), "currency": order.GetString(c.OrderCurrency),
	}
	handler := shoptest.ServeShop(t, app)
	for i, id := range []string{"evt_once", "evt_once", "evt_once", "evt_async"} {
		eventType := "checkout.session.completed"
		if i == 3 {
			eventType = "checkout.session.async_payment_succeeded"
		}
		payload, signature := shoptest.StripeEvent(t, id, eventType, session)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/stripe/webhook", strings.NewReader(string(payload)))
		req.Header.Set("Stripe-Signature", signature)
		res := httptest.NewRecorder()
		handler.ServeHTTP(res, req)
		if res.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i+1, res.Code, res.Body)
		}
	}
	drain()
	// shoptest.ServeShop started the outbox worker too: either of them may be the
	// one sending, so wait for the job to be sent before counting.
	deadline := time.Now().Add(5 * time.Second)
	for {
		jobs := shoptest.EmailJobs(t, app, shop.CustomerOrder)
		if len(jobs) != 1 || jobs[0].GetString(c.EmailJobTemplate) != c.TemplateOrderPaid {
			t.Fatalf("email jobs %v, want one order_paid", jobs)
		}
		if jobs[0].GetString(c.EmailJobStatus) == c.EmailSent || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := app.TestMailer.TotalSend(); n != 1 {
		t.Fatalf("%d emails sent, want 1", n)
	}
}

// TestEmailsSurviveARestartMidQueue models a process that died while
// sending: three jobs it had claimed (and perhaps sent) are hidden behind
// its lease. A new process sends every other job at once, and the three
// when the lease runs out: every email goes, none more than twice.
func TestEmailsSurviveARestartMidQueue(t *testing.T) {
	app, drain := emailShop(t, hooks.Config{AppURL: shoptest.AppURL})
	orders, err := app.FindRecordsByFilter(c.Orders, "status = 'pending' || status = 'paid'", "", 0, 0)
	if err != nil || len(orders) < 4 {
		t.Fatalf("%d orders to move: %v", len(orders), err)
	}
	for _, o := range orders {
		shoptest.MoveOrder(t, app, o.Id, c.StatusCancelled)
	}
	queued, _ := app.CountRecords(c.EmailJobs, dbx.HashExp{c.EmailJobStatus: c.EmailQueued})
	if int(queued) != len(orders) {
		t.Fatalf("%d jobs queued for %d cancelled orders", queued, len(orders))
	}
	// The dead process: three jobs claimed, their lease 5 minutes long.
	lease := time.Now().Add(5 * time.Minute).UTC().Format("2006-01-02 15:04:05.000Z")
	held := []any{}
	for _, j := range shoptest.EmailJobs(t, app, orders[0].Id) {
		held = append(held, j.Id)
	}
	for _, o := range orders[1:3] {
		held = append(held, shoptest.EmailJobs(t, app, o.Id)[0].Id)
	}
	if _, err := app.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobNextAttempt: lease}, dbx.In("id", held...)).Execute(); err != nil {
		t.Fatal(err)
	}

	if run := drain(); run.Updated != len(orders)-3 {
		t.Fatalf("the new process sent %d, want the %d unclaimed", run.Updated, len(orders)-3)
	}
	if _, err := app.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobNextAttempt: "2000-01-01 00:00:00.000Z"}, dbx.In("id", held...)).Execute(); err != nil {
		t.Fatal(err)
	}
	drain()
	sent, _ := app.CountRecords(c.EmailJobs, dbx.HashExp{c.EmailJobStatus: c.EmailSent})
	if int(sent) != len(orders) || app.TestMailer.TotalSend() != len(orders) {
		t.Fatalf("%d jobs sent and %d messages for %d orders", sent, app.TestMailer.TotalSend(), len(orders))
	}
}
