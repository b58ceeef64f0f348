package emails

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/domodwyer/mailyak/v3"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/security"
)

// PocketBase's SMTP client dials and talks with no timeout: a mail server
// that accepts a connection and never answers held an outbox sender (and
// shutdown with it) for good. Every SMTP message the shop sends, its order
// emails, its alerts and PocketBase's own (verification, password reset),
// goes through sendSMTP instead, which gives up after these.
const (
	smtpDialTimeout = 10 * time.Second
	// smtpMessageTimeout bounds a whole message: connecting, greeting,
	// TLS, authentication and the data.
	smtpMessageTimeout = 40 * time.Second
)

// registerMailDeadlines takes over the last step of PocketBase's SMTP
// sends. It runs after every other OnMailerSend hook (the test mailer
// replaces the SMTP client in tests, and is left alone).
func registerMailDeadlines(app core.App, timeout time.Duration) {
	if timeout <= 0 {
		timeout = smtpMessageTimeout
	}
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Id:       "shopdashMailDeadlines",
		Priority: 1000,
		Func: func(e *core.MailerEvent) error {
			client, ok := e.Mailer.(*mailer.SMTPClient)
			if !ok {
				return e.Next()
			}
			return sendSMTP(client, e.Message, timeout)
		},
	})
}

// sendSMTP sends one message as PocketBase's SMTPClient does (implicit TLS
// or STARTTLS when offered, PLAIN or LOGIN authentication), within timeout.
func sendSMTP(client *mailer.SMTPClient, m *mailer.Message, timeout time.Duration) error {
	mime, err := buildMIME(m)
	if err != nil {
		return fmt.Errorf("build the message: %w", err)
	}
	deadline := time.Now().Add(timeout)
	addr := net.JoinHostPort(client.Host, strconv.Itoa(client.Port))
	dialer := &net.Dialer{Timeout: smtpDialTimeout, Deadline: deadline}
	var conn net.Conn
	if client.TLS {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{ServerName: client.Host})
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, client.Host)
	if err != nil {
		return fmt.Errorf("greeting of %s: %w", addr, err)
	}
	defer c.Close()
	if client.LocalName != "" {
		if err := c.Hello(client.LocalName); err != nil {
			return err
		}
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !client.TLS {
		if err := c.StartTLS(&tls.Config{ServerName: client.Host}); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if client.Username != "" || client.Password != "" {
		var auth smtp.Auth = smtp.PlainAuth("", client.Username, client.Password, client.Host)
		if client.AuthMethod == mailer.SMTPAuthLogin {
			auth = &loginAuth{client.Username, client.Password}
		}
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
	}
	if err := c.Mail(m.From.Address); err != nil {
		return err
	}
	for _, list := range [][]mail.Address{m.To, m.Cc, m.Bcc} {
		for _, rcpt := range list {
			if err := c.Rcpt(rcpt.Address); err != nil {
				return err
			}
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(mime); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// buildMIME is the message as PocketBase's SMTPClient writes it.
func buildMIME(m *mailer.Message) ([]byte, error) {
	yak := mailyak.New("", nil)
	if m.From.Name != "" {
		yak.FromName(m.From.Name)
	}
	yak.From(m.From.Address)
	yak.Subject(m.Subject)
	yak.HTML().Set(m.HTML)
	if m.Text != "" {
		yak.Plain().Set(m.Text)
	}
	yak.To(addresses(m.To)...)
	yak.Cc(addresses(m.Cc)...)
	for name, data := range m.Attachments {
		yak.Attach(name, data)
	}
	for name, data := range m.InlineAttachments {
		yak.AttachInline(name, data)
	}
	hasID := false
	for k, v := range m.Headers {
		hasID = hasID || strings.EqualFold(k, "Message-ID")
		yak.AddHeader(k, v)
	}
	if _, domain, ok := strings.Cut(m.From.Address, "@"); ok && !hasID {
		yak.AddHeader("Message-ID", fmt.Sprintf("<%s@%s>", security.PseudorandomString(15), domain))
	}
	buf, err := yak.MimeBuf()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addresses(list []mail.Address) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.String()
	}
	return out
}

// loginAuth is SMTP's LOGIN mechanism, which net/smtp lacks; like PLAIN
// it is refused on an unencrypted connection to another machine.
type loginAuth struct{ username, password string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalHost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSuffix(string(fromServer), ":")) {
	case "username":
		return []byte(a.username), nil
	case "password":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected server challenge %q", fromServer)
}

func isLocalHost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
