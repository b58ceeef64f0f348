package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"shopdash/hooks/jobs"
)

// NewJobsCommand returns `shopdash jobs list|pause NAME|resume NAME`.
func NewJobsCommand(app core.App, runner *jobs.Jobs) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Show, pause and resume the background jobs", SilenceUsage: true}
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return app.RunAllMigrations() }
	cmd.AddCommand(&cobra.Command{
		Use:          "list",
		Short:        "The jobs, their pause switches and last runs",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			states, err := runner.States()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "JOB\tSTATE\tLAST RUN\tSTATUS\tFETCHED\tCREATED\tUPDATED\tFAILED")
			for _, s := range states {
				state := "active"
				if s.Paused {
					state = "paused"
				}
				if len(s.LastRuns) == 0 {
					fmt.Fprintf(w, "%s\t%s\t-\t-\t\t\t\t\n", s.Name, state)
					continue
				}
				r := s.LastRuns[0]
				fmt.Fprintf(w, "%s\t%s\t%v\t%v\t%v\t%v\t%v\t%v\n", s.Name, state, r["started"], r["status"],
					r["fetched"], r["created"], r["updated"], r["failed"])
			}
			return w.Flush()
		},
	})
	for _, verb := range []string{"pause", "resume"} {
		paused := verb == "pause"
		cmd.AddCommand(&cobra.Command{
			Use:          verb + " NAME",
			Short:        verb + " a job (" + fmt.Sprint(runner.Names()) + "); pausing cancels a running one within a second",
			Args:         cobra.ExactArgs(1),
			SilenceUsage: true,
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := runner.SetPaused(args[0], paused, "cli"); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %sd\n", args[0], verb)
				return nil
			},
		})
	}
	return cmd
}
