package cli

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	c "shopdash/collections"
	"shopdash/hooks/sessions"
)

// NewSessionsCommand returns `shopdash sessions revoke EMAIL`.
func NewSessionsCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{Use: "sessions", Short: "Manage the accounts' sign-in sessions", SilenceUsage: true}
	revoke := &cobra.Command{
		Use:   "revoke EMAIL",
		Short: "Sign an account out of every device",
		Long: "Gives the account a new token key, so that every token it holds is refused. " +
			"A running shop sees it within SHOPDASH_CACHE_TTL (30 s by default), and its realtime " +
			"connections stop hearing the account's events within 10 s; POST /api/v1/admin/users/{id}/sessions/revoke acts at once.",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			user, err := app.FindAuthRecordByEmail(c.Users, args[0])
			if err != nil {
				return fmt.Errorf("no account with the email %q", args[0])
			}
			if err := sessions.Revoke(app, user.Id, "cli"); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "every session of %s ended (account %s)\n", args[0], user.Id)
			return nil
		},
	}
	cmd.AddCommand(revoke)
	return cmd
}
