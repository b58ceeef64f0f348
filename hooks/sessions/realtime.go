package sessions

import (
	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/realtime"
)

// watchRealtimeSession ends a realtime connection's sign-in when the
// session it subscribed with ends: past it the connection hears what a
// guest hears, without reconnecting, until it subscribes again with a
// token of a live session (an ended one is refused by checkSession). A
// revoke ends it sooner: the new token key ends the sign-in of the
// account's connections (hooks/realtime).
func (p *Policy) watchRealtimeSession(e *core.RealtimeSubscribeRequestEvent) error {
	at := SignedInAt(e.RequestEvent)
	if at.IsZero() || e.Auth == nil {
		realtime.WatchSession(e.Client, nil)
		return e.Next()
	}
	end := at.Add(p.maxFor(e.Auth))
	realtime.WatchSession(e.Client, func() bool { return !p.now().Before(end) })
	return e.Next()
}
