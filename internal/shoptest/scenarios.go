package shoptest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
)

// AfterFunc is the shape of ApiScenario.AfterTestFunc.
type AfterFunc = func(t testing.TB, app *tests.TestApp, res *http.Response)

// AfterAll runs several database checks after one request.
func AfterAll(checks ...AfterFunc) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		for _, check := range checks {
			check(t, app, res)
		}
	}
}

// ExpectAuditRows checks how many audit_log rows carry action, on target
// when target is not "".
func ExpectAuditRows(action, target string, want int) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		where := dbx.HashExp{c.AuditAction: action}
		if target != "" {
			where[c.AuditTarget] = target
		}
		got, err := app.CountRecords(c.AuditLog, where)
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Fatalf("audit_log has %d %q rows on %q, want %d", got, action, target, want)
		}
	}
}

// ExpectStored checks one field of a record as the database holds it.
func ExpectStored(collection, id, field string, want any) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		record, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatalf("%s/%s: %v", collection, id, err)
		}
		if got := fmt.Sprint(record.Get(field)); got != fmt.Sprint(want) {
			t.Fatalf("%s/%s %s = %q, want %q", collection, id, field, got, fmt.Sprint(want))
		}
	}
}

// ExpectGone checks that a record no longer exists.
func ExpectGone(collection, id string) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		if _, err := app.FindRecordById(collection, id); err == nil {
			t.Fatalf("%s/%s still exists", collection, id)
		}
	}
}

// ExpectRecordCount checks how many records a collection holds.
func ExpectRecordCount(collection string, want int) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		got, err := app.CountRecords(collection)
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Fatalf("%s has %d records, want %d", collection, got, want)
		}
	}
}

// SeededRecord reads a record of the template shop, to compare a field
// with after a refused change.
func SeededRecord(t *testing.T, collection, id string) *core.Record {
	t.Helper()
	app := NewApp(t)
	defer app.Cleanup()
	record, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatal(err)
	}
	return record
}

func RunScenarios(t *testing.T, scenarios []tests.ApiScenario) {
	t.Helper()
	for _, s := range scenarios {
		s.TestAppFactory = Factory
		s.Test(t)
	}
}

func IDJSON(id string) string { return fmt.Sprintf(`"id":%q`, id) }

// ExpectAuditEntry finds the one audit_log row of action and checks its
// actor and that its data holds every wanted fragment and none of the
// forbidden ones (personal data).
func ExpectAuditEntry(action, actor string, want, forbidden []string) AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		entries, err := app.FindAllRecords(c.AuditLog, dbx.HashExp{c.AuditAction: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%d %q entries, want 1", len(entries), action)
		}
		if got := entries[0].GetString(c.AuditActor); got != actor {
			t.Errorf("actor %q, want %q", got, actor)
		}
		data := entries[0].GetString(c.AuditData)
		for _, w := range want {
			if !strings.Contains(data, w) {
				t.Errorf("data %s lacks %s", data, w)
			}
		}
		for _, f := range forbidden {
			if strings.Contains(data, f) {
				t.Errorf("data %s holds %s", data, f)
			}
		}
	}
}
