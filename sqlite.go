package main

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// sqlitePragmas are set on every SQLite connection by both drivers:
// PocketBase's own, except the page cache (docs/performance.md). Each
// connection keeps its own cache, so PocketBase's 32 MB times a pool of
// connections made the memory of a busy shop grow to 300-400 MB, and the
// bench measured no gain over SQLite's default of 2 MB: the operating
// system's file cache already holds the database.
var sqlitePragmas = [][2]string{
	{"busy_timeout", "10000"}, // first, so that setting WAL waits for other connections
	{"journal_mode", "WAL"},
	{"journal_size_limit", "200000000"},
	{"synchronous", "NORMAL"},
	{"foreign_keys", "ON"},
	{"temp_store", "MEMORY"},
	{"cache_size", "-2000"}, // KiB per connection
}

// Both drivers begin transactions IMMEDIATE: a transaction takes the write
// lock when it starts, not at its first write. The shop has one writing
// connection, but Litestream writes to data.db too (its position table)
// while it replicates: a transaction begun as a read that then wrote after
// Litestream's write failed with SQLITE_BUSY_SNAPSHOT (517) after holding
// the writer for seconds, and every write queued behind it (1,000 webhooks
// under Litestream: 32-41 s with a 500 at each stall; immediate: 3.4 s, no
// failure; helper's drill, docs/deployment.md). An immediate transaction
// instead waits its turn under busy_timeout. Reads run outside
// transactions on the reading pool and are not affected.

// writerCacheKiB is the page cache of the one connection that writes
// data.db: unlike the readers', it is not duplicated, and a bulk write (the
// Stripe sync, seeding) re-reads the index pages it changes. 32 MB instead
// of 2 MB took the sync of 100,000 invoices from about 20 s to 18.9 s, and
// seeding the 1,000 x 100 shop from 18.5 to 16.4 s (docs/performance.md).
const writerCacheKiB = 32000

// tuneWriter sets that cache on the writing connection of data.db and
// keeps that connection open for good (PocketBase closes it after three
// idle minutes, and a new one would start with the readers' pragmas).
// Bound to OnBootstrap, after PocketBase has opened the databases.
func tuneWriter(e *core.BootstrapEvent) error {
	if err := e.Next(); err != nil {
		return err
	}
	writer, ok := e.App.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return nil
	}
	writer.DB().SetConnMaxIdleTime(0)
	if _, err := writer.NewQuery(fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB)).Execute(); err != nil {
		return fmt.Errorf("writer cache: %w", err)
	}
	return nil
}
