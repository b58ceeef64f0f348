// Package cli holds the shop's own commands, one file per command, added to
// PocketBase's root command next to serve, migrate and superuser.
package cli

import (
	"errors"
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"shopdash/seed"
)

// NewSeedCommand returns `shopdash seed`: demo or load data.
func NewSeedCommand(app core.App) *cobra.Command {
	opts := seed.DefaultOptions()
	cmd := &cobra.Command{
		Use:          "seed",
		Short:        "Fill an empty shop with demo data (or load data with --users and --orders-per-user)",
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Custom commands run before `serve` would apply migrations.
			if err := app.RunAllMigrations(); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			report, err := seed.Run(app, opts)
			out := cmd.OutOrStdout()
			switch {
			case errors.Is(err, seed.ErrNotEmpty):
				fmt.Fprintln(out, err)
			case err != nil:
				return err
			default:
				fmt.Fprintf(out, "Seeded %d customers, %d staff, %d products, %d orders, %d order items in %s.\n",
					report.Customers, report.Staff, report.Products, report.Orders, report.Items, report.Elapsed.Round(1e6))
			}
			return printDemoLogins(app, cmd)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Customers, "users", opts.Customers, "number of customers, the two demo customers included")
	f.IntVar(&opts.OrdersPerCustomer, "orders-per-user", opts.OrdersPerCustomer, "orders of each customer")
	f.IntVar(&opts.Months, "months", opts.Months, "how many months back the orders go")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "random seed: the same seed gives the same shop")
	f.BoolVar(&opts.Reset, "reset", false, "delete the shop's users, products, orders and bookkeeping first")
	return cmd
}

// printDemoLogins lists the demo accounts that exist in this shop, so a
// real shop that was never seeded prints nothing.
func printDemoLogins(app core.App, cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	header := false
	for _, a := range seed.DemoAccounts {
		if _, err := app.FindAuthRecordByEmail("users", a.Email); err != nil {
			continue
		}
		if !header {
			fmt.Fprintf(out, "\nDemo logins (password %q):\n", seed.DemoPassword)
			header = true
		}
		fmt.Fprintf(out, "  %-8s  %s\n", a.Role, a.Email)
	}
	if header {
		fmt.Fprintln(out, "Staff (support, store) also give a code sent by email, unless the shop runs with SHOPDASH_STAFF_MFA=off (make run does).")
	}
	return nil
}
