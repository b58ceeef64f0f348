package emails

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/alerts"
	"shopdash/hooks/records"
)

// statusEmails is the email each status sends when an order reaches it.
var statusEmails = map[c.OrderStatus]string{
	c.StatusPaid:      c.TemplateOrderPaid,
	c.StatusShipped:   c.TemplateOrderShipped,
	c.StatusCancelled: c.TemplateOrderCancelled,
	c.StatusRefunded:  c.TemplateOrderRefunded,
}

// JobEmailOutbox is the outbox's job: the worker sends as emails are
// queued; `shopdash jobs` and the admin routes pause it or run a pass.
const JobEmailOutbox = "email_outbox"

// Config is the mail part of the shop's configuration.
type Config struct {
	// SMTPURL is SHOPDASH_SMTP_URL; it overrides PocketBase's SMTP settings.
	SMTPURL string
	// SMTPTimeout bounds one SMTP message, connecting included; 0 means
	// smtpMessageTimeout.
	SMTPTimeout time.Duration
}

// Register queues an order's email with each status change that sends
// one, starts the outbox worker that sends them, and puts every SMTP send
// of the app (PocketBase's own too) under a deadline. The outbox's job,
// a pass sending what is due, is Outbox.RunPass.
func Register(app core.App, cfg Config, alerter *alerts.Alerter) *Outbox {
	// After the records' own hooks of orders (priority 0: the status
	// machine, stock, claims), so that it sees the status they let
	// through, inside the transaction they hold.
	queue := &hook.Handler[*core.RecordEvent]{Id: "shopdashQueueOrderEmail", Priority: 10, Func: queueOrderEmail}
	app.OnRecordCreate(c.Orders).Bind(queue)
	app.OnRecordUpdate(c.Orders).Bind(queue)
	if cfg.SMTPURL != "" {
		app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
			if err := e.Next(); err != nil {
				return err
			}
			return applySMTPURL(e.App, cfg.SMTPURL)
		})
	}
	registerMailDeadlines(app, cfg.SMTPTimeout)
	return startOutbox(app, alerter)
}

// queueOrderEmail writes the email of an order's new status to the outbox
// in the transaction of the status change, so both land or neither does,
// and the email of a partial refund when refunded_amount grows, short of
// the total, while the order stays paid, shipped or delivered (a whole
// refund sends order_refunded through the status instead).
// Every status change of the shop runs in one (the webhook's ledger
// transaction, the cancel route, the records API's audit transaction, the
// sync's batches). The hook joins it rather than opening its own: a
// transaction opened inside a model hook would hold the save while
// PocketBase's realtime broadcast runs, and subscribers would hear nothing.
func queueOrderEmail(e *core.RecordEvent) error {
	if !records.EmailsWanted(e.Context) {
		return e.Next()
	}
	order := c.NewOrder(e.Record)
	next := order.Status()
	var stored struct {
		Status   string `db:"status"`
		Refunded int    `db:"refunded_amount"`
	}
	if !e.Record.IsNew() {
		_ = e.App.DB().Select(c.OrderStatusField, c.OrderRefundedAmount).From(c.Orders).
			Where(dbx.HashExp{"id": e.Record.Id}).One(&stored)
	}
	template, sendsEmail := statusEmails[next]
	statusEmail := sendsEmail && (e.Record.IsNew() || stored.Status != string(next))
	refunded := e.Record.GetInt(c.OrderRefundedAmount)
	refund := refunded - stored.Refunded
	refundEmail := !e.Record.IsNew() && refund > 0 && refunded < order.Total() && slices.Contains(partlyRefundable, next)
	if !statusEmail && !refundEmail {
		return e.Next()
	}
	if err := e.Next(); err != nil {
		return err
	}
	if statusEmail {
		if err := queueEmail(e.App, e.Record, template, 0); err != nil {
			return err
		}
	}
	if refundEmail {
		return queueEmail(e.App, e.Record, c.TemplateOrderPartlyRefunded, refund)
	}
	return nil
}

// partlyRefundable are the statuses an order keeps when a part of it is
// refunded.
var partlyRefundable = []c.OrderStatus{c.StatusPaid, c.StatusShipped, c.StatusDelivered}

// queueEmail adds one email job for an order, unless the order already
// has that email (a repeated event) or nobody is left to send it to: no
// account, or one whose email address is not confirmed (sign-ups are
// open, and the shop must not mail a stranger's address). A shipping
// update respects the customer's order_updates choice; receipts of
// payments, cancels and refunds always go. refund is the amount of a
// partial refund, for order_partly_refunded; each refund has its email,
// told apart by the order's refunded_amount after it.
func queueEmail(app core.App, order *core.Record, template string, refund int) error {
	userID := order.GetString(c.OrderUser)
	if userID == "" {
		return nil
	}
	user, err := app.FindRecordById(c.Users, userID)
	if err != nil {
		return nil
	}
	u := c.NewUser(user)
	if !user.Verified() {
		return nil // an address nobody has confirmed may be a stranger's
	}
	if template == c.TemplateOrderShipped && !u.OrderUpdates() {
		return nil
	}
	refunded := 0
	if template == c.TemplateOrderPartlyRefunded {
		refunded = order.GetInt(c.OrderRefundedAmount)
	}
	exists, err := app.CountRecords(c.EmailJobs, dbx.HashExp{c.EmailJobOrder: order.Id, c.EmailJobTemplate: template, c.EmailJobRefundedAmount: refunded})
	if err != nil || exists > 0 {
		return err
	}
	col, err := app.FindCachedCollectionByNameOrId(c.EmailJobs)
	if err != nil {
		return err
	}
	job := core.NewRecord(col)
	job.Set(c.EmailJobOrder, order.Id)
	job.Set(c.EmailJobUser, userID)
	job.Set(c.EmailJobRecipient, u.Email())
	job.Set(c.EmailJobTemplate, template)
	job.Set(c.EmailJobLanguage, u.Language())
	job.Set(c.EmailJobStatus, c.EmailQueued)
	job.Set(c.EmailJobNextAttempt, types.NowDateTime())
	job.Set(c.EmailJobRefund, refund)
	job.Set(c.EmailJobRefundedAmount, refunded)
	if err := app.Save(job); err != nil {
		return fmt.Errorf("queue %s email of order %s: %w", template, order.Id, err)
	}
	return nil
}

// applySMTPURL points PocketBase's mailer at SHOPDASH_SMTP_URL:
// smtp://[user:pass@]host:port, or smtps:// for implicit TLS.
func applySMTPURL(app core.App, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return fmt.Errorf("SHOPDASH_SMTP_URL must look like smtp://user:pass@host:587")
	}
	port := 25
	if u.Port() != "" {
		if port, err = strconv.Atoi(u.Port()); err != nil {
			return fmt.Errorf("SHOPDASH_SMTP_URL has a bad port")
		}
	}
	smtp := &app.Settings().SMTP
	smtp.Enabled = true
	smtp.Host = u.Hostname()
	smtp.Port = port
	smtp.TLS = u.Scheme == "smtps" || port == 465
	smtp.Username = u.User.Username()
	smtp.Password, _ = u.User.Password()
	return nil
}
