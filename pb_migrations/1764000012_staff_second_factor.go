package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(askStaffForASecondFactor, stopAskingForASecondFactor)
}

// staffMFARule selects the accounts asked for a second factor: the team's
// (support, store), who refund money and read every customer's address.
// Customers sign in with their password alone.
const staffMFARule = "role = 'support' || role = 'store'"

// askStaffForASecondFactor turns on PocketBase's emailed one-time codes and
// its MFA for the staff accounts. SHOPDASH_STAFF_MFA=off turns the MFA off
// again at start (hooks/sessions); the rule and the codes stay.
func askStaffForASecondFactor(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	users.OTP.Enabled = true
	users.MFA.Enabled = true
	users.MFA.Rule = staffMFARule
	return app.Save(users)
}

func stopAskingForASecondFactor(app core.App) error {
	users, err := app.FindCollectionByNameOrId(c.Users)
	if err != nil {
		return err
	}
	users.OTP.Enabled = false
	users.MFA.Enabled = false
	users.MFA.Rule = ""
	return app.Save(users)
}
