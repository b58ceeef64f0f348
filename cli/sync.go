package cli

import (
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
)

// NewSyncCommand returns `shopdash sync stripe`: the nightly sync, now.
func NewSyncCommand(app core.App, runner *jobs.Jobs) *cobra.Command {
	sync := &cobra.Command{Use: "sync", Short: "Pull data from outside services now", SilenceUsage: true}
	var since string
	var dryRun bool
	stripeCmd := &cobra.Command{
		Use:          "stripe",
		Short:        "Run the Stripe sync now (invoices, products, prices, pending catalogue pushes) and print its counts",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := jobs.RunOptions{Trigger: "cli", Actor: "cli", DryRun: dryRun}
			if since != "" {
				t, err := time.Parse(time.DateOnly, since)
				if err != nil {
					return fmt.Errorf("--since must be a date like 2026-01-01")
				}
				opts.Since = t
			}
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			// Ctrl-C cancels the run cleanly; it is recorded as cancelled.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			run, err := runner.Run(ctx, payments.JobStripeSync, opts)
			if err != nil {
				return err
			}
			note := ""
			if dryRun {
				note = ", dry run: nothing written"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stripe sync %s (run %s%s): fetched %d, created %d, updated %d, skipped %d, failed %d\n",
				run.Status, run.ID, note, run.Fetched, run.Created, run.Updated, run.Skipped, run.Failed)
			return run.Err
		},
	}
	stripeCmd.Flags().StringVar(&since, "since", "", "sync invoices created since this date (default: the last successful run, minus an hour)")
	stripeCmd.Flags().BoolVar(&dryRun, "dry-run", false, "fetch and count, write nothing")
	sync.AddCommand(stripeCmd)
	return sync
}
