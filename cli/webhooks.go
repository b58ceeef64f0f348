package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	c "shopdash/collections"
	"shopdash/hooks/webhooks"
)

// NewWebhooksCommand returns `shopdash webhooks add|list|disable|replay`.
func NewWebhooksCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{Use: "webhooks", Short: "Manage the outgoing webhooks' endpoints and replay their deliveries", SilenceUsage: true}
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return app.RunAllMigrations() }
	cmd.AddCommand(addEndpointCommand(app), listEndpointsCommand(app), disableEndpointCommand(app), replayCommand(app))
	return cmd
}

func addEndpointCommand(app core.App) *cobra.Command {
	var events []string
	var description string
	add := &cobra.Command{
		Use:          "add URL",
		Short:        "Add an endpoint and print its signing secret (shown this once)",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, ev := range events {
				if !slices.Contains(c.WebhookEventTypes, ev) {
					return fmt.Errorf("unknown event type %q: the types are %s", ev, strings.Join(c.WebhookEventTypes, ", "))
				}
			}
			col, err := app.FindCollectionByNameOrId(c.WebhookEndpoints)
			if err != nil {
				return err
			}
			ep := core.NewRecord(col)
			ep.Set(c.EndpointURL, args[0])
			ep.Set(c.EndpointEvents, events)
			ep.Set(c.EndpointDescription, description)
			ep.Set(c.EndpointActive, true)
			if err := app.Save(ep); err != nil {
				return fieldErrors(err)
			}
			taken := "all events"
			if len(events) > 0 {
				taken = strings.Join(events, ", ")
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "endpoint %s added for %s\n", ep.Id, taken)
			fmt.Fprintf(out, "secret: %s\n", ep.GetString(c.EndpointSecret))
			fmt.Fprintln(out, "Keep the secret now: it is not shown again (superusers can read it in /_/).")
			return nil
		},
	}
	add.Flags().StringSliceVar(&events, "events", nil, "event types to send, comma-separated (default all): "+strings.Join(c.WebhookEventTypes, ","))
	add.Flags().StringVar(&description, "description", "", "what the endpoint is for")
	return add
}

// fieldErrors turns a save's validation errors into one line per field,
// as the records API would name them.
func fieldErrors(err error) error {
	var fields validation.Errors
	if !errors.As(err, &fields) {
		return err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = fmt.Sprintf("%s: %v", k, fields[k])
	}
	return errors.New(strings.Join(lines, "; "))
}

func listEndpointsCommand(app core.App) *cobra.Command {
	return &cobra.Command{
		Use:          "list",
		Short:        "The endpoints (without their secrets)",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			endpoints, err := app.FindRecordsByFilter(c.WebhookEndpoints, "", c.EndpointCreated, 0, 0)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tURL\tEVENTS\tSTATE\tDESCRIPTION")
			for _, r := range endpoints {
				ep := c.NewWebhookEndpoint(r)
				events, state := "all", "active"
				if len(ep.Events()) > 0 {
					events = strings.Join(ep.Events(), ",")
				}
				if !ep.Active() {
					state = "disabled"
					if reason := r.GetString(c.EndpointDisabledReason); reason != "" {
						state += ": " + reason
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ep.Id, ep.URL(), events, state, r.GetString(c.EndpointDescription))
			}
			return w.Flush()
		},
	}
}

func disableEndpointCommand(app core.App) *cobra.Command {
	return &cobra.Command{
		Use:          "disable ID",
		Short:        "Stop sending to an endpoint (its deliveries wait until it is active again)",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ep, err := app.FindRecordById(c.WebhookEndpoints, args[0])
			if err != nil {
				return fmt.Errorf("no webhook endpoint %q (shopdash webhooks list)", args[0])
			}
			ep.Set(c.EndpointActive, false)
			ep.Set(c.EndpointDisabledReason, "Disabled from the command line.")
			// Not validated: a URL refused by today's settings is no reason to keep sending to it.
			if err := app.SaveNoValidate(ep); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "endpoint %s disabled; a running shop stops sending to it within 10 s\n", ep.Id)
			return nil
		},
	}
}

func replayCommand(app core.App) *cobra.Command {
	var r webhooks.Replay
	replay := &cobra.Command{
		Use:          "replay ID",
		Short:        "Send an endpoint's deliveries again, each under its own webhook-id",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			queued, err := webhooks.ReplayDeliveries(app, "cli", args[0], r)
			switch {
			case errors.Is(err, webhooks.ErrNoEndpoint):
				return fmt.Errorf("no webhook endpoint %q (shopdash webhooks list)", args[0])
			case errors.Is(err, webhooks.ErrNoDelivery):
				return fmt.Errorf("endpoint %s has no delivery %q", args[0], r.Delivery)
			case err != nil:
				return fieldErrors(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries queued again; a running shop sends them within seconds\n", queued)
			return nil
		},
	}
	replay.Flags().StringVar(&r.Since, "since", webhooks.DefaultReplaySince, "deliveries created since this long ago (24h) or this RFC 3339 time")
	replay.Flags().StringVar(&r.Status, "status", "", "only deliveries of this status: "+strings.Join(c.DeliveryStatuses, ", "))
	replay.Flags().StringVar(&r.Delivery, "delivery", "", "only this delivery (its id in webhook_deliveries), whenever it was created")
	return replay
}
