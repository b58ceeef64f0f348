package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/records"
)

// newClient is the HTTP client of the deliveries: no proxy from the
// environment, every dialled address checked (unless private ones are
// allowed), no redirect followed, an attempt bounded as a whole and its
// answer's headers bounded in size.
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = checkDialedAddress
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: maxAnswerRead,
		// Endpoints often share a host (one receiver, a path per use):
		// every attempt under way may keep its connection.
		MaxIdleConnsPerHost: cfg.Total,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is what one attempt got.
type answer struct {
	status     int
	err        error
	retryAfter time.Duration
}

func (a answer) delivered() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// send posts one attempt of a delivery: the stored body, signed for now.
func (w *Webhooks) send(ctx context.Context, ep *c.WebhookEndpoint, d claimedDelivery) answer {
	if err := CheckEndpointURL(ep.URL(), w.cfg.AllowPrivate); err != nil {
		return answer{err: errors.New("the endpoint's URL is refused: " + err.Error())}
	}
	now := w.now()
	body := []byte(d.Payload)
	signed, err := signature(ep.SigningSecrets(now), d.EventID, now.Unix(), body)
	if err != nil {
		return answer{err: fmt.Errorf("sign: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL(), bytes.NewReader(body))
	if err != nil {
		return answer{err: errors.New("bad endpoint URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shopdash-webhooks/1")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", signed)
	res, err := w.client.Do(req)
	if err != nil {
		return answer{err: attemptError(err)}
	}
	defer res.Body.Close()
	// Read at most maxAnswerRead, keeping its start for last_error: a
	// receiver that floods gets its connection closed.
	var start bytes.Buffer
	_, _ = io.Copy(io.MultiWriter(limitedWriter{&start, 200}, io.Discard), io.LimitReader(res.Body, maxAnswerRead))
	a := answer{status: res.StatusCode, retryAfter: parseRetryAfter(res.Header.Get("Retry-After"), now)}
	if !a.delivered() {
		a.err = fmt.Errorf("answered %d %s", res.StatusCode, printable(start.String()))
	}
	return a
}

// attemptError is err without the URL: a URL may carry a token of the
// receiver's in its path or query, and the error is stored and logged.
func attemptError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if errors.Is(err, errPrivateAddress) {
		return errPrivateAddress
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return errors.New("no answer within the timeout")
	}
	return err
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	buf *bytes.Buffer
	n   int
}

func (l limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// printable is the start of an answer, on one line of visible text.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// parseRetryAfter reads Retry-After (seconds, or an HTTP date), bounded
// by maxRetryAfter; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v = strings.TrimSpace(v); v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if when, err := http.ParseTime(v); err == nil {
		d = when.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// attempt sends one attempt and records its outcome. An attempt cut off
// by shutdown is given back, to be sent first after the restart.
func (w *Webhooks) attempt(ctx context.Context, ep *c.WebhookEndpoint, d claimedDelivery) {
	w.attempts.Add(1)
	a := w.send(ctx, ep, d)
	if ctx.Err() != nil && !a.delivered() {
		w.release(d)
		return
	}
	w.record(ep, d, a)
	if a.status == http.StatusGone {
		w.releaseHeld(ep.Id) // disabled: nothing more is sent to it
	}
}

// release gives claimed deliveries back untried, in one transaction.
func (w *Webhooks) release(ds ...claimedDelivery) {
	now := records.Stamp(w.now()).String()
	err := w.app.RunInTransaction(func(tx core.App) error {
		for _, d := range ds {
			_, err := tx.DB().Update(c.WebhookDeliveries, dbx.Params{c.DeliveryClaim: "", c.DeliveryNextAttempt: now},
				dbx.HashExp{"id": d.ID, c.DeliveryClaim: d.Claim}).Execute()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		w.app.Logger().Warn("webhook deliveries not given back; they are sent after their lease", "job", JobWebhookOutbox,
			"deliveries", len(ds), "error", err.Error())
	}
}

// record writes an attempt's outcome: delivered; failed with the next
// attempt (the schedule's wait, or the receiver's Retry-After when
// longer); dead after the last attempt, or at once on 410 Gone, which
// also disables the endpoint. Only the claim's holder may write it.
func (w *Webhooks) record(ep *c.WebhookEndpoint, d claimedDelivery, a answer) {
	now := w.now().UTC()
	o := &outcome{id: d.ID, claim: d.Claim, attempts: d.Attempts + 1, lastStatus: a.status, status: c.DeliveryFailed, at: now}
	switch {
	case a.delivered():
		o.status = c.DeliveryDelivered
	case a.status == http.StatusGone || o.attempts >= len(w.cfg.Retries):
		o.status = c.DeliveryDead
	default:
		o.next = now.Add(max(w.cfg.Retries[o.attempts], a.retryAfter))
	}
	if a.err != nil {
		o.lastError = c.Truncate(a.err.Error(), c.DeliveryLastErrorMax)
	}
	log := func() *slog.Logger {
		return w.app.Logger().With("job", JobWebhookOutbox, "endpoint", ep.Id, "delivery", d.ID, "event", d.EventID,
			"type", d.Type, "attempts", o.attempts, "status", a.status)
	}
	written, err := w.recorder.write(w, o)
	if err != nil {
		// The lease runs out and the attempt is made again: at least once.
		log().Error("could not record a webhook attempt", "error", err.Error())
		return
	}
	if !written {
		log().Warn("a webhook attempt outlived its lease; another worker has the delivery")
		return
	}
	label := o.status
	if a.status == http.StatusGone {
		label = "gone"
	}
	w.metrics.WebhookDelivery(ep.Id, label)
	switch {
	case a.delivered():
		w.endpointSucceeded(ep)
	case a.status == http.StatusGone:
		log().Warn("webhook endpoint answered 410 Gone; disabled")
		w.disable(ep, fmt.Sprintf("The endpoint answered 410 Gone on %s.", now.Format(time.RFC3339)))
	default:
		log().Warn("webhook attempt failed", "outcome", o.status, "error", a.err.Error())
		w.endpointFailed(ep, now)
	}
}

// endpointSucceeded clears the endpoint's run of failures, unless this
// process knows there is none to clear.
func (w *Webhooks) endpointSucceeded(ep *c.WebhookEndpoint) {
	w.mu.Lock()
	failing, known := w.failing[ep.Id]
	w.mu.Unlock()
	if known && !failing {
		return
	}
	_, err := w.app.NonconcurrentDB().Update(c.WebhookEndpoints, dbx.Params{c.EndpointFailingSince: ""},
		dbx.And(dbx.HashExp{"id": ep.Id}, dbx.NewExp("[["+c.EndpointFailingSince+"]] != ''"))).Execute()
	if err != nil {
		w.app.Logger().Error("could not clear a webhook endpoint's failures", "endpoint", ep.Id, "error", err.Error())
		return
	}
	w.noteFailing(ep.Id, false)
}

func (w *Webhooks) noteFailing(endpoint string, failing bool) {
	w.mu.Lock()
	w.failing[endpoint] = failing
	w.mu.Unlock()
}

// endpointFailed notes when the endpoint began to fail every attempt, and
// disables it, alerting the operator, once that is WebhookFailingLimit ago.
func (w *Webhooks) endpointFailed(ep *c.WebhookEndpoint, now time.Time) {
	stamp := records.Stamp(now).String()
	_, err := w.app.NonconcurrentDB().Update(c.WebhookEndpoints, dbx.Params{c.EndpointFailingSince: stamp},
		dbx.And(dbx.HashExp{"id": ep.Id}, dbx.NewExp("([["+c.EndpointFailingSince+"]] = '' OR [["+c.EndpointFailingSince+"]] IS NULL)"))).Execute()
	if err != nil {
		w.app.Logger().Error("could not note a webhook endpoint's failure", "endpoint", ep.Id, "error", err.Error())
		return
	}
	w.noteFailing(ep.Id, true)
	var since string
	if err := w.app.DB().Select(c.EndpointFailingSince).From(c.WebhookEndpoints).Where(dbx.HashExp{"id": ep.Id}).Row(&since); err != nil {
		return
	}
	stamped, err := types.ParseDateTime(since)
	began := stamped.Time()
	if err != nil || stamped.IsZero() || now.Sub(began) < c.WebhookFailingLimit {
		return
	}
	reason := fmt.Sprintf("Every attempt failed since %s.", began.Format(time.RFC3339))
	if w.disable(ep, reason) {
		w.alerts.Alert("a webhook endpoint is disabled",
			fmt.Sprintf("Webhook endpoint %s failed every delivery for %s and is disabled: %s Fix the receiver, then set it active again in /_/ and replay its deliveries.",
				ep.Id, c.WebhookFailingLimit, reason),
			"job", JobWebhookOutbox, "endpoint", ep.Id)
	}
}

// disable turns an endpoint off with the reason, through the records
// (so the list of active endpoints is read again); it reports whether it
// did.
func (w *Webhooks) disable(ep *c.WebhookEndpoint, reason string) bool {
	record, err := w.app.FindRecordById(c.WebhookEndpoints, ep.Id)
	if err != nil || !record.GetBool(c.EndpointActive) {
		return false
	}
	record.Set(c.EndpointActive, false)
	record.Set(c.EndpointDisabledReason, reason)
	if err := w.app.SaveNoValidate(record); err != nil {
		w.app.Logger().Error("could not disable a webhook endpoint", "endpoint", ep.Id, "error", err.Error())
		return false
	}
	return true
}
