package main

import "runtime"

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

// readConnections is the size of the pool of reading connections to
// data.db, always open. SQLite reads in parallel only as far as there are
// cores; PocketBase's default (up to 120 open, 15 kept idle) had a busy shop
// open and close connections, each with a cold cache, and queue dozens of
// queries on two cores: fewer connections answered more requests, with a
// p99 half as long.
func readConnections() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}
