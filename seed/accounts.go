package seed

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/crypto/bcrypt"

	c "shopdash/collections"
)

// DemoPassword is the password of every seeded account.
const DemoPassword = "shopdash-demo"

// Account is a seeded login.
type Account struct {
	Email    string
	Name     string
	Role     c.Role
	Language string
}

// DemoAccounts are the logins `make run` prints; the customers come first.
var DemoAccounts = []Account{
	{"customer@example.com", "Casey Customer", c.RoleCustomer, "en"},
	{"customer2@example.com", "Robin Cliente", c.RoleCustomer, "es"},
	{"support@example.com", "Sky Support", c.RoleSupport, "en"},
	{"store@example.com", "Sol Store", c.RoleStore, "en"},
}

type seededCustomer struct {
	id, name, email string
	address         c.Address
}

// createAccounts creates the demo accounts and the generated customers in
// one transaction. bcrypt costs ~60 ms, so the shared password is hashed once.
func (g *generator) createAccounts(app core.App) (customers, staff int, err error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(DemoPassword), bcrypt.DefaultCost)
	if err != nil {
		return 0, 0, err
	}
	accounts := append([]Account(nil), DemoAccounts...)
	for n := 3; n <= g.opts.Customers; n++ {
		accounts = append(accounts, Account{
			Email:    fmt.Sprintf("customer-%07d@example.com", n),
			Name:     g.pick(firstNames) + " " + g.pick(lastNames),
			Role:     c.RoleCustomer,
			Language: g.pick(c.Languages),
		})
	}
	err = app.RunInTransaction(func(tx core.App) error {
		users, err := tx.FindCollectionByNameOrId(c.Users)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			u := core.NewRecord(users)
			u.Id = g.id()
			u.SetEmail(a.Email)
			u.SetVerified(true)
			u.SetRaw(core.FieldNamePassword, &core.PasswordFieldValue{Hash: string(hash)})
			u.Set(c.UserName, a.Name)
			u.Set(c.UserRole, string(a.Role))
			u.Set(c.UserLanguage, a.Language)
			u.Set(c.UserOrderUpdates, true)
			u.Set(c.UserMarketingEmails, g.rng.IntN(3) == 0)
			var addr c.Address
			if a.Role == c.RoleCustomer {
				addr = g.address()
				u.Set(c.UserShippingAddress, addr)
			}
			if err := tx.Save(u); err != nil {
				return fmt.Errorf("account %d: %w", customers+staff+1, err)
			}
			if a.Role == c.RoleCustomer {
				customers++
				g.customers = append(g.customers, seededCustomer{u.Id, a.Name, a.Email, addr})
			} else {
				staff++
			}
		}
		return nil
	})
	return customers, staff, err
}

func (g *generator) address() c.Address {
	city := cities[g.rng.IntN(len(cities))]
	return c.Address{
		Line1:      fmt.Sprintf("%d %s", 1+g.rng.IntN(200), city.street),
		City:       city.city,
		Region:     city.region,
		PostalCode: city.postalCode,
		Country:    city.country,
	}
}
