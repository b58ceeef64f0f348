// Package alerts tells the operator about failures that need a person:
// logged at error level, and mailed to SHOPDASH_ALERT_EMAIL when set.
package alerts

import (
	"errors"
	"fmt"
	"html"
	"net/mail"
	"net/textproto"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// A burst of bad webhook signatures: so many within the window is someone
// probing the endpoint, or a rotated secret the shop does not know yet.
const (
	badSignatureBurst  = 20
	badSignatureWindow = 5 * time.Minute
)

// Alerter tells the operator about failures that need a person: a failed
// sync run, an email that went dead, a burst of bad webhook signatures. An
// alert is always logged at error level, and mailed to SHOPDASH_ALERT_EMAIL
// when it is set.
type Alerter struct {
	app core.App
	to  string

	// mails are the alerts waiting to be mailed, by one goroutine: an
	// alert raised in a request (a webhook's) never waits for the mail
	// server, and a burst of them never opens a burst of connections.
	mails     chan *mailer.Message
	startMail sync.Once

	mu            sync.Mutex
	badSignatures []time.Time
	lastBurst     time.Time
}

// New is the alerter of app, mailing to (none when "").
func New(app core.App, to string) *Alerter {
	return &Alerter{app: app, to: to}
}

// alertQueue is how many alerts wait to be mailed; more are only logged.
const alertQueue = 32

// Alert logs one alert and queues its mail. text must hold no personal
// data.
func (a *Alerter) Alert(subject, text string, attrs ...any) {
	a.app.Logger().Error("operator alert: "+subject, append(attrs, "alert", text)...)
	if a.to == "" {
		return
	}
	a.startMail.Do(func() {
		a.mails = make(chan *mailer.Message, alertQueue)
		go a.mailAlerts()
	})
	s := a.app.Settings().Meta
	msg := &mailer.Message{
		From:    mail.Address{Name: s.SenderName, Address: s.SenderAddress},
		To:      []mail.Address{{Address: a.to}},
		Subject: fmt.Sprintf("%s alert: %s", s.AppName, subject),
		Text:    text,
		HTML:    "<p>" + html.EscapeString(text) + "</p>",
	}
	select {
	case a.mails <- msg:
	default:
		a.app.Logger().Error("too many operator alerts waiting to be mailed; this one is only logged", "subject", subject)
	}
}

// mailAlerts mails the queued alerts, one at a time, for the life of the
// process.
func (a *Alerter) mailAlerts() {
	for msg := range a.mails {
		if err := a.app.NewMailClient().Send(msg); err != nil {
			a.app.Logger().Error("could not mail the operator alert", "error", MailError(err))
		}
	}
}

// BadSignature counts a webhook refused for its signature and alerts once
// per window when they come in a burst.
func (a *Alerter) BadSignature() {
	now := time.Now()
	a.mu.Lock()
	kept := a.badSignatures[:0]
	for _, t := range a.badSignatures {
		if now.Sub(t) < badSignatureWindow {
			kept = append(kept, t)
		}
	}
	a.badSignatures = append(kept, now)
	burst := len(a.badSignatures) >= badSignatureBurst && now.Sub(a.lastBurst) >= badSignatureWindow
	if burst {
		a.lastBurst = now
	}
	count := len(a.badSignatures)
	a.mu.Unlock()
	if burst {
		a.Alert("bad Stripe webhook signatures",
			fmt.Sprintf("%d webhook requests with a bad signature in the last %s: check STRIPE_WEBHOOK_SECRET against the endpoint in Stripe, or someone is probing /api/v1/stripe/webhook.",
				count, badSignatureWindow), "count", count)
	}
}

// MailError describes a mail failure without the server's words, which
// often repeat the recipient's address: the SMTP code, or the error kind.
func MailError(err error) string {
	var smtpErr *textproto.Error
	if errors.As(err, &smtpErr) {
		return fmt.Sprintf("SMTP %d", smtpErr.Code)
	}
	return err.Error()
}
