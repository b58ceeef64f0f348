package backups

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// PreMigrationBackupPrefix starts the names of the backups taken before
// migrations, in pb_data/backups beside PocketBase's own.
const PreMigrationBackupPrefix = "pre_migration_"

// databases are the SQLite files of a data dir, copied with VACUUM INTO:
// the shop's data and PocketBase's logs.
var databases = []string{"data.db", "auxiliary.db"}

// notInBackups are the entries of a data dir that no backup holds, as in
// PocketBase's own backups: the backups themselves, temporary and
// certificate files, and Litestream's state.
var notInBackups = append([]string{
	core.LocalBackupsDirName, core.LocalTempDirName, core.LocalNotifyDirName,
	core.LocalAutocertCacheDirName, "lost+found",
}, litestreamMetaDirs...)

// backupBeforeMigrations zips the data dir into
// pb_data/backups/pre_migration_<UTC time>.zip when its data.db lacks
// migrations that this binary holds, PocketBase's or the shop's. It runs
// at the start of the bootstrap, before PocketBase opens the databases and
// applies its system migrations, and so before serve, migrate up or seed
// apply the shop's. The zip is laid out as PocketBase's backups are, so
// /_/ → Backups can restore it. A fresh data dir has nothing to lose and
// gets none; a backup that fails stops the start, so the shop never
// migrates without one.
func backupBeforeMigrations(dataDir string, connect core.DBConnectFunc) error {
	dataPath := filepath.Join(dataDir, "data.db")
	if _, err := os.Stat(dataPath); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("backup before migrations: %w", err)
	}
	pending, err := pendingMigrations(dataPath, connect)
	if err != nil || len(pending) == 0 {
		return err
	}
	name := PreMigrationBackupPrefix + time.Now().UTC().Format("20060102150405") + ".zip"
	zipPath := filepath.Join(dataDir, core.LocalBackupsDirName, name)
	started := time.Now()
	if err := zipDataDir(dataDir, zipPath, connect); err != nil {
		return fmt.Errorf("backup before migrations %s (the shop does not migrate without one): %w",
			strings.Join(pending, ", "), err)
	}
	slog.Info("backup before migrations", "backup", zipPath, "pending", strings.Join(pending, ","),
		"took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// pendingMigrations lists the migrations of this binary that the database
// at path has not applied. A database without a migrations table has none
// of its own to lose, so it has nothing pending here.
func pendingMigrations(path string, connect core.DBConnectFunc) ([]string, error) {
	db, err := connect(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var tables int
	if err := db.NewQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = {:name}").
		Bind(dbx.Params{"name": core.DefaultMigrationsTable}).Row(&tables); err != nil {
		return nil, fmt.Errorf("read the migrations of %s: %w", path, err)
	}
	if tables == 0 {
		return nil, nil
	}
	var applied []string
	if err := db.Select("file").From(core.DefaultMigrationsTable).Column(&applied); err != nil {
		return nil, fmt.Errorf("read the migrations of %s: %w", path, err)
	}
	var pending []string
	for _, list := range []core.MigrationsList{core.SystemMigrations, core.AppMigrations} {
		for _, m := range list.Items() {
			if !slices.Contains(applied, m.File) {
				pending = append(pending, m.File)
			}
		}
	}
	return pending, nil
}

// zipDataDir writes the data dir into a zip at zipPath: each database as
// a consistent copy (VACUUM INTO), then every other file. The zip appears
// under its name only once complete.
func zipDataDir(dataDir, zipPath string, connect core.DBConnectFunc) (err error) {
	tempDir := filepath.Join(dataDir, core.LocalTempDirName, "pre_migration")
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(tempDir)
	if err := os.MkdirAll(filepath.Dir(zipPath), 0o700); err != nil {
		return err
	}
	partial := zipPath + ".partial"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(partial)
		}
	}()
	w := zip.NewWriter(f)

	for _, name := range databases {
		path := filepath.Join(dataDir, name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		copyPath := filepath.Join(tempDir, name)
		if err := vacuumInto(path, copyPath, connect); err != nil {
			return err
		}
		if err := addFileToZip(w, copyPath, name); err != nil {
			return err
		}
	}
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, path)
		if err != nil || rel == "." {
			return err
		}
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		switch {
		case slices.Contains(notInBackups, top):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir() || isDatabaseFile(top):
			return nil
		}
		return addFileToZip(w, path, filepath.ToSlash(rel))
	})
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(partial, zipPath)
}

// isDatabaseFile tells a database of the data dir or its journal files,
// which the zip holds as VACUUM INTO copies.
func isDatabaseFile(name string) bool {
	for _, db := range databases {
		if name == db || name == db+"-wal" || name == db+"-shm" || name == db+"-journal" {
			return true
		}
	}
	return false
}

// vacuumInto writes a consistent copy of the database at path to target.
func vacuumInto(path, target string, connect core.DBConnectFunc) error {
	db, err := connect(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.NewQuery("VACUUM INTO {:target}").Bind(dbx.Params{"target": target}).Execute(); err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(path), err)
	}
	return nil
}

// addFileToZip adds the file at path to the zip under name.
func addFileToZip(w *zip.Writer, path, name string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	header, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	header.Name, header.Method = name, zip.Deflate
	dst, err := w.CreateHeader(header)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return err
}
