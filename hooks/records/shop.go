package records

import (
	"fmt"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

func registerShop(app core.App) {
	app.OnRecordCreate(c.Shop).BindFunc(keepOneShopRecord)
	app.OnRecordDelete(c.Shop).BindFunc(func(e *core.RecordEvent) error {
		return validation.Errors{"id": validation.NewError("validation_shop_required", "The shop record holds the shop's address: edit it instead.")}
	})
}

// keepOneShopRecord refuses a second shop record: there is one shop.
func keepOneShopRecord(e *core.RecordEvent) error {
	n, err := e.App.CountRecords(c.Shop)
	if err != nil {
		return fmt.Errorf("count shop records: %w", err)
	}
	if n > 0 {
		return validation.Errors{"id": validation.NewError("validation_shop_exists", "There is one shop record: edit it instead.")}
	}
	return e.Next()
}
