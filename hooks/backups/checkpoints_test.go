package backups_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"shopdash/hooks/backups"
	"shopdash/internal/shoptest"
)

// holdReader keeps a read transaction open on the app's data.db from
// another connection, as Litestream does, after a write has put frames in
// the write-ahead log.
func holdReader(t *testing.T, app *tests.TestApp) {
	t.Helper()
	if _, err := app.NonconcurrentDB().NewQuery("UPDATE products SET stock = stock + 1").Execute(); err != nil {
		t.Fatal(err)
	}
	reader, err := core.DefaultDBConnect(filepath.Join(app.DataDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.NewQuery("SELECT count(*) FROM products").Row(&n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tx.Rollback()
		_ = reader.Close()
	})
}

func busyTimeout(t *testing.T, db dbx.Builder) int {
	t.Helper()
	var ms int
	if err := db.NewQuery("PRAGMA busy_timeout").Row(&ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestBackupUnderAReaderIsBrief: with a reader holding the log open (as
// Litestream always does), a backup's closing checkpoint gives up after a
// second instead of holding the write lock for the busy timeout (10 s),
// and the writer's busy timeout is back afterwards.
func TestBackupUnderAReaderIsBrief(t *testing.T) {
	t.Parallel()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	backups.Register(app, backups.Config{}, core.DefaultDBConnect)
	before := busyTimeout(t, app.NonconcurrentDB())
	var during int
	app.OnBackupCreate().BindFunc(func(e *core.BackupEvent) error {
		during = busyTimeout(t, e.App.NonconcurrentDB())
		return e.Next()
	})
	holdReader(t, app)

	started := time.Now()
	if err := app.CreateBackup(context.Background(), "under_reader.zip"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(started)
	if took > 5*time.Second || during != 1000 || busyTimeout(t, app.NonconcurrentDB()) != before {
		t.Fatalf("backup under a reader took %s with busy_timeout %d ms (before %d, after %d)",
			took, during, before, busyTimeout(t, app.NonconcurrentDB()))
	}
}

// TestNightlyOptimizeUnderAReaderIsBrief: PocketBase's nightly optimize
// job, replaced by the shop's, gives up its checkpoint after a second
// under a reader.
func TestNightlyOptimizeUnderAReaderIsBrief(t *testing.T) {
	t.Parallel()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	backups.Register(app, backups.Config{}, core.DefaultDBConnect)
	holdReader(t, app)
	for _, job := range app.Cron().Jobs() {
		if job.Id() != "__pbDBOptimize__" {
			continue
		}
		started := time.Now()
		job.Run()
		if took := time.Since(started); took > 5*time.Second {
			t.Fatalf("the nightly optimize took %s under a reader", took)
		}
		return
	}
	t.Fatal("no nightly optimize job")
}
