package main

// Batch cases of issue 7: the nightly Stripe sync of many invoices from the
// fake Stripe, and draining queued emails to an in-process SMTP sink.

import (
	"bufio"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", already a PocketBase dependency
)

// batchResult is one batch case: count items processed in seconds.
type batchResult struct {
	Name    string  `json:"name"`
	What    string  `json:"what"`
	Count   int     `json:"count"`
	Done    int     `json:"done"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"per_second"`
	Unit    string  `json:"unit"`
	Output  string  `json:"output,omitempty"`
	OK      bool    `json:"ok"`
	Note    string  `json:"note,omitempty"`
}

// invoiceBase is the created time of the newest fake invoice; invoice i
// (1..n) is created (n-i) minutes before it.
const invoiceBase = 1767225600 // 2026-01-01 00:00:00 UTC

// fakeInvoices serves GET /v1/invoices (n paid invoices, newest first, paged
// by limit and starting_after, each page computed on demand) and empty
// GET /v1/products and /v1/prices.
type fakeInvoices struct {
	n     atomic.Int64
	users int
}

func (f *fakeInvoices) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != "GET" {
		return false
	}
	switch r.URL.Path {
	case "/v1/products", "/v1/prices":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"list","url":%q,"has_more":false,"data":[]}`, r.URL.Path)
		return true
	case "/v1/invoices":
	default:
		return false
	}
	n := int(f.n.Load())
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	top := n // newest first: in_<n>, in_<n-1>, …
	if after := q.Get("starting_after"); after != "" {
		i, err := strconv.Atoi(strings.TrimPrefix(after, "in_"))
		if err != nil {
			http.Error(w, `{"error":{"message":"bad starting_after"}}`, 400)
			return true
		}
		top = i - 1
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	bottom := max(top-limit+1, 1)
	fmt.Fprintf(bw, `{"object":"list","url":"/v1/invoices","has_more":%t,"data":[`, bottom > 1)
	for i := top; i >= bottom; i-- {
		if i != top {
			bw.WriteByte(',')
		}
		created := invoiceBase - int64(n-i)*60
		fmt.Fprintf(bw, `{"id":"in_%06d","object":"invoice","status":"paid","currency":"usd","amount_paid":1200,"created":%d,"customer_email":"customer-%07d@example.com","customer_name":"Bench Customer","status_transitions":{"paid_at":%d},"lines":{"object":"list","has_more":false,"data":[{"id":"il_%06d","object":"line_item","description":"Notebook A5","quantity":1,"amount":1200,"price":{"id":"price_bench","object":"price","unit_amount":1200,"currency":"usd"}}]}}`,
			i, created, (i-1)%max(f.users, 1)+1, created, i)
	}
	bw.WriteString("]}")
	bw.Flush()
	return true
}

var syncLine = regexp.MustCompile(`stripe sync (\w+) \(run [^)]*\): fetched (\d+), created (\d+), updated (\d+), skipped (\d+), failed (\d+)`)

// runSyncCase runs `bin sync stripe --dir dir` against the fake Stripe
// serving n invoices, server stopped, and times it end to end.
func runSyncCase(bin, dir, fakeURL string, fi *fakeInvoices, n int, timeout time.Duration) *batchResult {
	fi.n.Store(int64(n))
	br := &batchResult{Name: "stripe-sync", What: fmt.Sprintf("shopdash sync stripe: %d paid invoices from the fake Stripe, pages of 100", n),
		Count: n, Unit: "invoices/s"}
	cmd := exec.Command(bin, "sync", "stripe", "--dir", dir)
	cmd.Env = append(os.Environ(), "STRIPE_SECRET_KEY=sk_test_bench", "STRIPE_API_BASE="+fakeURL, "SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off")
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Start()
	timedOut := false
	if err == nil {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(timeout):
			// Ctrl-C: the command records the run cancelled and prints its counts.
			timedOut = true
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				err = <-done
			}
		}
	}
	br.Seconds = time.Since(start).Seconds()
	out := buf.String()
	m := syncLine.FindStringSubmatch(string(out))
	if m != nil {
		br.Output = m[0]
		br.Done, _ = strconv.Atoi(m[3])
	} else {
		br.Output = lastLine(string(out))
	}
	if err != nil {
		br.Note = fmt.Sprintf("exit: %v", err)
	}
	if inDB, err := countQuery(dir, `SELECT count(*) FROM orders WHERE stripe_invoice LIKE 'in_%'`); err == nil {
		if m == nil {
			br.Done = inDB
		}
		br.Note = strings.TrimSpace(fmt.Sprintf("%d orders with an in_ invoice in data.db after the command; %s", inDB, br.Note))
	}
	if timedOut {
		br.Note = fmt.Sprintf("stopped with SIGINT after the %s cap (rate = orders created so far / seconds); %s", timeout, br.Note)
	}
	br.OK = err == nil && m != nil && m[1] == "succeeded" && br.Done == n
	if br.Seconds > 0 {
		br.Rate = float64(br.Done) / br.Seconds
	}
	log.Printf("stripe-sync %d invoices: %.1f s, %.0f invoices/s; %s", n, br.Seconds, br.Rate, br.Output)
	return br
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// pbID is a PocketBase-like record id: 15 characters of [a-z0-9].
func pbID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 15)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// queueEmails replaces the shop's email_jobs with n queued order_paid jobs
// for n distinct orders, due in the past, straight in data.db (server
// stopped). The jobs the other cases queued (webhooks pay orders) are
// deleted first so the sink only sees the bench's jobs.
func queueEmails(dir string, n int) error {
	db, err := openDB(dir, "data.db")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, user FROM orders ORDER BY rowid LIMIT ?`, n)
	if err != nil {
		return err
	}
	type order struct{ id, user string }
	var orders []order
	for rows.Next() {
		var o order
		if err := rows.Scan(&o.id, &o.user); err != nil {
			rows.Close()
			return err
		}
		orders = append(orders, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(orders) < n {
		return fmt.Errorf("only %d orders for %d email jobs", len(orders), n)
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM email_jobs`); err != nil {
		return err
	}
	st, err := tx.Prepare(`INSERT INTO email_jobs (id, "order", user, recipient, template, language, status, attempts, next_attempt, last_error, sent_at, created, updated)
		VALUES (?, ?, ?, 'customer@example.com', 'order_paid', 'en', 'queued', 0, ?, '', '', ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	const stamp = "2026-01-01 00:00:00.000Z"
	for _, o := range orders {
		if _, err := st.Exec(pbID(), o.id, o.user, stamp, stamp, stamp); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// smtpSink is a minimal SMTP server that accepts every message and counts
// those with the bench's recipient.
type smtpSink struct {
	ln    net.Listener
	count atomic.Int64
	total atomic.Int64
}

func startSMTPSink() (*smtpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &smtpSink{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.handle(c)
		}
	}()
	return s, nil
}

func (s *smtpSink) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(l string) bool {
		w.WriteString(l + "\r\n")
		return w.Flush() == nil
	}
	if !reply("220 bench-sink ESMTP") {
		return
	}
	ours := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "HELO"), strings.HasPrefix(cmd, "EHLO"):
			reply("250 bench-sink")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RSET"):
			ours = false
			reply("250 OK")
		case strings.HasPrefix(cmd, "RCPT"):
			if strings.Contains(cmd, "<CUSTOMER@EXAMPLE.COM>") {
				ours = true
			}
			reply("250 OK")
		case strings.HasPrefix(cmd, "NOOP"):
			reply("250 OK")
		case strings.HasPrefix(cmd, "DATA"):
			reply("354 end with .")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
			}
			s.total.Add(1)
			if ours {
				s.count.Add(1)
			}
			ours = false
			reply("250 OK queued")
		case strings.HasPrefix(cmd, "QUIT"):
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// runEmailCase queues n emails, starts the server with the SMTP sink and
// times server start to the sink having n of them.
func runEmailCase(bin, dir string, env []string, n int, timeout time.Duration) (*batchResult, error) {
	br := &batchResult{Name: "email-drain", What: fmt.Sprintf("outbox drains %d queued order_paid emails to an in-process SMTP sink", n),
		Count: n, Unit: "emails/s"}
	if err := queueEmails(dir, n); err != nil {
		return nil, fmt.Errorf("queue emails: %w", err)
	}
	sink, err := startSMTPSink()
	if err != nil {
		return nil, err
	}
	defer sink.ln.Close()
	env = append(append([]string(nil), env...), "SHOPDASH_SMTP_URL=smtp://"+sink.ln.Addr().String())
	start := time.Now()
	srv, err := startServer(bin, dir, env)
	if err != nil {
		return nil, err
	}
	for sink.count.Load() < int64(n) && time.Since(start) < timeout {
		time.Sleep(5 * time.Millisecond)
	}
	br.Seconds = time.Since(start).Seconds()
	br.Done = int(sink.count.Load())
	br.Rate = float64(br.Done) / br.Seconds
	peak := srv.peakMB()
	time.Sleep(500 * time.Millisecond) // let the last outcomes be saved
	srv.stop()
	sent, err := countSent(dir)
	if err != nil {
		return nil, err
	}
	br.OK = br.Done >= n && sent >= n
	br.Note = fmt.Sprintf("server start to %d messages at the sink (start-up %.0f ms included); sink saw %d messages in all; %d jobs status sent after stop; peak RSS %.1f MB",
		br.Done, ms(srv.startup), sink.total.Load(), sent, peak)
	if !br.OK {
		br.Note = fmt.Sprintf("timed out after %s; ", timeout) + br.Note
	}
	log.Printf("email-drain %d emails: %.1f s, %.0f emails/s (%s)", n, br.Seconds, br.Rate, br.Note)
	return br, nil
}

func countSent(dir string) (int, error) {
	return countQuery(dir, `SELECT count(*) FROM email_jobs WHERE status = 'sent'`)
}

func countQuery(dir, query string) (int, error) {
	db, err := openDB(dir, "data.db")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(query).Scan(&n)
	return n, err
}

// clearRequestLogs empties PocketBase's request log (auxiliary.db) of a
// stopped server, so that every case starts alike: after the 330,000
// requests of the read cases, a full log slowed the webhooks measured
// after them by about 12% (1,832 → 1,612 events/s), whatever the webhook
// code did.
func clearRequestLogs(dir string) error {
	db, err := openDB(dir, "auxiliary.db")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, stmt := range []string{"DELETE FROM _logs", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := db.Exec(stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// openDB opens one of a stopped server's databases in its data directory.
func openDB(dir, file string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+filepath.Join(dir, file)+"?_pragma=busy_timeout(10000)")
}
