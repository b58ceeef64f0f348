package backups_test

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/backups"
	"shopdash/internal/shoptest"
)

// TestBackupConfigFromEnv reads SHOPDASH_BACKUP_CRON and
// SHOPDASH_BACKUP_KEEP: unset leaves the settings alone, a bad schedule or
// count stops the start with the variable's name.
func TestBackupConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		cron, keep string
		want       backups.Config
		wantErr    string
	}{
		{"", "", backups.Config{}, ""},
		{" 30 3 * * * ", "7", backups.Config{Cron: "30 3 * * *", Keep: 7}, ""},
		{"off", "", backups.Config{Cron: "off"}, ""},
		{"nightly", "", backups.Config{}, "SHOPDASH_BACKUP_CRON"},
		{"", "0", backups.Config{}, "SHOPDASH_BACKUP_KEEP"},
		{"", "many", backups.Config{}, "SHOPDASH_BACKUP_KEEP"},
	} {
		t.Setenv("SHOPDASH_BACKUP_CRON", tc.cron)
		t.Setenv("SHOPDASH_BACKUP_KEEP", tc.keep)
		cfg, err := backups.ConfigFromEnv()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("cron %q keep %q: error %v, want one naming %s", tc.cron, tc.keep, err, tc.wantErr)
			}
		case err != nil || cfg != tc.want:
			t.Errorf("cron %q keep %q: %+v, %v; want %+v", tc.cron, tc.keep, cfg, err, tc.want)
		}
	}
}

// autoBackupSchedule is the schedule of PocketBase's automatic backup job,
// "" when it has none.
func autoBackupSchedule(app core.App) string {
	for _, job := range app.Cron().Jobs() {
		if job.Id() == "__pbAutoBackup__" {
			return job.Expression()
		}
	}
	return ""
}

// TestBackupScheduleFromEnv: the environment's schedule and count become
// PocketBase's backup settings and its backup job, and stay so after a
// settings save in /_/; "off" removes the job; unset leaves /_/'s choice.
func TestBackupScheduleFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cfg       backups.Config
		dashboard string // the schedule set in /_/
		wantCron  string
		wantKeep  int
	}{
		{"environment", backups.Config{Cron: "30 3 * * *", Keep: 7}, "0 1 * * *", "30 3 * * *", 7},
		{"off", backups.Config{Cron: "off"}, "0 1 * * *", "", 3},
		{"unset", backups.Config{}, "0 1 * * *", "0 1 * * *", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := shoptest.NewApp(t)
			defer app.Cleanup()
			backups.Register(app, tc.cfg, core.DefaultDBConnect)
			settings := app.Settings()
			settings.Backups.Cron, settings.Backups.CronMaxKeep = tc.dashboard, 3
			if err := app.Save(settings); err != nil {
				t.Fatal(err)
			}
			if err := app.ReloadSettings(); err != nil {
				t.Fatal(err)
			}
			got := app.Settings().Backups
			if got.Cron != tc.wantCron || got.CronMaxKeep != tc.wantKeep || autoBackupSchedule(app) != tc.wantCron {
				t.Fatalf("backups %q keep %d, job %q; want %q keep %d", got.Cron, got.CronMaxKeep,
					autoBackupSchedule(app), tc.wantCron, tc.wantKeep)
			}
		})
	}
}

// zipEntries lists the names in a zip.
func zipEntries(t *testing.T, path string) []string {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names
}

// TestBackupsLeaveLitestreamOut: a PocketBase backup holds the uploaded
// files but not Litestream's state beside the databases.
func TestBackupsLeaveLitestreamOut(t *testing.T) {
	t.Parallel()
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	backups.Register(app, backups.Config{}, core.DefaultDBConnect)
	writeFile(t, filepath.Join(app.DataDir(), ".data.db-litestream", "ltx", "0", "0000000001.ltx"), "ltx")
	writeFile(t, filepath.Join(app.DataDir(), "storage", "products", "p1", "picture.png"), "png")
	if err := app.CreateBackup(context.Background(), "test.zip"); err != nil {
		t.Fatal(err)
	}
	entries := zipEntries(t, filepath.Join(app.DataDir(), core.LocalBackupsDirName, "test.zip"))
	if !slices.Contains(entries, "data.db") || !slices.Contains(entries, "storage/products/p1/picture.png") {
		t.Fatalf("backup holds %v, want data.db and the picture", entries)
	}
	for _, e := range entries {
		if strings.HasPrefix(e, ".data.db-litestream") {
			t.Fatalf("backup holds Litestream's %s", e)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// migratedDataDir is a data dir with every migration applied, a file in
// storage, then the newest of the shop's migrations forgotten, as a data
// dir looks to the next version of the binary. It returns that
// migration's file name.
func migratedDataDir(t *testing.T, dir string) string {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "storage", "products", "p1", "picture.png"), "png")
	migrations := core.AppMigrations.Items()
	newest := migrations[len(migrations)-1].File
	if _, err := app.DB().Delete(core.DefaultMigrationsTable, dbx.HashExp{"file": newest}).Execute(); err != nil {
		t.Fatal(err)
	}
	return newest
}

// preMigrationBackups lists the backups taken before migrations.
func preMigrationBackups(t *testing.T, dataDir string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dataDir, core.LocalBackupsDirName, backups.PreMigrationBackupPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// bootstrapWithBackups starts a PocketBase app on dir the way main does.
func bootstrapWithBackups(t *testing.T, dir string) (core.App, error) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	backups.Register(app, backups.Config{}, core.DefaultDBConnect)
	err := app.Bootstrap()
	t.Cleanup(func() { _ = app.ClearBootstrap() })
	return app, err
}

// TestBackupBeforeMigrations: a start that will apply a migration first
// zips the data dir as it was, files included, in pb_data/backups.
func TestBackupBeforeMigrations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pending := migratedDataDir(t, dir)
	writeFile(t, filepath.Join(dir, ".data.db-litestream", "ltx", "0", "0000000001.ltx"), "ltx")

	if _, err := bootstrapWithBackups(t, dir); err != nil {
		t.Fatal(err)
	}
	backups := preMigrationBackups(t, dir)
	if len(backups) != 1 || !strings.HasSuffix(backups[0], ".zip") {
		t.Fatalf("backups before migrations: %v, want one zip", backups)
	}
	entries := zipEntries(t, backups[0])
	for _, want := range []string{"data.db", "auxiliary.db", "storage/products/p1/picture.png"} {
		if !slices.Contains(entries, want) {
			t.Errorf("the backup lacks %s: %v", want, entries)
		}
	}
	for _, e := range entries {
		if strings.HasPrefix(e, "backups/") || strings.HasPrefix(e, ".") || strings.HasSuffix(e, "-wal") {
			t.Errorf("the backup holds %s", e)
		}
	}

	// The backup's database is the one before the migration.
	restored := filepath.Join(t.TempDir(), "data.db")
	extract(t, backups[0], "data.db", restored)
	db, err := core.DefaultDBConnect(restored)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	var applied int
	if err := db.NewQuery("PRAGMA integrity_check").Row(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity of the backup: %q %v", integrity, err)
	}
	if err := db.Select("count(*)").From(core.DefaultMigrationsTable).Where(dbx.HashExp{"file": pending}).Row(&applied); err != nil || applied != 0 {
		t.Fatalf("the backup has %s applied (%d, %v): it was taken after the migration", pending, applied, err)
	}
}

// TestNoBackupWithoutPendingMigrations: a start with nothing to migrate,
// or on a fresh data dir, takes no backup.
func TestNoBackupWithoutPendingMigrations(t *testing.T) {
	t.Parallel()
	fresh := t.TempDir()
	first, err := bootstrapWithBackups(t, fresh)
	if err != nil {
		t.Fatal(err)
	}
	// One app on the directory at a time: PocketBase's notify watcher of a
	// live app reloads its settings when another writes them, and a reload
	// that fires after the app is cleared panics.
	if err := first.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: fresh})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	if err := app.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrapWithBackups(t, fresh); err != nil {
		t.Fatal(err)
	}
	if found := preMigrationBackups(t, fresh); len(found) != 0 {
		t.Fatalf("backups %v without a pending migration", found)
	}
}

// TestNoMigrationWithoutBackup: when the backup cannot be written, the
// start stops before PocketBase opens the database or migrates anything.
func TestNoMigrationWithoutBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	migratedDataDir(t, dir)
	// A file where the backups folder belongs: no backup can be written.
	writeFile(t, filepath.Join(dir, core.LocalBackupsDirName), "not a folder")

	app, err := bootstrapWithBackups(t, dir)
	if err == nil || !strings.Contains(err.Error(), "does not migrate without one") {
		t.Fatalf("bootstrap without a possible backup: %v", err)
	}
	if app.IsBootstrapped() {
		t.Fatal("the app bootstrapped (and would migrate) without a backup")
	}
}

// extract copies one file of a zip to target.
func extract(t *testing.T, zipPath, name, target string) {
	t.Helper()
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := r.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(target)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
}
