package apidoc

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// authPaths documents the PocketBase route that gives the token.
func authPaths() object {
	return object{"/api/collections/users/auth-with-password": object{"post": operation(
		[]string{"auth"}, "Sign in with email and password", "authWithPassword",
		"PocketBase's sign-in. Staff with MFA on get 401 with an `mfaId` and finish with an emailed code (PocketBase's OTP routes).",
		[]any{queryParameter("expand", "Relations of the record to expand.", object{"type": "string"})},
		object{"required": true, "content": jsonBody(closed(object{
			"identity": text("The email address."),
			"password": text(""),
		}, "identity", "password"))},
		object{
			"200": jsonAnswer("Signed in.", closedAllRequired(object{
				"token":  text("Send it as the Authorization header."),
				"record": ref("Profile"),
			}), nil),
			"400": errorResponse(400),
			"401": jsonAnswer("A second factor is needed (MFA).", closedAllRequired(object{"mfaId": text("")}), nil),
			"429": errorResponse(429),
		},
	)}}
}

// realtimeProse describes the realtime topics: which, and who hears what.
func realtimeProse(cols []*core.Collection) string {
	var followed []string
	for _, col := range cols {
		if col.ListRule != nil || col.ViewRule != nil {
			followed = append(followed, "`"+col.Name+"`")
		}
	}
	return strings.TrimSpace(`
## Realtime

PocketBase's realtime API (` + "`GET /api/realtime`" + ` opens the event stream,
` + "`POST /api/realtime`" + ` sets the connection's topics), through the JS SDK:
` + "`pb.collection(name).subscribe(\"*\" | id, callback, {fields, filter})`" + `.

Topics: ` + "`{collection}/*`" + ` (every record the list rule lets the
listener see) and ` + "`{collection}/{id}`" + ` (one record, under the view rule),
for ` + strings.Join(followed, ", ") + `. Each event is
` + "`{action: \"create\" | \"update\" | \"delete\", record}`" + `, the record as the
records API shows it (schemas *Record below).

Who hears what: a customer their own orders, order items and profile, and
active products; support every order, order item, note, customer, product and
the audit log; store the products; guests active products. The shop delivers
these events itself (ADR 9); the subscribe request answers 403 for another
collection's topic, 400 for a malformed topic, an ` + "`expand`" + ` option or a filter on
` + "`@request`/`@collection`" + `, 429 past 20 filtered topics from one address.
Events of one connection arrive in write order; a connection 256 events
behind is closed (the SDK reconnects). A topic's filter is not applied to
delete events.`)
}
