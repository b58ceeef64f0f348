//go:build no_default_driver

package main

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"
	"github.com/pocketbase/dbx"
)

// With -tags no_default_driver the binary uses the cgo SQLite driver
// (docs/decisions/0004-sqlite-driver.md) with the shop's pragmas and
// immediate transactions (sqlite.go).
func init() {
	sql.Register("pb_sqlite3", &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			_, err := conn.Exec(sqlitePragmaStatements(), nil)
			return err
		},
	})
	dbx.BuilderFuncMap["pb_sqlite3"] = dbx.NewSqliteBuilder
	dbConnect = func(dbPath string) (*dbx.DB, error) {
		return dbx.Open("pb_sqlite3", dbPath+"?_txlock=immediate")
	}
}

// sqlitePragmaStatements is sqlitePragmas as SQL statements.
func sqlitePragmaStatements() string {
	var b strings.Builder
	for _, p := range sqlitePragmas {
		fmt.Fprintf(&b, "PRAGMA %s = %s;\n", p[0], p[1])
	}
	return b.String()
}
