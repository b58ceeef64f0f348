// Package groupcommit applies work queued for the shop's one writer in
// batches, a transaction each: under a burst the callers wait for the
// writer anyway, and one transaction for many costs the writer less than
// one for each. The Stripe webhook's events and the outgoing webhooks'
// outcomes go through it.
//
// A Batcher has no goroutine of its own: the first caller to find no
// batch under way leads. It applies batches of what is queued, oldest
// first, until its own item has been applied, then hands the lead to the
// oldest caller still waiting, so no caller serves others' work for longer
// than its own batch and the one before it.
package groupcommit

import "sync"

// Batcher queues items for apply. Max bounds a batch (1 when less).
type Batcher[T any] struct {
	Max int

	mu      sync.Mutex
	queue   []*waiter[T]
	leading bool
}

// waiter is one caller's item. lead is signalled when the caller is to
// lead; done is closed once a batch holding the item has been applied.
type waiter[T any] struct {
	item T
	lead chan struct{}
	done chan struct{}
}

// Do returns once apply has been called with a batch that holds item, by
// this caller or another. One apply runs at a time, on at most Max items
// in the order they were queued; it sets what each item is to tell its
// caller. If apply panics, the panic is the leader's, and the lead and
// the batch's waiters are released first.
func (b *Batcher[T]) Do(item T, apply func(batch []T)) {
	w := &waiter[T]{item: item, lead: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if b.leading {
		b.mu.Unlock()
		select {
		case <-w.done:
			return
		case <-w.lead:
		}
	} else {
		b.leading = true
		b.mu.Unlock()
	}
	defer b.handOn()
	for {
		b.mu.Lock()
		select {
		case <-w.done:
			b.mu.Unlock()
			return
		default:
		}
		n := min(len(b.queue), max(b.Max, 1))
		batch := b.queue[:n:n]
		b.queue = append(b.queue[:0:0], b.queue[n:]...)
		b.mu.Unlock()
		applyBatch(batch, apply)
	}
}

// applyBatch applies batch and then releases its waiters, also when apply
// panics.
func applyBatch[T any](batch []*waiter[T], apply func([]T)) {
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	items := make([]T, len(batch))
	for i, w := range batch {
		items[i] = w.item
	}
	apply(items)
}

// handOn passes the lead to the oldest caller still waiting, or ends it.
func (b *Batcher[T]) handOn() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) > 0 {
		b.queue[0].lead <- struct{}{}
	} else {
		b.leading = false
	}
}
