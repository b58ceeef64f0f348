package payments

import (
	"context"

	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
)

// The catalogue's other direction: Stripe's product and price events
// copied into the shop's products (the push is catalogue_push.go).

// productChanged copies a Stripe product event into the catalogue.
func productChanged(_ context.Context, app core.App, event stripe.Event) error {
	var sp stripe.Product
	if err := decodeObject(event, &sp); err != nil {
		return err
	}
	_, err := upsertStripeProduct(app, &sp, event.Type == "product.deleted")
	return err
}

// upsertStripeProduct copies a Stripe product into ours, found by its
// Stripe id (or the product id our push put in its metadata) and created
// when unknown. A product with a change of ours still
// to push (pending or failed) is left alone: our change wins, and its push
// follows.
func upsertStripeProduct(app core.App, sp *stripe.Product, deleted bool) (upsertOutcome, error) {
	record, err := productByStripe(app, sp.ID)
	if err != nil {
		return outcomeUnchanged, err
	}
	if record == nil && sp.Metadata["product_id"] != "" {
		// Our own push made it, and its event came before the push could
		// store the Stripe id: link it rather than import a duplicate.
		if own, err := app.FindRecordById(c.Products, sp.Metadata["product_id"]); err == nil {
			if unpushed(own) {
				return outcomeUnchanged, nil
			}
			own.Set(c.ProductStripeProduct, sp.ID)
			record = own
		}
	}
	outcome := outcomeUpdated
	if record == nil {
		if deleted {
			return outcomeUnchanged, nil
		}
		col, err := app.FindCachedCollectionByNameOrId(c.Products)
		if err != nil {
			return outcomeUnchanged, err
		}
		record = core.NewRecord(col)
		record.Set(c.ProductStripeProduct, sp.ID)
		record.Set(c.ProductCurrency, c.DefaultCurrency)
		outcome = outcomeCreated
	} else if unpushed(record) {
		return outcomeUnchanged, nil
	}
	active := sp.Active && !deleted
	if outcome == outcomeUpdated && record.GetString(c.ProductName) == sp.Name &&
		record.GetString(c.ProductDescription) == sp.Description && record.GetBool(c.ProductActive) == active {
		return outcomeUnchanged, nil
	}
	record.Set(c.ProductName, sp.Name)
	record.Set(c.ProductDescription, sp.Description)
	record.Set(c.ProductActive, active)
	record.Set(c.ProductStripeSync, c.StripeSyncSynced)
	return outcome, app.Save(record)
}

// priceChanged copies a Stripe price event into the catalogue.
func priceChanged(_ context.Context, app core.App, event stripe.Event) error {
	var pr stripe.Price
	if err := decodeObject(event, &pr); err != nil {
		return err
	}
	_, err := applyStripePrice(app, &pr, event.Type == "price.created", event.Type == "price.deleted")
	return err
}

// applyStripePrice makes an active one-time price the price of its
// product (a new one, or the current one); when the product's current
// price is deactivated, checkout falls back to price data until a new one
// arrives.
func applyStripePrice(app core.App, pr *stripe.Price, isNew, deleted bool) (upsertOutcome, error) {
	if pr.Product == nil {
		return outcomeUnchanged, nil
	}
	record, err := productByStripe(app, pr.Product.ID)
	if err != nil || record == nil || unpushed(record) {
		return outcomeUnchanged, err
	}
	current := record.GetString(c.ProductStripePrice) == pr.ID
	live := pr.Active && pr.Type == stripe.PriceTypeOneTime && !deleted
	switch {
	case live && (isNew || current):
		if current && record.GetInt(c.ProductPrice) == int(pr.UnitAmount) && record.GetString(c.ProductCurrency) == string(pr.Currency) {
			return outcomeUnchanged, nil
		}
		record.Set(c.ProductStripePrice, pr.ID)
		record.Set(c.ProductPrice, pr.UnitAmount)
		record.Set(c.ProductCurrency, string(pr.Currency))
	case !live && current:
		record.Set(c.ProductStripePrice, "")
	default:
		return outcomeUnchanged, nil
	}
	return outcomeUpdated, app.Save(record)
}

// unpushed reports whether a product holds a change of ours that Stripe
// has not got yet (pending, or failed and waiting for the sync): such a
// product is not overwritten from Stripe; our change is pushed instead.
func unpushed(product *core.Record) bool {
	state := product.GetString(c.ProductStripeSync)
	return state == c.StripeSyncPending || state == c.StripeSyncFailed
}

func productByStripe(app core.App, stripeProduct string) (*core.Record, error) {
	return findByStripeID(app, c.Products, c.ProductStripeProduct, stripeProduct)
}
