// Command shopdash is a self-hosted back-end for an online shop's customer
// dashboard: PocketBase used as a framework, with the shop's collections,
// business hooks, Stripe payments and background jobs in one binary.
package main

import (
	"embed"
	"log"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/osutils"

	"shopdash/cli"
	"shopdash/hooks"
	"shopdash/hooks/backups"
	_ "shopdash/pb_migrations"
)

// publicFiles is the customer web page, served at /.
//
//go:embed all:pb_public
var publicFiles embed.FS

// dbConnect opens SQLite with the shop's pragmas (sqlite.go): PocketBase's
// pure-Go driver by default (sqlite_modernc.go), the cgo one under
// -tags no_default_driver (sqlite_cgo.go).
var dbConnect core.DBConnectFunc

func main() {
	app := pocketbase.NewWithConfig(pocketbase.Config{
		DBConnect:        dbConnect,
		DataMaxOpenConns: hooks.ReadConnections(),
		DataMaxIdleConns: hooks.ReadConnections(),
	})
	app.OnBootstrap().BindFunc(tuneWriter)
	app.RootCmd.Use = "shopdash"
	app.RootCmd.Version = version()
	app.RootCmd.SetVersionTemplate("shopdash {{.Version}}\n")

	// Schema: Go migrations in pb_migrations/; under `go run`, changes made
	// in the dashboard are written there as new migrations.
	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{
		Dir:         "pb_migrations",
		Automigrate: osutils.IsProbablyGoRun(),
	})

	// Backups: PocketBase's schedule from the environment, and a backup of
	// the data dir before any start that would apply a migration.
	backupCfg, err := backups.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	backups.Register(app, backupCfg, dbConnect)

	// Business logic: record rules live in the migrations, the rest here,
	// with the background jobs (Stripe sync, email outbox, stale orders).
	cfg, err := hooks.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	jobs, err := hooks.Register(app, apis.MustSubFS(publicFiles, "pb_public"), cfg)
	if err != nil {
		log.Fatal(err)
	}

	// Commands besides PocketBase's serve, migrate and superuser.
	app.RootCmd.AddCommand(
		cli.NewSeedCommand(app),
		cli.NewSyncCommand(app, jobs),
		cli.NewStripeCommand(app, jobs),
		cli.NewJobsCommand(app, jobs),
		cli.NewEmailsCommand(app),
		cli.NewWebhooksCommand(app),
		cli.NewSessionsCommand(app),
	)

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}
