package realtime

import (
	"sync"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// maxQueuedMessages is how many events a connection may fall behind by.
// A reader that falls further behind (a stalled or hostile client) is
// disconnected: the SDK reconnects and subscribes again, and the shop
// holds no pile of messages, or of goroutines, for it.
const maxQueuedMessages = 256

// mailbox delivers a connection's events in the order they were posted,
// from one goroutine that runs only while there is something to send.
// PocketBase starts a goroutine per message instead, which loses the
// order and grows without bound behind a reader that stops reading.
type mailbox struct {
	client subscriptions.Client
	// disconnect ends the client's connection.
	disconnect func()

	mu      sync.Mutex
	queue   []subscriptions.Message
	sending bool
	closed  bool
}

func newMailbox(client subscriptions.Client, disconnect func()) *mailbox {
	return &mailbox{client: client, disconnect: disconnect}
}

// post queues a message; it never blocks the writer that posts it.
func (m *mailbox) post(msg subscriptions.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if len(m.queue) >= maxQueuedMessages {
		m.closed = true
		m.queue = nil
		m.disconnect()
		return
	}
	m.queue = append(m.queue, msg)
	if !m.sending {
		m.sending = true
		go m.drain()
	}
}

// drain sends the queued messages one by one until none is left.
func (m *mailbox) drain() {
	for {
		m.mu.Lock()
		if len(m.queue) == 0 || m.closed {
			m.sending = false
			m.queue = nil
			m.mu.Unlock()
			return
		}
		msg := m.queue[0]
		m.queue[0] = subscriptions.Message{}
		m.queue = m.queue[1:]
		m.mu.Unlock()
		m.client.Send(msg)
	}
}

// close drops what is queued and refuses what is posted after.
func (m *mailbox) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.queue = nil
}
