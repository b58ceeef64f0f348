package cache

import (
	"database/sql"
	"errors"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"shopdash/internal/prepared"
)

// verifyAuthToken is PocketBase's FindAuthRecordByToken(token,
// core.TokenTypeAuth), step for step, with the record read by a kept
// statement: PocketBase compiles the select of the whole users collection
// on every signed-in request, a sixth of the CPU of a purchases page on a
// customer's first visit (docs/performance.md). The token must be an auth
// token of an auth collection's record, signed with that record's token
// key and the collection's auth-token secret.
func verifyAuthToken(app core.App, stmts *prepared.Statements, token string) (*core.Record, error) {
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return nil, err
	}
	id, _ := claims[core.TokenClaimId].(string)
	collectionID, _ := claims[core.TokenClaimCollectionId].(string)
	tokenType, _ := claims[core.TokenClaimType].(string)
	if id == "" || collectionID == "" || tokenType != core.TokenTypeAuth {
		return nil, errors.New("not an auth token")
	}
	col, err := app.FindCachedCollectionByNameOrId(collectionID)
	if err != nil {
		return nil, err
	}
	if !col.IsAuth() {
		return nil, errors.New("the token is not associated to an auth collection record")
	}
	record, err := stmts.FindRecordBy(app, col.Name, core.FieldNameId, id)
	if err != nil {
		return nil, err
	}
	if record == nil {
		return nil, sql.ErrNoRows
	}
	if _, err := security.ParseJWT(token, record.TokenKey()+col.AuthToken.Secret); err != nil {
		return nil, err
	}
	return record, nil
}
