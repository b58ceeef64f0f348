// Package audit writes audit_log: every change a person makes that is not
// their own profile, in the transaction of the change.
package audit

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// Write appends one entry to audit_log.
func Write(app core.App, actor, action, target string, data map[string]any) error {
	col, err := app.FindCachedCollectionByNameOrId(c.AuditLog)
	if err != nil {
		return err
	}
	entry := core.NewRecord(col)
	entry.Set(c.AuditActor, actor)
	entry.Set(c.AuditAction, action)
	entry.Set(c.AuditTarget, target)
	entry.Set(c.AuditData, data)
	if err := app.Save(entry); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, target, err)
	}
	return nil
}

// Actor names the person behind a request for audit_log.
func Actor(auth *core.Record) string {
	if auth == nil {
		return "guest"
	}
	return c.AuditRef(auth.Collection().Name, auth.Id)
}

// Request runs a records-API write and its audit entry in one
// transaction, so neither lands without the other. describe is called after
// the write and returns the entry's action and data; an empty action writes
// nothing.
func Request(e *core.RecordRequestEvent, describe func() (string, map[string]any)) error {
	return e.App.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := e.Next(); err != nil {
			return err
		}
		action, data := describe()
		if action == "" {
			return nil
		}
		return Write(tx, Actor(e.Auth), action, c.AuditRef(e.Collection.Name, e.Record.Id), data)
	})
}

// Verb names a records-API write by its HTTP method.
func Verb(e *core.RecordRequestEvent) string {
	switch e.Request.Method {
	case http.MethodPost:
		return "create"
	case http.MethodDelete:
		return "delete"
	}
	return "update"
}

// Writes returns a request hook that records every records-API write
// as "<subject>.<create|update|delete>" with the names of the fields an
// update changed: names only, as values may be personal data.
func Writes(subject string) func(*core.RecordRequestEvent) error {
	return func(e *core.RecordRequestEvent) error {
		verb := Verb(e)
		return Request(e, func() (string, map[string]any) {
			if verb != "update" {
				return subject + "." + verb, map[string]any{}
			}
			names := ChangedFieldNames(e.Record)
			if len(names) == 0 {
				return "", nil
			}
			return subject + ".update", map[string]any{"fields": names}
		})
	}
}

// ChangedFieldNames lists the fields a write changed, but for the
// automatic updated date.
func ChangedFieldNames(record *core.Record) []string {
	var names []string
	for name := range ChangedFields(record, record.Collection().Fields.FieldNames()...) {
		if name != "updated" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// ChangedFields lists, for the given fields, the old and new value of each
// one the write changed.
func ChangedFields(record *core.Record, fields ...string) map[string]any {
	changes := map[string]any{}
	original := record.Original()
	for _, f := range fields {
		before, after := original.Get(f), record.Get(f)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			changes[f] = map[string]any{"from": before, "to": after}
		}
	}
	return changes
}
