package records

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// Stock moves only by conditional, relative SQL updates, never by writing
// back a value read earlier: products.stock is what can still be sold, and
// each order item's stock_taken is what it holds of it. A checkout reserves
// its units (ReserveStock), payment keeps them, and a cancel, an expiry or a
// refund before shipping gives them back exactly once (ReturnStock). So at
// every moment a product's stock plus what its items hold is what the shop
// was given to sell.

// ReserveStock takes the units of the new order's physical items from
// their products, in tx: one UPDATE per item that succeeds only if the
// stock covers it, so two checkouts can never both take the last unit.
// An item that cannot be covered is a field error on its line (the lines
// are the items' order); the caller rolls tx back.
func ReserveStock(tx core.App, items []*core.Record, products []*c.Product) error {
	lineErrs := validation.Errors{}
	for i, item := range items {
		if products[i].Digital() {
			continue
		}
		n := item.GetInt(c.ItemQuantity)
		ok, err := takeUnits(tx, products[i].Id, n)
		if err != nil {
			return err
		}
		if !ok {
			left, _ := stockOf(tx, products[i].Id)
			lineErrs[fmt.Sprint(i)] = validation.Errors{c.ItemQuantity: validation.NewError("validation_out_of_stock",
				fmt.Sprintf("Only %d left in stock.", left))}
			continue
		}
		item.Set(c.ItemStockTaken, n)
	}
	if len(lineErrs) > 0 {
		return validation.Errors{"items": lineErrs}
	}
	return nil
}

// takeUnits lowers a product's stock by n if it has n, and reports whether
// it did.
func takeUnits(tx core.App, productID string, n int) (bool, error) {
	res, err := tx.DB().NewQuery("UPDATE {{products}} SET [[stock]] = [[stock]] - {:n} WHERE [[id]] = {:id} AND [[stock]] >= {:n}").
		Bind(dbx.Params{"n": n, "id": productID}).Execute()
	if err != nil {
		return false, fmt.Errorf("take %d of product %s: %w", n, productID, err)
	}
	rows, err := res.RowsAffected()
	return rows == 1, err
}

func stockOf(app core.App, productID string) (int, error) {
	var stock int
	err := app.DB().Select(c.ProductStock).From(c.Products).Where(dbx.HashExp{"id": productID}).Row(&stock)
	return stock, err
}

// TakeUnreservedStock takes, when an order is paid, the stock its items
// did not reserve: those of orders placed before checkouts reserved stock.
// A payment cannot be refused, so an item the stock does not cover is sold
// short, logged, and holds nothing: giving it back later must not invent
// stock that was never there.
func TakeUnreservedStock(tx core.App, orderID string) error {
	items, err := physicalItems(tx, orderID)
	if err != nil {
		return err
	}
	for _, it := range items {
		need := it.Quantity - it.Taken
		if it.Taken > 0 || need <= 0 {
			continue
		}
		ok, err := takeUnits(tx, it.Product, need)
		if err != nil {
			return err
		}
		if !ok {
			tx.Logger().Warn("sold more than the stock", "order", orderID, "product", it.Product, "quantity", need)
			continue
		}
		if err := setStockTaken(tx, it.ID, 0, need); err != nil {
			return err
		}
	}
	return nil
}

// ReturnStock gives back what an order's items hold of their products'
// stock, once: each item's stock_taken is zeroed by an UPDATE conditioned
// on the value it read, so a second call (a repeated event, a cancel that
// meets an expiry) finds nothing left to give.
func ReturnStock(tx core.App, orderID string) error {
	// Whatever the product is now: one made digital since still gets back
	// the units its items hold.
	var items []stockItem
	err := tx.DB().Select("id", c.ItemProduct, c.ItemQuantity, c.ItemStockTaken).From(c.OrderItems).
		Where(dbx.HashExp{c.ItemOrder: orderID}).AndWhere(dbx.NewExp("[[" + c.ItemStockTaken + "]] > 0")).
		All(&items)
	if err != nil {
		return fmt.Errorf("items of order %s: %w", orderID, err)
	}
	for _, it := range items {
		if err := setStockTaken(tx, it.ID, it.Taken, 0); err != nil {
			if errors.Is(err, errStockMoved) {
				continue
			}
			return err
		}
		_, err := tx.DB().NewQuery("UPDATE {{products}} SET [[stock]] = [[stock]] + {:n} WHERE [[id]] = {:id}").
			Bind(dbx.Params{"n": it.Taken, "id": it.Product}).Execute()
		if err != nil {
			return fmt.Errorf("return %d of product %s: %w", it.Taken, it.Product, err)
		}
	}
	return nil
}

// errStockMoved is a stock_taken that changed since it was read.
var errStockMoved = errors.New("stock of the item changed meanwhile")

func setStockTaken(tx core.App, itemID string, from, to int) error {
	res, err := tx.DB().NewQuery("UPDATE {{order_items}} SET [[stock_taken]] = {:to} WHERE [[id]] = {:id} AND [[stock_taken]] = {:from}").
		Bind(dbx.Params{"to": to, "from": from, "id": itemID}).Execute()
	if err != nil {
		return fmt.Errorf("stock of order item %s: %w", itemID, err)
	}
	if rows, err := res.RowsAffected(); err != nil || rows != 1 {
		return errStockMoved
	}
	return nil
}

// stockItem is what the stock moves need of an order item.
type stockItem struct {
	ID       string `db:"id"`
	Product  string `db:"product"`
	Quantity int    `db:"quantity"`
	Taken    int    `db:"stock_taken"`
}

// physicalItems are an order's items of products that have stock now.
func physicalItems(app core.App, orderID string) ([]stockItem, error) {
	var items []stockItem
	err := app.DB().NewQuery(`SELECT i.[[id]], i.[[product]], i.[[quantity]], i.[[stock_taken]]
		FROM {{order_items}} i JOIN {{products}} p ON p.[[id]] = i.[[product]]
		WHERE i.[[order]] = {:order} AND p.[[digital]] = FALSE`).
		Bind(dbx.Params{"order": orderID}).All(&items)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("items of order %s: %w", orderID, err)
	}
	return items, nil
}

// returnStockOfDeletedOrder gives back what an order holds when a
// superuser deletes it (its items go with it), in the delete's transaction.
func returnStockOfDeletedOrder(e *core.RecordEvent) error {
	return e.App.RunInTransaction(func(tx core.App) error {
		if err := ReturnStock(tx, e.Record.Id); err != nil {
			return err
		}
		e.App = tx
		return e.Next()
	})
}

// keepStockRelative turns a save of a product's stock into a change of
// the stock by what the writer changed, applied to the stock as it is now.
// A store person's form, or any record loaded before a checkout reserved
// units, would otherwise write back the stock it read and undo the
// reservation.
func keepStockRelative(e *core.RecordEvent) error {
	if original := e.Record.Original(); original != nil && !e.Record.IsNew() {
		delta := e.Record.GetInt(c.ProductStock) - original.GetInt(c.ProductStock)
		current, err := stockOf(e.App, e.Record.Id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("stock of product %s: %w", e.Record.Id, err)
		}
		if err == nil {
			// Below zero, the field's minimum refuses the save.
			e.Record.Set(c.ProductStock, current+delta)
		}
	}
	return e.Next()
}
