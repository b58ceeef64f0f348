// Package seed fills the shop with demo or load data: the demo logins, a
// catalogue and orders over the past months, the same for the same seed.
package seed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// Options say how much to seed. The json names are the command's flags,
// which validation errors name.
type Options struct {
	// Customers is the number of customer accounts, the two demo ones included.
	Customers int `json:"users"`
	// OrdersPerCustomer is the number of orders of every customer.
	OrdersPerCustomer int `json:"orders-per-user"`
	// Months is how far back the orders go.
	Months int `json:"months"`
	// Seed makes the data: the same seed gives the same shop.
	Seed uint64
	// Reset deletes the shop's data first; without it a shop that has
	// users or products is left alone.
	Reset bool
	// Now is the moment the data is seeded relative to; zero means now.
	Now time.Time
}

// DefaultOptions are the demo shop of `make run`.
func DefaultOptions() Options {
	return Options{Customers: 2, OrdersPerCustomer: 30, Months: 14, Seed: 1}
}

// Validate checks the options' ranges.
func (o Options) Validate() error {
	return validation.ValidateStruct(&o,
		validation.Field(&o.Customers, validation.Required, validation.Min(2), validation.Max(1_000_000)),
		validation.Field(&o.OrdersPerCustomer, validation.Min(0), validation.Max(10_000)),
		validation.Field(&o.Months, validation.Required, validation.Min(1), validation.Max(120)),
	)
}

// Report says what a run did.
type Report struct {
	Skipped   bool
	Customers int `json:"users"`
	Staff     int
	Products  int
	Orders    int
	Items     int
	Elapsed   time.Duration
}

// ErrNotEmpty is returned when the shop has data and Reset is off.
var ErrNotEmpty = errors.New("the shop already has users or products: seed skipped (use --reset to replace them)")

// Run seeds the shop. On a shop that has users or products it returns
// ErrNotEmpty and changes nothing, unless opts.Reset is set.
func Run(app core.App, opts Options) (Report, error) {
	started := time.Now()
	if err := opts.Validate(); err != nil {
		return Report{}, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC()

	if opts.Reset {
		if err := wipe(app); err != nil {
			return Report{}, err
		}
	} else if empty, err := isEmpty(app); err != nil {
		return Report{}, err
	} else if !empty {
		return Report{Skipped: true}, ErrNotEmpty
	}

	g := &generator{
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed5eed)),
		opts: opts,
	}
	var report Report
	var err error
	if report.Products, err = g.createProducts(app); err != nil {
		return report, fmt.Errorf("seed products: %w", err)
	}
	if report.Customers, report.Staff, err = g.createAccounts(app); err != nil {
		return report, fmt.Errorf("seed accounts: %w", err)
	}
	if report.Orders, report.Items, err = g.createOrders(app); err != nil {
		return report, fmt.Errorf("seed orders: %w", err)
	}
	report.Elapsed = time.Since(started)
	return report, nil
}

// generator holds the random source and what has been made so far.
type generator struct {
	rng       *rand.Rand
	opts      Options
	products  []seededProduct
	customers []seededCustomer
	numbers   map[string]bool
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// id makes a PocketBase record id from the seeded random source.
func (g *generator) id() string {
	b := make([]byte, 15)
	for i := range b {
		b[i] = idAlphabet[g.rng.IntN(len(idAlphabet))]
	}
	return string(b)
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func isEmpty(app core.App) (bool, error) {
	for _, name := range []string{c.Users, c.Products} {
		n, err := app.CountRecords(name)
		if err != nil {
			return false, fmt.Errorf("count %s: %w", name, err)
		}
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}

// wipe deletes every shop record. Bookkeeping goes with it: it describes
// orders that no longer exist. Products are deleted one by one so their
// files go too.
func wipe(app core.App) error {
	return app.RunInTransaction(func(tx core.App) error {
		for _, table := range []string{c.EmailJobs, c.StripeEvents, c.JobRuns, c.AuditLog, c.OrderItems, c.Orders} {
			if _, err := tx.DB().Delete(table, nil).Execute(); err != nil {
				return fmt.Errorf("wipe %s: %w", table, err)
			}
		}
		products, err := tx.FindAllRecords(c.Products)
		if err != nil {
			return err
		}
		for _, p := range products {
			if err := tx.Delete(p); err != nil {
				return fmt.Errorf("wipe product %s: %w", p.Id, err)
			}
		}
		users, err := tx.FindAllRecords(c.Users)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.Delete(u); err != nil {
				return fmt.Errorf("wipe user %s: %w", u.Id, err)
			}
		}
		return nil
	})
}
