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
// than retried into a false alert. It reports how many orders were kept.
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
	return orders, nil
}
