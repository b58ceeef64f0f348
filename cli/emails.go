package cli

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"shopdash/hooks/emails"
)

// NewEmailsCommand returns `shopdash emails retry [--dead]`.
func NewEmailsCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{Use: "emails", Short: "Manage the order email outbox", SilenceUsage: true}
	var dead bool
	retry := &cobra.Command{
		Use:          "retry",
		Short:        "Put failed emails (and dead ones with --dead) back in the queue",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			n, err := emails.RetryEmails(app, dead)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d emails queued again; a running shop sends them within seconds\n", n)
			return nil
		},
	}
	retry.Flags().BoolVar(&dead, "dead", false, "also retry emails that used up their attempts")
	cmd.AddCommand(retry)
	return cmd
}
