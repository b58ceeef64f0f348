package realtime

import (
	"fmt"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// TestMailboxKeepsTheOrder: a connection reads its events in the order
// they were posted.
func TestMailboxKeepsTheOrder(t *testing.T) {
	client := subscriptions.NewDefaultClient()
	box := newMailbox(client, func() { t.Error("a reader that keeps up was disconnected") })
	const n = 200
	for i := range n {
		box.post(subscriptions.Message{Name: fmt.Sprint(i)})
	}
	for i := range n {
		select {
		case msg := <-client.Channel():
			if msg.Name != fmt.Sprint(i) {
				t.Fatalf("message %d was %s", i, msg.Name)
			}
		case <-time.After(time.Second):
			t.Fatalf("message %d never came", i)
		}
	}
}

// TestAStalledReaderIsDisconnected: a connection that stops reading is
// discarded once it falls maxQueuedMessages behind, and the writers that
// post to it never wait.
func TestAStalledReaderIsDisconnected(t *testing.T) {
	client := subscriptions.NewDefaultClient()
	disconnected := make(chan struct{})
	box := newMailbox(client, func() { close(disconnected) })
	done := make(chan struct{})
	go func() {
		for i := range maxQueuedMessages + 2 {
			box.post(subscriptions.Message{Name: fmt.Sprint(i)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("posting to a stalled reader blocked")
	}
	select {
	case <-disconnected:
	default:
		t.Fatal("a reader more than maxQueuedMessages behind is still connected")
	}
	box.post(subscriptions.Message{Name: "after"})
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.queue) != 0 {
		t.Errorf("a discarded reader still holds %d messages", len(box.queue))
	}
}
