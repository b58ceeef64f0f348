package hooks

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// writeAudit appends one entry to audit_log.
func writeAudit(app core.App, actor, action, target string, data map[string]any) error {
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

// actorRef names the person behind a request for audit_log.
func actorRef(auth *core.Record) string {
	if auth == nil {
		return "guest"
	}
	return c.AuditRef(auth.Collection().Name, auth.Id)
}

// auditedRequest runs a records-API write and its audit entry in one
// transaction, so neither lands without the other. describe is called after
// the write and returns the entry's action and data; an empty action writes
// nothing.
func auditedRequest(e *core.RecordRequestEvent, describe func() (string, map[string]any)) error {
	return e.App.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := e.Next(); err != nil {
			return err
		}
		action, data := describe()
		if action == "" {
			return nil
		}
		return writeAudit(tx, actorRef(e.Auth), action, c.AuditRef(e.Collection.Name, e.Record.Id), data)
	})
}

// changedFields lists, for the given fields, the old and new value of each
// one the write changed.
func changedFields(record *core.Record, fields ...string) map[string]any {
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
