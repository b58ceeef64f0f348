package backups

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Under Litestream (deploy/litestream.yml) a TRUNCATE checkpoint of
// data.db cannot finish: Litestream holds a read transaction on the
// write-ahead log at all times. SQLite's TRUNCATE checkpoint takes the
// write lock and then waits for readers for as long as the connection's
// busy timeout (10 s, sqlite.go), and PocketBase asks for one at the end
// of every backup and in its nightly optimize job. Measured under
// Litestream: a backup took 11–18 s instead of 0.5 s, purchases made
// meanwhile waited as long, and one failed. The shop lets those
// checkpoints wait briefly instead: they end busy (PocketBase ignores that;
// Litestream checkpoints data.db itself every minute) and writes wait a
// second at most.

// checkpointPatience is how long the writing connection waits for a lock
// while a backup or the nightly optimize job runs.
const checkpointPatience = time.Second

// optimizeJob is PocketBase's nightly job that checkpoints and optimizes
// the databases (core/base.go), at its time.
const (
	optimizeJob      = "__pbDBOptimize__"
	optimizeSchedule = "0 0 * * *"
)

// registerBriefCheckpoints makes backups and the nightly optimize job run
// with a brief busy timeout on the writing connection.
func registerBriefCheckpoints(app core.App) {
	app.OnBackupCreate().BindFunc(func(e *core.BackupEvent) error {
		return withBriefWriterWaits(e.App, e.Next)
	})
	// Replaces PocketBase's job (same id, time and statements).
	_ = app.Cron().Add(optimizeJob, optimizeSchedule, func() {
		if err := withBriefWriterWaits(app, func() error { optimizeDatabases(app); return nil }); err != nil {
			app.Logger().Warn("nightly optimize", "error", err.Error())
		}
	})
}

// optimizeDatabases checkpoints both databases and optimizes data.db, as
// PocketBase's nightly job does; a statement that fails is logged (a busy
// checkpoint under Litestream is expected).
func optimizeDatabases(app core.App) {
	for _, q := range []struct {
		db   dbx.Builder
		stmt string
	}{
		{app.NonconcurrentDB(), "PRAGMA wal_checkpoint(TRUNCATE)"},
		{app.AuxNonconcurrentDB(), "PRAGMA wal_checkpoint(TRUNCATE)"},
		{app.NonconcurrentDB(), "PRAGMA optimize"},
	} {
		if _, err := q.db.NewQuery(q.stmt).Execute(); err != nil {
			app.Logger().Warn("nightly optimize", "statement", q.stmt, "error", err.Error())
		}
	}
}

// withBriefWriterWaits runs fn with the writing connection's busy timeout
// at checkpointPatience, and sets it back after.
func withBriefWriterWaits(app core.App, fn func() error) error {
	writer := app.NonconcurrentDB()
	var before int
	if err := writer.NewQuery("PRAGMA busy_timeout").Row(&before); err != nil {
		return fmt.Errorf("read busy_timeout: %w", err)
	}
	if _, err := writer.NewQuery(fmt.Sprintf("PRAGMA busy_timeout = %d", checkpointPatience.Milliseconds())).Execute(); err != nil {
		return fmt.Errorf("set busy_timeout: %w", err)
	}
	defer func() {
		if _, err := writer.NewQuery(fmt.Sprintf("PRAGMA busy_timeout = %d", before)).Execute(); err != nil {
			app.Logger().Error("restore busy_timeout", "error", err.Error())
		}
	}()
	return fn()
}
