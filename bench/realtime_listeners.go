package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The realtime case's customers: their SSE connections, each from its own
// source address, and the tally of what every connection received.

// percentile is the q-quantile of ds in ms (0 when empty); it sorts ds.
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ms(ds[max(0, int(math.Ceil(q*float64(len(ds))))-1)])
}

// tally counts the events of every connection of a run.
type tally struct {
	events, foreign, dropped atomic.Int64
	closing                  atomic.Bool
	listening                sync.WaitGroup
	mu                       sync.Mutex
	foreignSample            string
}

// leak counts an event that reached a customer who does not own its order
// (owner "" when the event is no order), keeping the first as a sample:
// ids only, the record itself holds the owner's name and address.
func (t *tally) leak(customer, order, owner string) {
	t.foreign.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.foreignSample == "" {
		t.foreignSample = fmt.Sprintf("customer %s received order %q of customer %q", customer, order, owner)
	}
}

func (t *tally) sample() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.foreignSample
}

// closeAll closes the connections and waits for their readers.
func (t *tally) closeAll(listeners []*listener) {
	t.closing.Store(true)
	for _, l := range listeners {
		if l != nil {
			l.conn.Close()
		}
	}
	t.listening.Wait()
}

// listener is one customer's realtime connection, opened as the JS SDK
// opens it, checking what it hears.
type listener struct {
	customer string
	conn     net.Conn
	events   *bufio.Reader
	tally    *tally
	mu       sync.Mutex
	expected map[string]expectation // order id → the update a save waits for
}

// expectation is a save's update of an order, reported on at when heard.
type expectation struct {
	arrival string
	at      chan time.Time
}

// sourceAddress is the a-th client address: 127.0.0.2, 127.0.0.3, …
func sourceAddress(a int) net.IP {
	k := a + 2
	return net.IPv4(127, byte(k>>16), byte(k>>8), byte(k))
}

// connectCustomers opens a realtime connection for each customer (ids and
// tokens in the same order), connectionsPerAddress from each source
// address, a few addresses at a time.
func connectCustomers(base string, ids, tokens []string, t *tally) ([]*listener, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	listeners := make([]*listener, len(ids))
	addresses := (len(ids) + connectionsPerAddress - 1) / connectionsPerAddress
	errs := make([]error, addresses)
	parallel(addresses, 8, func(a int) {
		from, to := a*connectionsPerAddress, min(len(ids), (a+1)*connectionsPerAddress)
		errs[a] = connectFrom(u.Host, sourceAddress(a), ids[from:to], tokens[from:to], listeners[from:to], t)
	})
	return listeners, errors.Join(errs...)
}

// connectFrom connects the customers from one source address, into
// listeners.
func connectFrom(host string, source net.IP, ids, tokens []string, listeners []*listener, t *tally) error {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: source}, Timeout: 10 * time.Second}
	// The subscription must come from the connection's address.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	for i := range ids {
		l, err := connectCustomer(dialer, client, host, ids[i], tokens[i], t)
		if err != nil {
			return fmt.Errorf("customer %s from %s: %w", ids[i], source, err)
		}
		listeners[i] = l
	}
	return nil
}

// connectCustomer does what the customer page's pb.collection("orders").
// subscribe("*") does: GET /api/realtime, read the PB_CONNECT event's
// clientId, and POST /api/realtime with it, the topic orders/* and the
// customer's token.
func connectCustomer(dialer *net.Dialer, client *http.Client, host, customer, token string, t *tally) (*listener, error) {
	conn, err := dialer.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	l := &listener{customer: customer, conn: conn, tally: t, expected: map[string]expectation{}}
	clientID, err := l.open(host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": []string{"orders/*"}})
	if err != nil {
		conn.Close()
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+host+"/api/realtime", bytes.NewReader(body))
	if err != nil {
		conn.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	resp, err := client.Do(req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		conn.Close()
		return nil, fmt.Errorf("POST /api/realtime: %d %s", resp.StatusCode, answer)
	}
	t.listening.Add(1)
	go l.listen()
	return l, nil
}

// open sends the event stream's request on the connection and returns the
// clientId of its PB_CONNECT event.
func (l *listener) open(host string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+host+"/api/realtime", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	if err := l.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return "", err
	}
	if err := req.Write(l.conn); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(l.conn), req)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("GET /api/realtime: %d %s", resp.StatusCode, answer)
	}
	l.events = bufio.NewReader(resp.Body)
	name, data, err := l.next()
	if err != nil {
		return "", err
	}
	var connect struct {
		ClientID string `json:"clientId"`
	}
	if name != "PB_CONNECT" || json.Unmarshal(data, &connect) != nil || connect.ClientID == "" {
		return "", fmt.Errorf("first event %q %s, not PB_CONNECT", name, data)
	}
	return connect.ClientID, l.conn.SetDeadline(time.Time{})
}

// next reads one server-sent event: its name and data.
func (l *listener) next() (name string, data []byte, err error) {
	for {
		line, err := l.events.ReadBytes('\n')
		if err != nil {
			return "", nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if name != "" || data != nil {
				return name, data, nil
			}
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimPrefix(line[len("data:"):], []byte(" "))...)
		}
	}
}

// listen reads the connection's events until it closes: each must be of
// an order of the connection's customer, and one a save waits for is
// reported to it.
func (l *listener) listen() {
	defer l.tally.listening.Done()
	for {
		_, data, err := l.next()
		if err != nil {
			if !l.tally.closing.Load() {
				l.tally.dropped.Add(1)
			}
			return
		}
		heard := time.Now()
		l.tally.events.Add(1)
		var event struct {
			Record struct {
				ID      string `json:"id"`
				User    string `json:"user"`
				Arrival string `json:"estimated_arrival"`
			} `json:"record"`
		}
		if json.Unmarshal(data, &event) != nil || event.Record.User != l.customer {
			l.tally.leak(l.customer, event.Record.ID, event.Record.User)
			continue
		}
		l.mu.Lock()
		if e, ok := l.expected[event.Record.ID]; ok && e.arrival == event.Record.Arrival {
			e.at <- heard
			delete(l.expected, event.Record.ID)
		}
		l.mu.Unlock()
	}
}

// expect registers a save's update of order; the channel receives the time
// its event arrives.
func (l *listener) expect(order, arrival string) chan time.Time {
	at := make(chan time.Time, 1)
	l.mu.Lock()
	l.expected[order] = expectation{arrival: arrival, at: at}
	l.mu.Unlock()
	return at
}

func (l *listener) forget(order string) {
	l.mu.Lock()
	delete(l.expected, order)
	l.mu.Unlock()
}
