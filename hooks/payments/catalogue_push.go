package payments

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// stripeFields are the product fields Stripe holds a copy of.
var stripeFields = []string{c.ProductName, c.ProductDescription, c.ProductActive, c.ProductPrice, c.ProductCurrency}

func registerCataloguePush(app core.App, p *Payments) {
	app.OnRecordCreateRequest(c.Products).BindFunc(markForPush)
	app.OnRecordUpdateRequest(c.Products).BindFunc(markForPush)
	app.OnRecordAfterCreateSuccess(c.Products).BindFunc(p.queuePush)
	app.OnRecordAfterUpdateSuccess(c.Products).BindFunc(p.queuePush)
}

// markForPush flags a catalogue change made in the shop as pending, in
// the same write, so it is never lost: the push after the commit clears
// it, and the nightly sync retries what is still pending or failed.
func markForPush(e *core.RecordRequestEvent) error {
	if e.Record.IsNew() || len(audit.ChangedFields(e.Record, stripeFields...)) > 0 {
		e.Record.Set(c.ProductStripeSync, c.StripeSyncPending)
	}
	return e.Next()
}

// queuePush starts the background push of a pending product after its
// save has committed; a Stripe outage never blocks the save.
func (p *Payments) queuePush(e *core.RecordEvent) error {
	if p.stripe != nil && e.Record.GetString(c.ProductStripeSync) == c.StripeSyncPending {
		p.startPush(e.Record.Id)
	}
	return e.Next()
}

// startPush runs pushWithRetries for a product unless one is running, in
// which case that one runs again when it ends.
func (p *Payments) startPush(productID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, running := p.pushing[productID]; running {
		p.pushing[productID] = true
		return
	}
	p.pushing[productID] = false
	p.runPushLocked(productID)
}

// claimPush reserves the product's push for the caller, who then either
// runs it (runClaimedPush) or gives it back (releasePush); false when a
// push runs or is claimed already.
func (p *Payments) claimPush(productID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, running := p.pushing[productID]; running {
		return false
	}
	p.pushing[productID] = false
	return true
}

// runClaimedPush starts the push claimed by claimPush.
func (p *Payments) runClaimedPush(productID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runPushLocked(productID)
}

// releasePush gives back a claim whose push was not needed, unless a
// change asked for one meanwhile: then it runs.
func (p *Payments) releasePush(productID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pushing[productID] {
		p.pushing[productID] = false
		p.runPushLocked(productID)
		return
	}
	delete(p.pushing, productID)
}

// runPushLocked starts the goroutine that pushes the product, again as
// long as a change asks for it meanwhile; p.mu is held and the product's
// entry in p.pushing is set.
func (p *Payments) runPushLocked(productID string) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			p.pushWithRetries(productID)
			p.mu.Lock()
			again := p.pushing[productID]
			if !again {
				delete(p.pushing, productID)
				p.mu.Unlock()
				return
			}
			p.pushing[productID] = false
			p.mu.Unlock()
		}
	}()
}

// pushWithRetries pushes a product, waiting between failed attempts, and
// marks it failed after the last.
func (p *Payments) pushWithRetries(productID string) {
	log := p.app.Logger().With("job", "catalogue_push", "product", productID)
	for attempt := 0; ; attempt++ {
		err := p.pushProduct(p.ctx, productID)
		if err == nil {
			return
		}
		logStripeFailure(p.app, "push product", err, "product", productID, "attempt", attempt+1)
		if attempt == len(p.cfg.PushRetryDelays) || p.ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(p.cfg.PushRetryDelays[attempt]):
		case <-p.ctx.Done():
		}
	}
	if p.ctx.Err() != nil {
		return // shutting down: it stays pending for the next start or sync
	}
	if err := p.setStripeSync(productID, "", "", c.StripeSyncFailed, ""); err != nil {
		log.Error("could not mark product push failed", "error", err.Error())
	}
}

// pushProduct makes the Stripe product match ours: created or updated, and
// when the price or currency changed a new Stripe price (prices are
// immutable) that becomes the default, with every other active price of the
// product deactivated. Each Stripe id is stored as soon as it exists, so a
// push that fails half-way resumes where it stopped instead of creating
// twice. Idempotency keys carry the product's update time, so a retry
// repeats the same request and a later change makes a new one.
func (p *Payments) pushProduct(ctx context.Context, productID string) error {
	record, err := p.app.FindRecordById(c.Products, productID)
	if err != nil {
		return nil // deleted meanwhile: nothing to push
	}
	prod := c.NewProduct(record)
	version := fmt.Sprintf("%s-%d", productID, record.GetDateTime(c.ProductUpdated).Time().UnixMilli())
	meta := map[string]string{"product_id": productID}
	description := record.GetString(c.ProductDescription)

	stripeProduct := prod.StripeProduct()
	params := &stripe.ProductParams{
		Params:      stripe.Params{Context: ctx},
		Name:        stripe.String(prod.Name()),
		Description: stripe.String(description), // "" clears it
		Active:      stripe.Bool(prod.Active()),
		Metadata:    meta,
	}
	if stripeProduct == "" {
		if description == "" {
			params.Description = nil // Stripe refuses an empty one on create
		}
		params.SetIdempotencyKey("product-create-" + productID)
		product, err := p.stripe.Products.New(params)
		if err != nil {
			return err
		}
		stripeProduct = product.ID
		if err := p.storeStripeID(productID, c.ProductStripeProduct, stripeProduct); err != nil {
			return err
		}
	} else {
		params.SetIdempotencyKey("product-update-" + version)
		if _, err := p.stripe.Products.Update(stripeProduct, params); err != nil {
			return err
		}
	}

	stripePrice := prod.StripePrice()
	current := stripePrice != ""
	if current {
		price, err := p.stripe.Prices.Get(stripePrice, &stripe.PriceParams{Params: stripe.Params{Context: ctx}})
		if err != nil {
			return err
		}
		current = price.Active && price.UnitAmount == int64(prod.Price()) && string(price.Currency) == prod.Currency()
	}
	if !current {
		priceParams := &stripe.PriceParams{
			Params:     stripe.Params{Context: ctx},
			Product:    stripe.String(stripeProduct),
			UnitAmount: stripe.Int64(int64(prod.Price())),
			Currency:   stripe.String(prod.Currency()),
			Metadata:   meta,
		}
		priceParams.SetIdempotencyKey("price-create-" + version)
		newPrice, err := p.stripe.Prices.New(priceParams)
		if err != nil {
			return err
		}
		stripePrice = newPrice.ID
		if err := p.storeStripeID(productID, c.ProductStripePrice, stripePrice); err != nil {
			return err
		}
		defaultPrice := &stripe.ProductParams{Params: stripe.Params{Context: ctx}, DefaultPrice: stripe.String(stripePrice)}
		defaultPrice.SetIdempotencyKey("product-default-price-" + stripePrice)
		if _, err := p.stripe.Products.Update(stripeProduct, defaultPrice); err != nil {
			return err
		}
	}
	if err := p.deactivateOtherPrices(ctx, stripeProduct, stripePrice); err != nil {
		return err
	}
	return p.setStripeSync(productID, stripeProduct, stripePrice, c.StripeSyncSynced, version)
}

// deactivateOtherPrices leaves keep as the product's only active price.
func (p *Payments) deactivateOtherPrices(ctx context.Context, stripeProduct, keep string) error {
	list := &stripe.PriceListParams{Product: stripe.String(stripeProduct), Active: stripe.Bool(true)}
	list.Context = ctx
	iter := p.stripe.Prices.List(list)
	for iter.Next() {
		price := iter.Price()
		if price.ID == keep || price.Product == nil || price.Product.ID != stripeProduct {
			continue
		}
		params := &stripe.PriceParams{Params: stripe.Params{Context: ctx}, Active: stripe.Bool(false)}
		params.SetIdempotencyKey("price-deactivate-" + price.ID)
		if _, err := p.stripe.Prices.Update(price.ID, params); err != nil {
			return err
		}
	}
	return iter.Err()
}

// storeStripeID records a Stripe id the moment Stripe made it, as a plain
// column write: a record save would change the product's update time (the
// push's version) and start another push.
func (p *Payments) storeStripeID(productID, field, id string) error {
	_, err := p.app.DB().Update(c.Products, dbx.Params{field: id}, dbx.HashExp{"id": productID}).Execute()
	if err != nil {
		return fmt.Errorf("store %s of product %s: %w", field, productID, err)
	}
	return nil
}

// setStripeSync records a push's outcome. A product changed since the push
// read it (another version) keeps its pending mark: its own push follows.
func (p *Payments) setStripeSync(productID, stripeProduct, stripePrice, state, version string) error {
	return p.app.RunInTransaction(func(tx core.App) error {
		record, err := tx.FindRecordById(c.Products, productID)
		if err != nil {
			return nil
		}
		if stripeProduct != "" {
			record.Set(c.ProductStripeProduct, stripeProduct)
		}
		if stripePrice != "" {
			record.Set(c.ProductStripePrice, stripePrice)
		}
		current := fmt.Sprintf("%s-%d", productID, record.GetDateTime(c.ProductUpdated).Time().UnixMilli())
		if version == "" || version == current {
			record.Set(c.ProductStripeSync, state)
		}
		return tx.Save(record)
	})
}

// pushAgain is POST /api/v1/products/{id}/push: store asks for a product
// whose push failed, or that was never sent, to be pushed to Stripe now. It
// answers 202 with the product marked pending; the push runs in the
// background as after any catalogue change, and the product's stripe_sync
// tells how it ended. A product in step with Stripe, or whose push is
// under way, is a 409.
//
// The product is marked with one conditional UPDATE of stripe_sync and
// updated alone (a fresh update time gives the push fresh idempotency
// keys), not by saving the record read before: a store edit committed in
// between would be written back over.
func (p *Payments) pushAgain(e *core.RequestEvent) error {
	if p.stripe == nil {
		return errPaymentsOff()
	}
	record, err := e.App.FindRecordById(c.Products, e.Request.PathValue("id"))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	state := record.GetString(c.ProductStripeSync)
	if state == c.StripeSyncSynced {
		return router.NewApiError(http.StatusConflict, "This product is already up to date in Stripe.", nil)
	}
	// The claim makes check-and-mark one step for pushes at once: a second
	// request that read the same pending state gets its 409 here. Whatever
	// happens next, a panic included, the claim either starts the push of
	// the marked product or is given back.
	if !p.claimPush(record.Id) {
		return router.NewApiError(http.StatusConflict, "This product is being sent to Stripe now.", nil)
	}
	marked := false
	defer func() {
		if marked {
			p.runClaimedPush(record.Id)
		} else {
			p.releasePush(record.Id)
		}
	}()
	updated := false
	err = e.App.RunInTransaction(func(tx core.App) error {
		res, err := tx.DB().Update(c.Products,
			dbx.Params{c.ProductStripeSync: c.StripeSyncPending, c.ProductUpdated: types.NowDateTime().String()},
			dbx.HashExp{"id": record.Id, c.ProductStripeSync: state}).Execute()
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another request or push changed it meanwhile
		}
		updated = true
		return audit.Write(tx, audit.Actor(e.Auth), "product.push", c.AuditRef(c.Products, record.Id), map[string]any{"from": state})
	})
	if err != nil {
		return e.InternalServerError("", err)
	}
	if marked = updated; !marked {
		return router.NewApiError(http.StatusConflict, "This product changed meanwhile: reload it and try again.", nil)
	}
	// Read as marked, before the push (started on return) moves on.
	fresh, err := e.App.FindRecordById(c.Products, record.Id)
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusAccepted, map[string]any{"product": fresh})
}
