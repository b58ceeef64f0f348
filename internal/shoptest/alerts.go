package shoptest

import (
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/tests"
)

// AwaitAlerts waits for the operator alerts the shop mails in the
// background: until want of them arrived, or two seconds passed (a tenth
// of one when none are wanted, to see that none come), and returns the
// messages' subjects and texts.
func AwaitAlerts(app *tests.TestApp, want int) []string {
	wait := 2 * time.Second
	if want == 0 {
		wait = 100 * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	for {
		var alerts []string
		for _, m := range app.TestMailer.Messages() {
			if len(m.To) == 1 && m.To[0].Address == "ops@example.com" {
				alerts = append(alerts, m.Subject+" "+m.Text)
			}
		}
		if (want > 0 && len(alerts) >= want) || time.Now().After(deadline) {
			if want > 0 {
				time.Sleep(50 * time.Millisecond) // and no more than wanted
				return awaitAlertsNow(app)
			}
			return alerts
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// awaitAlertsNow is the alerts mailed so far.
func awaitAlertsNow(app *tests.TestApp) []string {
	var alerts []string
	for _, m := range app.TestMailer.Messages() {
		if len(m.To) == 1 && m.To[0].Address == "ops@example.com" {
			alerts = append(alerts, m.Subject+" "+m.Text)
		}
	}
	return alerts
}

// AlertsTo counts the messages the operator got about subject.
func AlertsTo(messages []string, subject string) int {
	n := 0
	for _, m := range messages {
		if strings.Contains(m, subject) {
			n++
		}
	}
	return n
}
