package collections

import "fmt"

// AuditLog records every change a person makes that is not to their own
// profile. Support may read it; nobody edits it through the API.
const AuditLog = "audit_log"

// Fields of audit_log.
const (
	AuditActor   = "actor"
	AuditAction  = "action"
	AuditTarget  = "target"
	AuditData    = "data"
	AuditCreated = "created"
)

// Access rules of audit_log.
const (
	AuditLogListRule = `@request.auth.role = "support"`
	AuditLogViewRule = AuditLogListRule
)

// AuditRef names a record in audit_log's actor and target fields, as
// "collection/id", so entries stay readable after the record is gone.
func AuditRef(collection, id string) string {
	return fmt.Sprintf("%s/%s", collection, id)
}
