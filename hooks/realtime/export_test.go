package realtime

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Visible reports whether auth may see record in realtime by the shop's
// own check, and whether the shop delivers its collection at all.
func Visible(record, auth *core.Record) (visible, delivered bool) {
	vis, ok := visibilities[record.Collection().Name]
	if !ok {
		return false, false
	}
	return vis.visible(record, auth), true
}

// Delivered lists the collections the shop delivers.
func Delivered() []string {
	names := make([]string, 0, len(visibilities))
	for name := range visibilities {
		names = append(names, name)
	}
	return names
}

// RecheckAuthEvery sets how often the apps the test makes next compare
// their streams' sign-ins with the database, until the test ends. Not for
// parallel tests.
func RecheckAuthEvery(t *testing.T, every time.Duration) {
	old := authRecheckEvery
	authRecheckEvery = every
	t.Cleanup(func() { authRecheckEvery = old })
}
