package seed

import (
	"fmt"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	c "shopdash/collections"
)

// demoProduct is one product of the demo catalogue.
type demoProduct struct {
	name        string
	description string
	price       int // cents
	featured    bool
	digital     bool
	inactive    bool
}

// catalogue is the demo shop: 30 products, 8 featured, 5 digital, 3 inactive.
var catalogue = []demoProduct{
	{"Linen Shirt", "A breathable shirt in washed linen.", 5900, true, false, false},
	{"Canvas Tote", "A heavy cotton tote for the market.", 1900, true, false, false},
	{"Ceramic Mug", "Stoneware mug, 350 ml, dishwasher safe.", 1600, true, false, false},
	{"Wool Beanie", "Merino beanie knitted in Portugal.", 2900, false, false, false},
	{"Leather Wallet", "Vegetable-tanned leather, six card slots.", 4900, true, false, false},
	{"Desk Lamp", "Adjustable lamp with a warm LED.", 7900, false, false, false},
	{"Notebook A5", "Dotted pages, lay-flat binding.", 1200, false, false, false},
	{"Fountain Pen", "Steel nib, converter included.", 3900, false, false, false},
	{"Water Bottle", "Insulated steel bottle, 750 ml.", 2900, true, false, false},
	{"Running Socks", "Three pairs of cushioned socks.", 1800, false, false, false},
	{"Rain Jacket", "Packable jacket with taped seams.", 11900, false, false, false},
	{"Cotton Hoodie", "Brushed fleece hoodie.", 6900, false, false, false},
	{"Plant Pot", "Terracotta pot with saucer.", 2200, false, false, false},
	{"Scented Candle", "Soy wax, cedar and fig.", 2400, false, false, false},
	{"Tea Sampler", "Twelve loose-leaf teas.", 2700, false, false, false},
	{"Coffee Beans", "Single-origin beans, 500 g.", 1700, false, false, false},
	{"Chef Knife", "20 cm knife in carbon steel.", 8900, false, false, false},
	{"Cutting Board", "End-grain walnut board.", 6400, false, false, false},
	{"Bath Towel", "Organic cotton, 600 g/m².", 3400, false, false, false},
	{"Throw Blanket", "Recycled wool blanket.", 9900, false, false, false},
	{"Sunglasses", "Polarised lenses, acetate frame.", 7400, false, false, false},
	{"Backpack", "20 l roll-top backpack.", 10900, false, false, false},
	{"Photo Book: Coasts", "A digital photo book of 80 coastal photographs.", 1500, true, true, false},
	{"Recipe Collection", "Sixty seasonal recipes as a PDF.", 900, false, true, false},
	{"Illustrated Map Print", "A printable high-resolution map.", 1200, false, true, false},
	{"Woodworking Plans", "Plans for a small bench, with cut lists.", 1900, true, true, false},
	{"Meditation Audio", "Ten guided sessions to download.", 1100, false, true, false},
	{"Vintage Poster", "Sold out for good.", 3900, false, false, true},
	{"Summer Hat", "Last season's straw hat.", 2900, false, false, true},
	{"Gift Wrap", "Discontinued gift wrap set.", 500, false, false, true},
}

// demoCity is a shipping destination with a postal code in its country's format.
type demoCity struct {
	street, city, region, postalCode, country string
}

var cities = []demoCity{
	{"Main Street", "Springfield", "IL", "62701", "US"},
	{"Oak Avenue", "Portland", "OR", "97205", "US"},
	{"Calle Mayor", "Madrid", "Madrid", "28013", "ES"},
	{"Rue de la République", "Lyon", "Auvergne-Rhône-Alpes", "69002", "FR"},
	{"Hauptstraße", "Berlin", "Berlin", "10115", "DE"},
	{"High Street", "Manchester", "", "M1 1AE", "GB"},
	{"King Street", "Toronto", "ON", "M5V 2T6", "CA"},
}

var firstNames = []string{"Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Avery", "Quinn", "Lucía", "Mateo", "Chloé", "Lukas", "Emma", "Noah"}
var lastNames = []string{"Smith", "García", "Martin", "Müller", "Brown", "López", "Bernard", "Schmidt", "Wilson", "Moreau", "Fernández", "Weber"}

type seededProduct struct {
	id      string
	name    string
	price   int
	digital bool
	active  bool
}

// createProducts saves the demo catalogue with a generated image each and
// a small download for the digital products.
func (g *generator) createProducts(app core.App) (int, error) {
	col, err := app.FindCollectionByNameOrId(c.Products)
	if err != nil {
		return 0, err
	}
	for i, d := range catalogue {
		p := core.NewRecord(col)
		p.Id = g.id()
		p.Set(c.ProductName, d.name)
		p.Set(c.ProductDescription, d.description)
		p.Set(c.ProductPrice, d.price)
		p.Set(c.ProductCurrency, c.DefaultCurrency)
		p.Set(c.ProductActive, !d.inactive)
		p.Set(c.ProductFeatured, d.featured)
		p.Set(c.ProductDigital, d.digital)
		if d.digital {
			p.Set(c.ProductStock, 0)
			asset, err := filesystem.NewFileFromBytes([]byte(fmt.Sprintf("%s\n\nThank you for your purchase.\n", d.name)), slug(d.name)+".txt")
			if err != nil {
				return i, err
			}
			p.Set(c.ProductAsset, asset)
		} else if !d.inactive {
			p.Set(c.ProductStock, 20+g.rng.IntN(180))
		}
		image, err := filesystem.NewFileFromBytes(productImage(d.name, i), slug(d.name)+".svg")
		if err != nil {
			return i, err
		}
		p.Set(c.ProductImage, image)
		if err := app.Save(p); err != nil {
			return i, fmt.Errorf("product %q: %w", d.name, err)
		}
		g.products = append(g.products, seededProduct{p.Id, d.name, d.price, d.digital, !d.inactive})
	}
	return len(catalogue), nil
}

// productImage draws a plain tile with the product's initials.
func productImage(name string, n int) []byte {
	hue := (n * 47) % 360
	initials := ""
	for _, word := range strings.Fields(name) {
		initials += strings.ToUpper(word[:1])
		if len(initials) == 2 {
			break
		}
	}
	return []byte(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">`+
		`<rect width="400" height="400" fill="hsl(%d,45%%,82%%)"/>`+
		`<text x="200" y="230" font-family="sans-serif" font-size="120" text-anchor="middle" fill="hsl(%d,45%%,25%%)">%s</text></svg>`,
		hue, hue, initials))
}

func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}
