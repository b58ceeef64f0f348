package collections

import "github.com/pocketbase/pocketbase/core"

// Products is the shop's catalogue.
const Products = "products"

// Fields of products.
const (
	ProductName          = "name"
	ProductDescription   = "description"
	ProductPrice         = "price"
	ProductCurrency      = "currency"
	ProductImage         = "image"
	ProductStock         = "stock"
	ProductActive        = "active"
	ProductFeatured      = "featured"
	ProductDigital       = "digital"
	ProductAsset         = "asset"
	ProductStripeProduct = "stripe_product"
	ProductStripePrice   = "stripe_price"
	ProductStripeSync    = "stripe_sync"
	ProductCreated       = "created"
	ProductUpdated       = "updated"
)

// Values of products.stripe_sync.
const (
	StripeSyncPending = "pending"
	StripeSyncSynced  = "synced"
	StripeSyncFailed  = "failed"
)

// DefaultCurrency is the currency of a product created without one.
const DefaultCurrency = "usd"

// Access rules of products. Guests and customers see active products; staff
// see all. Only store edits the catalogue, and never the Stripe bookkeeping,
// which the Stripe sync owns. The protected asset of a digital product is
// served to its buyers by GET /api/v1/downloads, so the file-token path
// (context "protectedFile") is open to staff only.
const (
	ProductsListRule   = `(active = true && @request.context != "protectedFile") || @request.auth.role = "support" || @request.auth.role = "store"`
	ProductsViewRule   = ProductsListRule
	ProductsCreateRule = `@request.auth.role = "store" && @request.body.stripe_product:isset = false && @request.body.stripe_price:isset = false && @request.body.stripe_sync:isset = false`
	ProductsUpdateRule = ProductsCreateRule
	ProductsDeleteRule = `@request.auth.role = "store"`
)

// Product is a typed view of a products record.
type Product struct {
	core.BaseRecordProxy
}

// NewProduct wraps a products record.
func NewProduct(record *core.Record) *Product {
	p := &Product{}
	p.SetProxyRecord(record)
	return p
}

// Name is the product's display name.
func (p *Product) Name() string { return p.GetString(ProductName) }

// Price is the unit price in minor units of Currency.
func (p *Product) Price() int { return p.GetInt(ProductPrice) }

// Currency is the lower-case ISO 4217 code of Price.
func (p *Product) Currency() string { return p.GetString(ProductCurrency) }

// Stock is how many units can still be sold.
func (p *Product) Stock() int { return p.GetInt(ProductStock) }

// Active reports whether customers can see and buy the product.
func (p *Product) Active() bool { return p.GetBool(ProductActive) }

// Featured reports whether the dashboard shows the product first.
func (p *Product) Featured() bool { return p.GetBool(ProductFeatured) }

// Digital reports whether the product is a download.
func (p *Product) Digital() bool { return p.GetBool(ProductDigital) }

// Asset is the stored file name of a digital product's download.
func (p *Product) Asset() string { return p.GetString(ProductAsset) }

// StripeProduct is the Stripe product id, or "".
func (p *Product) StripeProduct() string { return p.GetString(ProductStripeProduct) }

// StripePrice is the id of the product's current Stripe price, or "".
func (p *Product) StripePrice() string { return p.GetString(ProductStripePrice) }
