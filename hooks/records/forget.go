package records

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
)

// ForgetCustomer removes a customer's personal data from what outlives
// their account: their orders stay for accounting, unlinked and without the
// name, email and address they carried; their items are unlinked; their
// emails forget the address, and those not sent yet are given up rather
// than retried into a false alert; the webhook deliveries of their orders
// keep the ids and lose the name, email and address. It reports how many
// orders were kept.
func ForgetCustomer(app core.App, userID string) (int64, error) {
	now := types.NowDateTime().String()
	result, err := app.DB().Update(c.Orders, dbx.Params{
		c.OrderUser: "", c.OrderCustomerName: "", c.OrderCustomerEmail: "", c.OrderShippingAddress: nil, c.OrderUpdated: now,
	}, dbx.HashExp{c.OrderUser: userID}).Execute()
	if err != nil {
		return 0, fmt.Errorf("anonymise orders: %w", err)
	}
	orders, _ := result.RowsAffected()
	if _, err := app.DB().Update(c.OrderItems, dbx.Params{c.ItemUser: ""}, dbx.HashExp{c.ItemUser: userID}).Execute(); err != nil {
		return 0, fmt.Errorf("unlink order items: %w", err)
	}
	_, err = app.DB().Update(c.EmailJobs, dbx.Params{
		c.EmailJobStatus: c.EmailDead, c.EmailJobLastError: "account deleted", c.EmailJobUpdated: now,
	}, dbx.And(dbx.HashExp{c.EmailJobUser: userID}, dbx.In(c.EmailJobStatus, c.EmailQueued, c.EmailFailed))).Execute()
	if err != nil {
		return 0, fmt.Errorf("give up unsent emails: %w", err)
	}
	if _, err := app.DB().Update(c.EmailJobs, dbx.Params{c.EmailJobUser: "", c.EmailJobRecipient: "", c.EmailJobUpdated: now},
		dbx.HashExp{c.EmailJobUser: userID}).Execute(); err != nil {
		return 0, fmt.Errorf("forget email recipients: %w", err)
	}
	if err := forgetInWebhooks(app, userID); err != nil {
		return 0, err
	}
	return orders, nil
}

// forgetInWebhooks blanks the customer's name, email and shipping address
// in the stored bodies of their orders' webhook deliveries, sent or not:
// what a delivery still to be sent or replayed carries is the order as it
// is now.
func forgetInWebhooks(app core.App, userID string) error {
	_, err := app.DB().NewQuery("UPDATE {{" + c.WebhookDeliveries + "}} SET [[" + c.DeliveryPayload + "]] = json_set([[" +
		c.DeliveryPayload + "]], '$.data.customer.email', '', '$.data.customer.name', '', '$.data.shipping_address', json('null'))" +
		" WHERE [[" + c.DeliveryType + "]] LIKE 'order.%' AND json_extract([[" + c.DeliveryPayload + "]], '$.data.customer.id') = {:user}").
		Bind(dbx.Params{"user": userID}).Execute()
	if err != nil {
		return fmt.Errorf("forget the customer in webhook deliveries: %w", err)
	}
	return nil
}
