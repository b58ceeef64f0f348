//go:build !no_default_driver

package main

import (
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
)

// The default build uses PocketBase's pure-Go driver, modernc.org/sqlite,
// with the shop's pragmas and immediate transactions (sqlite.go).
func init() {
	dbConnect = func(dbPath string) (*dbx.DB, error) {
		return dbx.Open("sqlite", dbPath+"?"+sqlitePragmaQuery()+"&_defensive=1&_txlock=immediate")
	}
}

// sqlitePragmaQuery is sqlitePragmas as the _pragma parameters of a
// modernc.org/sqlite data source name.
func sqlitePragmaQuery() string {
	params := make([]string, len(sqlitePragmas))
	for i, p := range sqlitePragmas {
		params[i] = fmt.Sprintf("_pragma=%s(%s)", p[0], p[1])
	}
	return strings.Join(params, "&")
}
