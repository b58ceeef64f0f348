package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
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

// TestWriterIsTuned: after bootstrap the writing connection has its own
// cache, and the reading ones keep the shop's pragmas; both checkpoint at
// SQLite's default (only the sync raises it, for its run).
func TestWriterIsTuned(t *testing.T) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir(), DBConnect: dbConnect})
	app.OnBootstrap().BindFunc(tuneWriter)
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	pragma := func(db dbx.Builder, name string) string {
		t.Helper()
		var got string
		if err := db.NewQuery("PRAGMA " + name).Row(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return got
	}
	for _, tc := range []struct {
		db         dbx.Builder
		role, name string
		want       string
	}{
		{app.NonconcurrentDB(), "writer", "cache_size", fmt.Sprint(-writerCacheKiB)},
		{app.NonconcurrentDB(), "writer", "wal_autocheckpoint", "1000"},
		{app.ConcurrentDB(), "reader", "cache_size", "-2000"},
		{app.ConcurrentDB(), "reader", "wal_autocheckpoint", "1000"},
	} {
		if got := pragma(tc.db, tc.name); got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.role, tc.name, got, tc.want)
		}
	}
}

// TestTransactionsTakeTheWriteLockFirst: a transaction of the shop that
// reads, then writes after another process wrote meanwhile (Litestream
// does, while it replicates), commits; begun deferred it failed with
// SQLITE_BUSY_SNAPSHOT. The other writer waits for it instead.
func TestTransactionsTakeTheWriteLockFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	shop, err := dbConnect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer shop.Close()
	other, err := dbConnect(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := shop.NewQuery("CREATE TABLE seq (n INTEGER)").Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := shop.NewQuery("INSERT INTO seq VALUES (1)").Execute(); err != nil {
		t.Fatal(err)
	}

	tx, err := shop.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.NewQuery("SELECT MAX(n) FROM seq").Row(&n); err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan error, 1)
	go func() {
		_, err := other.NewQuery("INSERT INTO seq VALUES (100)").Execute() // outside any transaction: autocommit
		otherDone <- err
	}()
	select {
	case err := <-otherDone:
		t.Fatalf("the other writer wrote while the shop's transaction was open (%v): the transaction is not immediate", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := tx.NewQuery(fmt.Sprintf("INSERT INTO seq VALUES (%d)", n+1)).Execute(); err != nil {
		t.Fatalf("the shop's write: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := <-otherDone; err != nil {
		t.Fatalf("the other writer, after the commit: %v", err)
	}
}
