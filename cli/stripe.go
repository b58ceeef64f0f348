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

// NewStripeCommand returns `shopdash stripe replay --since 3h [--dry-run]`:
// Stripe's events of a window, applied through the webhook's once-only
// ledger (CONTRACT §6), for after a lost machine or an endpoint that was
// down longer than Stripe retries.
func NewStripeCommand(app core.App, runner *jobs.Jobs) *cobra.Command {
	cmd := &cobra.Command{Use: "stripe", Short: "Work with Stripe's side of the shop", SilenceUsage: true}
	var since time.Duration
	var dryRun bool
	replay := &cobra.Command{
		Use:   "replay",
		Short: "Apply Stripe's events of the last --since that the shop never recorded, oldest first",
		Long: "Lists Stripe's events created in the window through the Events API and applies each one the shop " +
			"handles and has not recorded, through the same once-only ledger as the webhook. Events already " +
			"applied change nothing, so a replay can be run again at any time. Stripe keeps events for 30 days.",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if since <= 0 || since > 30*24*time.Hour {
				return fmt.Errorf("--since must be a duration from 1s to 720h, such as 3h")
			}
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			run, err := runner.Run(ctx, payments.JobStripeReplay, jobs.RunOptions{
				Trigger: "cli", Actor: "cli", Since: time.Now().Add(-since), DryRun: dryRun,
			})
			if err != nil {
				return err
			}
			applied := "applied"
			if dryRun {
				applied = "would apply (dry run)"
			}
			ignored := run.Fetched - run.Created - run.Skipped - run.Failed
			fmt.Fprintf(cmd.OutOrStdout(), "stripe replay %s (run %s): fetched %d, %s %d, already applied %d, ignored %d, failed %d\n",
				run.Status, run.ID, run.Fetched, applied, run.Created, run.Skipped, ignored, run.Failed)
			return run.Err
		},
	}
	replay.Flags().DurationVar(&since, "since", 0, "how far back to read Stripe's events, such as 3h (at most 720h)")
	replay.Flags().BoolVar(&dryRun, "dry-run", false, "list and count, apply nothing")
	_ = replay.MarkFlagRequired("since")
	cmd.AddCommand(replay)
	return cmd
}
