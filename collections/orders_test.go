package collections

import (
	"regexp"
	"testing"
)

func TestOrderStatusMoves(t *testing.T) {
	allowed := map[OrderStatus][]OrderStatus{
		StatusPending:   {StatusPaid, StatusCancelled},
		StatusPaid:      {StatusShipped, StatusCancelled, StatusRefunded},
		StatusShipped:   {StatusDelivered, StatusRefunded},
		StatusDelivered: {StatusRefunded},
		StatusCancelled: {},
		StatusRefunded:  {},
	}
	for _, from := range OrderStatuses {
		for _, to := range OrderStatuses {
			want := from == to
			for _, a := range allowed[from] {
				want = want || a == to
			}
			if got := from.CanMoveTo(to); got != want {
				t.Errorf("%s→%s: CanMoveTo = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestCancellableStatuses(t *testing.T) {
	for _, s := range OrderStatuses {
		want := s == StatusPending || s == StatusPaid
		if got := s.Cancellable(); got != want {
			t.Errorf("%s: Cancellable = %v, want %v", s, got, want)
		}
	}
}

func TestFormatOrderNumber(t *testing.T) {
	shape := regexp.MustCompile(`^SD-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$`)
	seen := map[string]uint64{}
	for _, n := range []uint64{0, 1, 31, 32, 1<<40 - 1, 0xdeadbeefcafe, 1 << 41} {
		got := FormatOrderNumber(n)
		if !shape.MatchString(got) {
			t.Errorf("FormatOrderNumber(%d) = %q, not of the form SD-XXXX-XXXX", n, got)
		}
		if prev, dup := seen[got]; dup && prev&(1<<40-1) != n&(1<<40-1) {
			t.Errorf("%d and %d both give %q", prev, n, got)
		}
		seen[got] = n
	}
}
