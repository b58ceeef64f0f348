//go:build no_default_driver

package main

import (
	"database/sql"

	"github.com/mattn/go-sqlite3"
	"github.com/pocketbase/dbx"
)

// With -tags no_default_driver the binary uses the cgo SQLite driver
// (docs/decisions/0004-sqlite-driver.md) with PocketBase's own pragmas.
func init() {
	sql.Register("pb_sqlite3", &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			_, err := conn.Exec(`
				PRAGMA busy_timeout = 10000;
				PRAGMA journal_mode = WAL;
				PRAGMA journal_size_limit = 200000000;
				PRAGMA synchronous = NORMAL;
				PRAGMA foreign_keys = ON;
				PRAGMA temp_store = MEMORY;
				PRAGMA cache_size = -32000;
			`, nil)
			return err
		},
	})
	dbx.BuilderFuncMap["pb_sqlite3"] = dbx.NewSqliteBuilder
	dbConnect = func(dbPath string) (*dbx.DB, error) {
		return dbx.Open("pb_sqlite3", dbPath)
	}
}
