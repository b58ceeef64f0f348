// Package backups keeps the shop's data recoverable around PocketBase's own
// backups: their schedule from the environment, a zip of the data dir
// before any start that would apply a migration, and checkpoints that do
// not stall writes under Litestream (docs/deployment.md). main registers
// it before the shop, as it must act before PocketBase opens the database.
package backups

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/cron"
)

// Config is the schedule of PocketBase's automatic backups as the
// environment sets it (docs/deployment.md). Unset variables leave the
// settings made in /_/ → Settings → Backups as they are.
type Config struct {
	// Cron is SHOPDASH_BACKUP_CRON: a cron expression (UTC), "off" to stop
	// automatic backups, or "" to leave the setting alone.
	Cron string
	// Keep is SHOPDASH_BACKUP_KEEP: how many automatic backups to keep; 0
	// leaves the setting alone.
	Keep int
}

// ConfigFromEnv reads SHOPDASH_BACKUP_CRON and SHOPDASH_BACKUP_KEEP.
func ConfigFromEnv() (Config, error) {
	cfg := Config{Cron: strings.TrimSpace(os.Getenv("SHOPDASH_BACKUP_CRON"))}
	if cfg.Cron != "" && cfg.Cron != "off" {
		if _, err := cron.NewSchedule(cfg.Cron); err != nil {
			return cfg, fmt.Errorf("SHOPDASH_BACKUP_CRON=%q: %w", cfg.Cron, err)
		}
	}
	if raw := strings.TrimSpace(os.Getenv("SHOPDASH_BACKUP_KEEP")); raw != "" {
		keep, err := strconv.Atoi(raw)
		if err != nil || keep < 1 {
			return cfg, fmt.Errorf("SHOPDASH_BACKUP_KEEP=%q: want a number of backups, 1 or more", raw)
		}
		cfg.Keep = keep
	}
	return cfg, nil
}

// litestreamMetaDirs are where Litestream keeps its position beside each
// database of pb_data (deploy/litestream.yml). A backup restored with them
// would hand Litestream a position that belongs to another database.
var litestreamMetaDirs = []string{".data.db-litestream", ".auxiliary.db-litestream"}

// Register applies cfg to PocketBase's backup settings at start and
// after every settings save, leaves Litestream's state out of backups and
// keeps their checkpoint from stalling writes under it (checkpoints.go),
// and makes every start that would apply a migration back the data dir up
// first (backupBeforeMigrations). connect opens a database as the app
// does.
func Register(app core.App, cfg Config, connect core.DBConnectFunc) {
	app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		backups := &e.App.Settings().Backups
		switch cfg.Cron {
		case "":
		case "off":
			backups.Cron = ""
		default:
			backups.Cron = cfg.Cron
		}
		if cfg.Keep > 0 {
			backups.CronMaxKeep = cfg.Keep
		}
		return nil
	})
	app.OnBackupCreate().BindFunc(func(e *core.BackupEvent) error {
		e.Exclude = append(e.Exclude, litestreamMetaDirs...)
		return e.Next()
	})
	registerBriefCheckpoints(app)
	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		if err := backupBeforeMigrations(e.App.DataDir(), connect); err != nil {
			return err
		}
		return e.Next()
	})
}
