package collections

// Shop is a one-record collection with the shop's postal address and support
// email, used in emails and the page footer. Its name is PocketBase's
// application name. Anyone may read it; superusers edit it in /_/.
const Shop = "shop"

// Fields of shop.
const (
	ShopAddress      = "address"
	ShopSupportEmail = "support_email"
)

// Access rules of shop.
const (
	ShopListRule = ""
	ShopViewRule = ""
)
