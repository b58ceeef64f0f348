package records

import (
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// catalogueFields are the product fields an audit entry reports.
var catalogueFields = []string{
	c.ProductName, c.ProductDescription, c.ProductPrice, c.ProductCurrency, c.ProductStock,
	c.ProductActive, c.ProductFeatured, c.ProductDigital, c.ProductImage, c.ProductAsset,
}

func registerProducts(app core.App) {
	app.OnRecordCreate(c.Products).BindFunc(normaliseCurrency)
	app.OnRecordUpdate(c.Products).BindFunc(normaliseCurrency)
	app.OnRecordUpdate(c.Products).BindFunc(keepStockRelative)
	app.OnRecordDelete(c.Products).BindFunc(refuseDeletingSoldProduct)
	app.OnRecordCreateRequest(c.Products).BindFunc(auditCatalogueChange)
	app.OnRecordUpdateRequest(c.Products).BindFunc(auditCatalogueChange)
	app.OnRecordDeleteRequest(c.Products).BindFunc(auditCatalogueChange)
}

// normaliseCurrency lower-cases the currency and defaults it, as Stripe and
// the rest of the shop expect "usd", never "USD" or "".
func normaliseCurrency(e *core.RecordEvent) error {
	cur := strings.ToLower(strings.TrimSpace(e.Record.GetString(c.ProductCurrency)))
	if cur == "" {
		cur = c.DefaultCurrency
	}
	e.Record.Set(c.ProductCurrency, cur)
	return e.Next()
}

// refuseDeletingSoldProduct keeps a product that any order refers to: the
// orders must still point at it, so it is deactivated instead.
func refuseDeletingSoldProduct(e *core.RecordEvent) error {
	var sold int
	err := e.App.DB().Select("count(*)").From(c.OrderItems).
		Where(dbx.HashExp{c.ItemProduct: e.Record.Id}).Row(&sold)
	if err != nil {
		return fmt.Errorf("count order items of product %s: %w", e.Record.Id, err)
	}
	if sold > 0 {
		return validation.Errors{c.ProductActive: validation.NewError("validation_product_in_orders",
			fmt.Sprintf("This product is in %d order items and cannot be deleted: deactivate it instead.", sold))}
	}
	return e.Next()
}

// auditCatalogueChange records who created, changed or deleted a product,
// with the old and new values of what changed.
func auditCatalogueChange(e *core.RecordRequestEvent) error {
	verb := audit.Verb(e)
	return audit.Request(e, func() (string, map[string]any) {
		if verb != "update" {
			return "product." + verb, map[string]any{"name": e.Record.GetString(c.ProductName)}
		}
		changes := audit.ChangedFields(e.Record, catalogueFields...)
		if len(changes) == 0 {
			return "", nil
		}
		return "product.update", changes
	})
}
