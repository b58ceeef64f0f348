package shoptest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Stream is a realtime connection over HTTP, as the SDK opens it.
type Stream struct {
	id     string
	events chan string
	// Close ends the connection (also done when the test ends).
	Close context.CancelFunc
}

// OpenStream connects to the shop at url's realtime endpoint, reads the
// client id of PB_CONNECT and passes the names of later events on.
func OpenStream(t *testing.T, url string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/realtime", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stream{events: make(chan string, 16), Close: func() { cancel(); res.Body.Close() }}
	t.Cleanup(s.Close)
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data:"); ok {
			var connect struct {
				ClientID string `json:"clientId"`
			}
			if err := json.Unmarshal([]byte(data), &connect); err != nil {
				t.Fatal(err)
			}
			s.id = connect.ClientID
			break
		}
	}
	go func() {
		for lines.Scan() {
			if name, ok := strings.CutPrefix(lines.Text(), "event:"); ok {
				s.events <- name
			}
		}
		close(s.events)
	}()
	return s
}

// Subscribe sets the stream's topics with the token, and fails the test
// unless the shop answers 204.
func (s *Stream) Subscribe(t *testing.T, url, token string, topics ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"clientId": s.id, "subscriptions": topics})
	req, _ := http.NewRequest(http.MethodPost, url+"/api/realtime", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("subscribe %v: %d", topics, res.StatusCode)
	}
}

// Heard is the names of the events that arrive within a short while.
func (s *Stream) Heard() []string {
	var names []string
	for {
		select {
		case name, ok := <-s.events:
			if !ok {
				return names
			}
			names = append(names, name)
		case <-time.After(300 * time.Millisecond):
			return names
		}
	}
}
