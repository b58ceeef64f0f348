package collections

// Shop is a one-record collection with the shop's postal address and support
// email, used in emails and the page footer. Its name is PocketBase's
// application name. Signed-in users read it (guests see active products and
// nothing else); superusers edit it in /_/.
const Shop = "shop"

// Fields of shop.
const (
	ShopAddress      = "address"
	ShopSupportEmail = "support_email"
)

// Access rules of shop.
const (
	ShopListRule = `@request.auth.id != ""`
	ShopViewRule = ShopListRule
)
