package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEveryItemIsAppliedOnceInBoundedBatches: 200 callers at once; each
// item is in exactly one batch, no batch is over Max, no two batches run
// at once, and each caller returns after its own batch.
func TestEveryItemIsAppliedOnceInBoundedBatches(t *testing.T) {
	b := &Batcher[*int]{Max: 8}
	var (
		running atomic.Int32
		mu      sync.Mutex
		seen    = map[*int]int{}
		batches int
	)
	apply := func(batch []*int) {
		if running.Add(1) != 1 {
			t.Error("two batches ran at once")
		}
		defer running.Add(-1)
		if len(batch) == 0 || len(batch) > 8 {
			t.Errorf("a batch of %d", len(batch))
		}
		time.Sleep(time.Millisecond) // the others queue meanwhile
		mu.Lock()
		batches++
		for _, item := range batch {
			seen[item]++
			*item = 1
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			item := new(int)
			b.Do(item, apply)
			if *item != 1 {
				t.Error("Do returned before the item's batch was applied")
			}
		})
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("%d items applied, want 200", len(seen))
	}
	for _, n := range seen {
		if n != 1 {
			t.Fatalf("an item applied %d times", n)
		}
	}
	if batches >= 200 {
		t.Errorf("%d batches for 200 items queued at once: nothing was grouped", batches)
	}
}

// TestAPanicReleasesTheOthers: the leader's apply panics; the panic is
// the leader's, and the callers queued behind it are still served.
func TestAPanicReleasesTheOthers(t *testing.T) {
	b := &Batcher[int]{Max: 1}
	inside := make(chan struct{})
	release := make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		b.Do(0, func([]int) {
			close(inside)
			<-release
			panic("boom")
		})
	}()
	<-inside
	done := make(chan int, 1)
	go b.Do(1, func(batch []int) { done <- batch[0] })
	time.Sleep(10 * time.Millisecond) // queued behind the leader
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("the leader recovered %v, want its panic", p)
	}
	select {
	case got := <-done:
		if got != 1 {
			t.Fatalf("applied %d, want 1", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller queued behind a panicking batch was never served")
	}
}
