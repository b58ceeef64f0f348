package main

import (
	"path/filepath"
	"testing"
)

// TestSQLitePragmas: a connection of the driver this binary is built
// with carries the shop's pragmas, the page cache among them.
func TestSQLitePragmas(t *testing.T) {
	db, err := dbConnect(filepath.Join(t.TempDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"cache_size", "-2000"},
	} {
		var got string
		if err := db.NewQuery("PRAGMA " + tc.pragma).Row(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}
