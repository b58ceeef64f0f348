package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/jobs"
	"shopdash/hooks/records"
)

// Sync tuning.
const (
	// syncOverlap reaches back before the last watermark, for invoices
	// that Stripe dated just before a run but listed just after it.
	syncOverlap = time.Hour
	// defaultSyncBatch is how many records one write transaction holds: enough
	// that the pages of indexes keyed by random ids are written once for
	// many records (100,000 invoices: 30 s at 100, 20 s at 2,000 before the
	// writer's tuning, 15.5 s at 2,000 and 13.6 s at 4,000 after), while
	// the write lock is held about half a second.
	defaultSyncBatch = 4000
)

// errDryRun rolls back the writes of a dry run.
var errDryRun = errors.New("dry run")

// RunSync is the stripe_sync job: syncStripe, and an alert to the
// operator when it fails.
func (p *Payments) RunSync(ctx context.Context, run *jobs.Run) error {
	err := p.syncStripe(ctx, run)
	if err != nil && !jobs.Cancelled(ctx, err) {
		counts := run.Counts
		p.alerts.Alert("the Stripe sync failed",
			fmt.Sprintf("Run %s of the Stripe sync failed after %d records (%d created, %d updated): %v. Its watermark stays; rerun it with `shopdash sync stripe` when the cause is fixed.",
				run.ID, counts.Fetched, counts.Created, counts.Updated, err), "job", JobStripeSync, "run", run.ID)
	}
	return err
}

// syncStripe pulls paid invoices created since the last successful run's
// watermark (minus an overlap), then products and prices, into the
// database, and pushes the catalogue changes still pending. Every write is
// an idempotent upsert shared with the webhooks, and silent (no customer
// email). A Stripe failure ends the run without moving the watermark, so
// the next run picks up from the same place; one bad record is counted
// failed and the run goes on. The new watermark is the run's start, or
// none when --since left a gap before it.
func (p *Payments) syncStripe(ctx context.Context, run *jobs.Run) error {
	if p.stripe == nil {
		return errors.New("STRIPE_SECRET_KEY is not set")
	}
	opts, log, counts := run.Options, run.Log, &run.Counts
	started := time.Now().UTC()
	previous, err := jobs.LastWatermark(p.app, JobStripeSync)
	if err != nil {
		return err
	}
	since := opts.Since
	if since.IsZero() && !previous.IsZero() {
		since = previous.Add(-syncOverlap)
	}
	// A run from a later date than the watermark leaves a gap behind it:
	// it must not move the watermark past that gap.
	newWatermark := started
	if !opts.Since.IsZero() && !previous.IsZero() && opts.Since.After(previous.Add(-syncOverlap)) {
		newWatermark = time.Time{}
	}
	silent := records.WithoutEmails(ctx)
	batch := p.cfg.SyncBatch
	if batch <= 0 {
		batch = defaultSyncBatch
	}
	restore, err := checkpointRarely(p.app)
	if err != nil {
		return err
	}
	defer restore()

	invoices := &stripe.InvoiceListParams{Status: stripe.String(string(stripe.InvoiceStatusPaid))}
	invoices.Context = ctx
	invoices.Limit = stripe.Int64(100)
	if !since.IsZero() {
		invoices.CreatedRange = &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}
	}
	invoiceIter := p.stripe.Invoices.List(invoices)
	err = stripeWalk[*stripe.Invoice]{
		batch: batch,
		kind:  "invoice", next: invoiceIter.Next, item: invoiceIter.Invoice, err: invoiceIter.Err,
		id: func(inv *stripe.Invoice) string { return inv.ID },
		upsert: func(tx core.App, batch []*stripe.Invoice) ([]upsertOutcome, []string, error) {
			return importInvoices(silent, tx, batch)
		},
		committed: p.answers.Changed,
	}.run(ctx, p.app, log, counts, opts.DryRun)
	if err != nil {
		return fmt.Errorf("sync invoices: %w", err)
	}

	products := &stripe.ProductListParams{}
	products.Context = ctx
	products.Limit = stripe.Int64(100)
	productIter := p.stripe.Products.List(products)
	err = stripeWalk[*stripe.Product]{
		batch: batch,
		kind:  "product", next: productIter.Next, item: productIter.Product, err: productIter.Err,
		id: func(sp *stripe.Product) string { return sp.ID },
		upsert: eachItem(func(tx core.App, sp *stripe.Product) (upsertOutcome, error) {
			return upsertStripeProduct(tx, sp, false)
		}),
	}.run(ctx, p.app, log, counts, opts.DryRun)
	if err != nil {
		return fmt.Errorf("sync products: %w", err)
	}

	prices := &stripe.PriceListParams{Active: stripe.Bool(true)}
	prices.Context = ctx
	prices.Limit = stripe.Int64(100)
	priceIter := p.stripe.Prices.List(prices)
	err = stripeWalk[*stripe.Price]{
		batch: batch,
		kind:  "price", next: priceIter.Next, item: priceIter.Price, err: priceIter.Err,
		id: func(pr *stripe.Price) string { return pr.ID },
		upsert: eachItem(func(tx core.App, pr *stripe.Price) (upsertOutcome, error) {
			return applyStripePrice(tx, pr, false, false)
		}),
	}.run(ctx, p.app, log, counts, opts.DryRun)
	if err != nil {
		return fmt.Errorf("sync prices: %w", err)
	}

	if !opts.DryRun {
		p.pushPendingProducts(ctx, log, counts)
	}
	run.Watermark = newWatermark
	return ctx.Err()
}

// syncCheckpointPages is how much of the write-ahead log the sync lets
// grow before it is copied into the database: 16,000 pages (64 MB), against
// SQLite's 1,000, so that an index page changed by many of the sync's
// transactions is copied once (the sync of 100,000 invoices: 18.9 -> 16.1 s).
// Only during the sync: with synchronous=NORMAL the log reaches the disk
// at checkpoints, so a power failure (not a crash of the process) can undo
// the transactions since the last one; a sync's are fetched again by the
// next run, a webhook's would not be.
const syncCheckpointPages = 16000

// checkpointRarely sets syncCheckpointPages on the writing connection and
// returns what sets back its value from before.
func checkpointRarely(app core.App) (restore func(), err error) {
	var before int
	if err := app.NonconcurrentDB().NewQuery("PRAGMA wal_autocheckpoint").Row(&before); err != nil {
		return nil, fmt.Errorf("read wal_autocheckpoint: %w", err)
	}
	set := func(pages int) error {
		_, err := app.NonconcurrentDB().NewQuery(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", pages)).Execute()
		return err
	}
	if err := set(syncCheckpointPages); err != nil {
		return nil, fmt.Errorf("set wal_autocheckpoint: %w", err)
	}
	return func() {
		if err := set(before); err != nil {
			app.Logger().Error("restore wal_autocheckpoint", "job", JobStripeSync, "error", err.Error())
		}
	}, nil
}

// stripeWalk is one kind of Stripe object the sync walks: a stripe-go
// iterator (every page, cancelled with its params' context) and the upsert
// of one item.
type stripeWalk[T any] struct {
	kind  string
	batch int // records a transaction
	next  func() bool
	item  func() T
	err   func() error
	id    func(T) string
	// upsert writes a batch in tx: the outcome of each item, and the
	// customers whose orders it changed past the record hooks.
	upsert func(tx core.App, batch []T) ([]upsertOutcome, []string, error)
	// committed, if set, hears of each such customer after the commit.
	committed func(customer string)
}

// eachItem is the upsert of a batch that writes its items one by one.
func eachItem[T any](upsert func(core.App, T) (upsertOutcome, error)) func(core.App, []T) ([]upsertOutcome, []string, error) {
	return func(tx core.App, batch []T) ([]upsertOutcome, []string, error) {
		outcomes := make([]upsertOutcome, 0, len(batch))
		for _, item := range batch {
			o, err := upsert(tx, item)
			if err != nil {
				return nil, nil, err
			}
			outcomes = append(outcomes, o)
		}
		return outcomes, nil, nil
	}
}

// run upserts the items w.batch to a transaction. The next items are
// fetched while a batch is written: Stripe's answers and SQLite's writes
// overlap instead of taking turns. Once ctx is done (a pause, shutdown)
// it writes no more: the watermark stays, so the next run fetches the rest
// again.
func (w stripeWalk[T]) run(ctx context.Context, app core.App, log *slog.Logger, counts *jobs.RunCounts, dryRun bool) error {
	fetched := make(chan T, w.batch)
	go func() {
		defer close(fetched)
		for w.next() {
			select {
			case fetched <- w.item():
			case <-ctx.Done():
				return
			}
		}
	}()
	var batch []T
	for item := range fetched {
		if ctx.Err() != nil {
			continue // drain: the fetching stops at the next item
		}
		batch = append(batch, item)
		counts.Fetched++
		if len(batch) == w.batch {
			w.write(ctx, app, log, batch, counts, dryRun)
			batch = batch[:0]
		}
	}
	w.write(ctx, app, log, batch, counts, dryRun)
	return w.err() // fetched is closed: the iterator is done
}

// write upserts a batch in one transaction. If the batch fails it is
// written again one item per transaction, so a bad item is counted failed
// and logged without holding back the others; unless ctx is done, which
// fails every write that takes it and is no fault of the items.
func (w stripeWalk[T]) write(ctx context.Context, app core.App, log *slog.Logger, batch []T, counts *jobs.RunCounts, dryRun bool) {
	if len(batch) == 0 || ctx.Err() != nil {
		return
	}
	if outcomes, err := w.writeTx(app, batch, dryRun); err == nil {
		for _, o := range outcomes {
			countOutcome(counts, o)
		}
		return
	}
	for _, item := range batch {
		if ctx.Err() != nil {
			return
		}
		outcomes, err := w.writeTx(app, []T{item}, dryRun)
		if err != nil {
			counts.Failed++
			log.Warn("sync skipped a bad record", "kind", w.kind, "stripe_id", w.id(item), "error", err.Error())
			continue
		}
		countOutcome(counts, outcomes[0])
	}
}

func (w stripeWalk[T]) writeTx(app core.App, batch []T, dryRun bool) ([]upsertOutcome, error) {
	var outcomes []upsertOutcome
	var customers []string
	err := app.RunInTransaction(func(tx core.App) error {
		var err error
		if outcomes, customers, err = w.upsert(tx, batch); err != nil {
			return fmt.Errorf("%s: %w", w.kind, err)
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return outcomes, nil
	}
	if err != nil {
		return nil, err
	}
	if w.committed != nil {
		for _, customer := range customers {
			w.committed(customer)
		}
	}
	return outcomes, nil
}

// pushPendingProducts pushes the catalogue changes that the background push
// could not make (Stripe was down, or the process stopped).
func (p *Payments) pushPendingProducts(ctx context.Context, log *slog.Logger, counts *jobs.RunCounts) {
	pending, err := p.app.FindAllRecords(c.Products, dbx.In(c.ProductStripeSync, c.StripeSyncPending, c.StripeSyncFailed))
	if err != nil {
		log.Error("list products to push", "error", err.Error())
		return
	}
	for _, product := range pending {
		if ctx.Err() != nil {
			return
		}
		counts.Fetched++
		if err := p.pushProduct(ctx, product.Id); err != nil {
			counts.Failed++
			logStripeFailure(p.app, "push product", err, "job", JobStripeSync, "product", product.Id)
			continue
		}
		counts.Updated++
	}
}

// countOutcome counts one record's upsert in a run's counts.
func countOutcome(counts *jobs.RunCounts, o upsertOutcome) {
	switch o {
	case outcomeCreated:
		counts.Created++
	case outcomeUpdated:
		counts.Updated++
	default:
		counts.Skipped++
	}
}
