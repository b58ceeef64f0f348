package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/hooks"
	"shopdash/hooks/jobs"
	"shopdash/hooks/payments"
	"shopdash/internal/fakestripe"
	"shopdash/internal/shoptest"
)

const pushProductsURL = "/api/collections/products/records"

// pushDeadline bounds every wait for a background push.
const pushDeadline = 5 * time.Second

// pushEventually polls cond until it holds, failing with what() after
// pushDeadline.
func pushEventually(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pushDeadline)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", pushDeadline, what())
		}
		<-tick.C
	}
}

// pushWait polls a product until the background push leaves it in the
// sync state want, and returns it.
func pushWait(t *testing.T, app core.App, productID, want string) *c.Product {
	t.Helper()
	var product *c.Product
	got := ""
	what := func() string {
		return fmt.Sprintf("product %s has stripe_sync %q, want %q", productID, got, want)
	}
	pushEventually(t, what, func() bool {
		product = pushStored(t, app, productID)
		got = product.GetString(c.ProductStripeSync)
		return got == want
	})
	return product
}

// pushStored reads a product as the database holds it now.
func pushStored(t *testing.T, app core.App, productID string) *c.Product {
	t.Helper()
	record, err := app.FindRecordById(c.Products, productID)
	if err != nil {
		t.Fatal(err)
	}
	return c.NewProduct(record)
}

// pushStoreWrite sends a products records-API write as the store user and
// returns the product's id from the answer, which must be 200.
func pushStoreWrite(t *testing.T, rig *shoptest.WebhookRig, method, url, body string) (string, string) {
	t.Helper()
	status, answer := rig.Send(t, method, url, body, shoptest.Headers(shoptest.Shop().Store))
	if status != http.StatusOK {
		t.Fatalf("%s %s as store: %d %s", method, url, status, answer)
	}
	var record struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(answer), &record); err != nil || record.ID == "" {
		t.Fatalf("no product in the answer %s: %v", answer, err)
	}
	return record.ID, answer
}

// pushCreateSynced creates a product as the store user and waits for its
// push to end synced.
func pushCreateSynced(t *testing.T, rig *shoptest.WebhookRig) *c.Product {
	t.Helper()
	id, _ := pushStoreWrite(t, rig, http.MethodPost, pushProductsURL,
		`{"name":"Enamel Kettle","description":"A 1.5 l kettle.","price":4500,"currency":"usd","stock":12,"active":true}`)
	return pushWait(t, rig.App, id, c.StripeSyncSynced)
}

// pushRequestsFor are the calls of a route that carry our product id.
func pushRequestsFor(fake *fakestripe.Server, route, productID string) []fakestripe.Request {
	var out []fakestripe.Request
	for _, r := range fake.Requests(route) {
		if r.Form.Get("metadata[product_id]") == productID {
			out = append(out, r)
		}
	}
	return out
}

// pushExpectIdempotent checks that every write the fake received carries
// an idempotency key.
func pushExpectIdempotent(t *testing.T, fake *fakestripe.Server) {
	t.Helper()
	posts := 0
	for _, r := range fake.Requests("") {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		if r.IdempotencyKey == "" {
			t.Errorf("%s %s was sent without an idempotency key", r.Method, r.Path)
		}
	}
	if posts == 0 {
		t.Fatal("the fake received no POST")
	}
}

func TestStoreProductCreationIsPushedToStripe(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	product := pushCreateSynced(t, rig)

	created := pushRequestsFor(rig.Fake, "POST /v1/products", product.Id)
	if len(created) != 1 {
		t.Fatalf("%d product creations for %s, want 1", len(created), product.Id)
	}
	if got := created[0].Form.Get("name"); got != "Enamel Kettle" {
		t.Fatalf("Stripe product named %q, want Enamel Kettle", got)
	}
	prices := rig.Fake.Requests("POST /v1/prices")
	if len(prices) != 1 {
		t.Fatalf("%d price creations, want 1", len(prices))
	}
	form := prices[0].Form
	if form.Get("unit_amount") != "4500" || form.Get("currency") != "usd" || form.Get("product") == "" {
		t.Fatalf("price created with unit_amount=%q currency=%q product=%q, want 4500 usd and the product",
			form.Get("unit_amount"), form.Get("currency"), form.Get("product"))
	}
	if product.StripeProduct() == "" || product.StripeProduct() != form.Get("product") {
		t.Fatalf("stripe_product %q, want the product the price was made for (%q)", product.StripeProduct(), form.Get("product"))
	}
	price := rig.Fake.Price(product.StripePrice())
	if price == nil || fmt.Sprint(price["unit_amount"]) != "4500" || price["product"] != product.StripeProduct() {
		t.Fatalf("stripe_price %q is not the new price of the product: %v", product.StripePrice(), price)
	}
	pushExpectIdempotent(t, rig.Fake)
}

func TestPriceChangeCreatesNewStripePrice(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	product := pushCreateSynced(t, rig)
	oldPrice := product.StripePrice()

	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+product.Id, `{"price":5200}`)
	product = pushWait(t, rig.App, product.Id, c.StripeSyncSynced)

	prices := rig.Fake.Requests("POST /v1/prices")
	if len(prices) != 2 {
		t.Fatalf("%d price creations, want 2 (the first and the changed price)", len(prices))
	}
	if got := prices[1].Form.Get("unit_amount"); got != "5200" || prices[1].Form.Get("product") != product.StripeProduct() {
		t.Fatalf("changed price created with unit_amount=%q for %q, want 5200 for %q", got, prices[1].Form.Get("product"), product.StripeProduct())
	}
	newPrice := product.StripePrice()
	if newPrice == "" || newPrice == oldPrice {
		t.Fatalf("stripe_price is %q after the change, want a new price (the old one was %q)", newPrice, oldPrice)
	}
	if got := rig.Fake.Price(newPrice); got == nil || fmt.Sprint(got["unit_amount"]) != "5200" || got["active"] != true {
		t.Fatalf("stripe_price %q is not an active 5200 price: %v", newPrice, got)
	}
	deactivated := false
	for _, r := range rig.Fake.Requests("POST /v1/prices/{id}") {
		if r.Path == "/v1/prices/"+oldPrice && r.Form.Get("active") == "false" {
			deactivated = true
		}
	}
	if !deactivated || rig.Fake.Price(oldPrice)["active"] != false {
		t.Fatalf("the old price %s was not deactivated: %v", oldPrice, rig.Fake.Price(oldPrice))
	}
	pushExpectIdempotent(t, rig.Fake)
}

func TestNameChangeUpdatesStripeProductWithoutNewPrice(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	product := pushCreateSynced(t, rig)
	price := product.StripePrice()

	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+product.Id, `{"name":"Enamel Kettle XL"}`)
	product = pushWait(t, rig.App, product.Id, c.StripeSyncSynced)

	renamed := false
	for _, r := range rig.Fake.Requests("POST /v1/products/{id}") {
		if r.Path == "/v1/products/"+product.StripeProduct() && r.Form.Get("name") == "Enamel Kettle XL" {
			renamed = true
		}
	}
	if !renamed {
		t.Fatalf("Stripe product %s was not renamed: %+v", product.StripeProduct(), rig.Fake.Requests("POST /v1/products/{id}"))
	}
	if n := len(rig.Fake.Requests("POST /v1/prices")); n != 1 {
		t.Fatalf("%d price creations after a name change, want only the first", n)
	}
	if n := len(rig.Fake.Requests("POST /v1/prices/{id}")); n != 0 {
		t.Fatalf("%d price updates after a name change, want none", n)
	}
	if product.StripePrice() != price {
		t.Fatalf("stripe_price changed from %q to %q on a name change", price, product.StripePrice())
	}
}

// TestPushSurvivesStripeOutage: a Stripe outage never blocks nor fails the
// store's save; the product ends failed after the retries, and a later
// change with Stripe back pushes it.
func TestPushSurvivesStripeOutage(t *testing.T) {
	t.Parallel()
	// Retry waits long enough that a push holding up the save would leave
	// the product failed, not pending, by the time the save answers.
	const wait = 300 * time.Millisecond
	rig := shoptest.NewWebhookRig(t, func(baseURL string) hooks.Config {
		cfg := shoptest.StripeConfig(baseURL)
		cfg.PushRetryDelays = []time.Duration{wait, wait}
		return cfg
	})
	rig.Fake.Fail("POST /v1/products", 500, 500, 500, 500)

	id, answer := pushStoreWrite(t, rig, http.MethodPost, pushProductsURL,
		`{"name":"Enamel Kettle","price":4500,"currency":"usd","stock":12,"active":true}`)
	if !strings.Contains(answer, `"stripe_sync":"pending"`) {
		t.Fatalf("the save answered %s, want the product pending", answer)
	}
	if got := pushStored(t, rig.App, id).GetString(c.ProductStripeSync); got != c.StripeSyncPending {
		t.Fatalf("stripe_sync %q right after the save, want pending while the push retries", got)
	}

	failed := pushWait(t, rig.App, id, c.StripeSyncFailed)
	if failed.StripeProduct() != "" || failed.StripePrice() != "" {
		t.Fatalf("a failed push left stripe_product %q stripe_price %q", failed.StripeProduct(), failed.StripePrice())
	}
	attempts := pushRequestsFor(rig.Fake, "POST /v1/products", id)
	if len(attempts) != 3 {
		t.Fatalf("%d push attempts, want 3 (the first and two retries)", len(attempts))
	}
	// a retry repeats the same request, so Stripe applies it at most once.
	for _, a := range attempts[1:] {
		if a.IdempotencyKey == "" || a.IdempotencyKey != attempts[0].IdempotencyKey {
			t.Fatalf("retries used idempotency keys %q and %q, want the same", attempts[0].IdempotencyKey, a.IdempotencyKey)
		}
	}
	if n := len(rig.Fake.Requests("POST /v1/prices")); n != 0 {
		t.Fatalf("%d prices created for a product Stripe never made", n)
	}

	// Stripe is back (but for the fourth planned failure, which one more
	// retry absorbs).
	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+id, `{"name":"Enamel Kettle 2"}`)
	synced := pushWait(t, rig.App, id, c.StripeSyncSynced)
	if synced.StripeProduct() == "" || synced.StripePrice() == "" {
		t.Fatalf("synced without stripe_product %q or stripe_price %q", synced.StripeProduct(), synced.StripePrice())
	}
	if got := rig.Fake.Price(synced.StripePrice()); got == nil || got["product"] != synced.StripeProduct() {
		t.Fatalf("stripe_price %q is not a price of %q: %v", synced.StripePrice(), synced.StripeProduct(), got)
	}
	pushExpectIdempotent(t, rig.Fake)
}

// TestPushRetryDoesNotDuplicatePrice: a push that fails after Stripe made
// the new price repeats that call with the same idempotency key, so the
// retry gets the same price back instead of a second one.
func TestPushRetryDoesNotDuplicatePrice(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	product := pushCreateSynced(t, rig)
	oldPrice := product.StripePrice()

	// the deactivation of the old price is the last call of the push.
	rig.Fake.Fail("POST /v1/prices/{id}", 500)
	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+product.Id, `{"price":5200}`)
	product = pushWait(t, rig.App, product.Id, c.StripeSyncSynced)

	prices := rig.Fake.Requests("POST /v1/prices")
	keys := map[string]bool{}
	for _, p := range prices {
		keys[p.IdempotencyKey] = true
	}
	// The new price's id is stored as soon as it exists, so the retry only
	// finishes the deactivation: one creation per price, never a repeat.
	if len(prices) != 2 || len(keys) != 2 {
		t.Fatalf("%d price creations with %d distinct keys, want 2 (one per price, none by the retry)", len(prices), len(keys))
	}
	if product.StripePrice() == oldPrice || fmt.Sprint(rig.Fake.Price(product.StripePrice())["unit_amount"]) != "5200" {
		t.Fatalf("stripe_price %q after the retried push, want the 5200 price", product.StripePrice())
	}
	if rig.Fake.Price(oldPrice)["active"] != false {
		t.Fatalf("old price %s still active after the retry", oldPrice)
	}
}

// TestProductSavedInCodeIsNotPushed: only catalogue changes made through
// the API are pushed; a product our own code (or a migration) saves is
// left to the nightly sync.
func TestProductSavedInCodeIsNotPushed(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	products, err := rig.App.FindCollectionByNameOrId(c.Products)
	if err != nil {
		t.Fatal(err)
	}
	record := core.NewRecord(products)
	record.Set(c.ProductName, "Back Office Kettle")
	record.Set(c.ProductPrice, 4500)
	record.Set(c.ProductCurrency, "usd")
	record.Set(c.ProductActive, true)
	if err := rig.App.Save(record); err != nil {
		t.Fatal(err)
	}
	if got := pushStored(t, rig.App, record.Id).GetString(c.ProductStripeSync); got != "" {
		t.Fatalf("a product saved in code has stripe_sync %q, want none", got)
	}

	// A store change pushed after it: by the time its push is done, a push
	// of the saved product would have reached the fake too.
	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+shop.ActiveProduct, `{"name":"Canvas Tote 2"}`)
	pushWait(t, rig.App, shop.ActiveProduct, c.StripeSyncSynced)
	if n := len(pushRequestsFor(rig.Fake, "POST /v1/products", shop.ActiveProduct)); n != 1 {
		t.Fatalf("%d pushes of the store's change, want 1", n)
	}
	for _, r := range rig.Fake.Requests("") {
		if r.Form.Get("metadata[product_id]") == record.Id {
			t.Fatalf("the product saved in code was pushed: %s %s", r.Method, r.Path)
		}
	}
	saved := pushStored(t, rig.App, record.Id)
	if saved.StripeProduct() != "" || saved.GetString(c.ProductStripeSync) != "" {
		t.Fatalf("the product saved in code has stripe_product %q stripe_sync %q", saved.StripeProduct(), saved.GetString(c.ProductStripeSync))
	}
}

// pushLinkToStripe gives a product of the template shop a Stripe product
// and price, as a sync would have left it.
func pushLinkToStripe(productID, syncState string) func(testing.TB, *tests.TestApp, *core.ServeEvent) {
	return func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		shoptest.WebhookSetFields(t, app, c.Products, productID, dbx.Params{
			c.ProductStripeProduct: "prod_test_known",
			c.ProductStripePrice:   "price_test_old",
			c.ProductStripeSync:    syncState,
		})
	}
}

// pushExpectProductByStripe checks the one product linked to a Stripe
// product.
func pushExpectProductByStripe(stripeProduct string, want map[string]any) shoptest.AfterFunc {
	return func(t testing.TB, app *tests.TestApp, res *http.Response) {
		t.Helper()
		records, err := app.FindAllRecords(c.Products, dbx.HashExp{c.ProductStripeProduct: stripeProduct})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 1 {
			t.Fatalf("%d products linked to %s, want 1", len(records), stripeProduct)
		}
		for field, value := range want {
			if got := fmt.Sprint(records[0].Get(field)); got != fmt.Sprint(value) {
				t.Fatalf("product of %s has %s %q, want %q", stripeProduct, field, got, fmt.Sprint(value))
			}
		}
	}
}

func TestStripeCatalogueEventsUpdateProducts(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	seeded := shoptest.SeededRecord(t, c.Products, shop.ActiveProduct)
	stripeProduct := func(id string) map[string]any {
		return map[string]any{"id": id, "object": "product", "name": "Stripe Kettle", "description": "Made in the dashboard.", "active": false}
	}
	newPrice := map[string]any{"id": "price_test_new", "object": "price", "product": "prod_test_known",
		"unit_amount": 4321, "currency": "eur", "active": true, "type": "one_time"}
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductName, seeded.GetString(c.ProductName)),
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductDescription, seeded.GetString(c.ProductDescription)),
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductActive, true),
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductPrice, seeded.GetInt(c.ProductPrice)),
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductStripePrice, "price_test_old"),
		shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductStripeSync, c.StripeSyncPending),
		shoptest.ExpectRecordCount(c.Products, shop.Products),
	)
	for _, tc := range []struct {
		name, eventType string
		object          map[string]any
		before          func(testing.TB, *tests.TestApp, *core.ServeEvent)
		after           shoptest.AfterFunc
	}{
		{"product.created of an unknown product adds it", "product.created", stripeProduct("prod_test_new"), nil, shoptest.AfterAll(
			shoptest.ExpectRecordCount(c.Products, shop.Products+1),
			pushExpectProductByStripe("prod_test_new", map[string]any{
				c.ProductName: "Stripe Kettle", c.ProductDescription: "Made in the dashboard.", c.ProductActive: false,
				c.ProductStripeSync: c.StripeSyncSynced,
			}),
		)},
		{"product.updated of an unknown product adds it", "product.updated", stripeProduct("prod_test_new"), nil, shoptest.AfterAll(
			shoptest.ExpectRecordCount(c.Products, shop.Products+1),
			pushExpectProductByStripe("prod_test_new", map[string]any{c.ProductName: "Stripe Kettle"}),
		)},
		{"product.updated of a known product copies it", "product.updated", stripeProduct("prod_test_known"),
			pushLinkToStripe(shop.ActiveProduct, c.StripeSyncSynced), shoptest.AfterAll(
				shoptest.ExpectRecordCount(c.Products, shop.Products),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductName, "Stripe Kettle"),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductDescription, "Made in the dashboard."),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductActive, false),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductStripeSync, c.StripeSyncSynced),
			)},
		// our change still to push wins over Stripe's copy.
		{"product.updated of a product with a pending change leaves it", "product.updated", stripeProduct("prod_test_known"),
			pushLinkToStripe(shop.ActiveProduct, c.StripeSyncPending), untouched},
		{"price.created of a known product becomes its price", "price.created", newPrice,
			pushLinkToStripe(shop.ActiveProduct, c.StripeSyncSynced), shoptest.AfterAll(
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductPrice, 4321),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductCurrency, "eur"),
				shoptest.ExpectStored(c.Products, shop.ActiveProduct, c.ProductStripePrice, "price_test_new"),
				shoptest.ExpectRecordCount(c.Products, shop.Products),
			)},
		{"price.created of a product with a pending change leaves it", "price.created", newPrice,
			pushLinkToStripe(shop.ActiveProduct, c.StripeSyncPending), untouched},
	} {
		payload, signature := shoptest.StripeEvent(t, "evt_test_catalogue", tc.eventType, tc.object)
		s := webhookDelivery(tc.name, payload, signature)
		s.BeforeTestFunc = tc.before
		s.ExpectedStatus = http.StatusOK
		s.ExpectedContent = []string{`"applied":true`}
		s.AfterTestFunc = shoptest.AfterAll(tc.after, webhookExpectLedger(1, "evt_test_catalogue"))
		s.Test(t)
	}
}

// TestClearedDescriptionIsClearedInStripe: a synced product matches
// Stripe, so a description the store removes must go from Stripe too
// (Stripe unsets a field given an empty string on update).
func TestClearedDescriptionIsClearedInStripe(t *testing.T) {
	t.Parallel()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	product := pushCreateSynced(t, rig)
	before := len(rig.Fake.Requests("POST /v1/products/{id}"))

	pushStoreWrite(t, rig, http.MethodPatch, pushProductsURL+"/"+product.Id, `{"description":""}`)
	product = pushWait(t, rig.App, product.Id, c.StripeSyncSynced)

	updates := rig.Fake.Requests("POST /v1/products/{id}")[before:]
	for _, r := range updates {
		if r.Path == "/v1/products/"+product.StripeProduct() && r.Form.Has("description") && r.Form.Get("description") == "" {
			return
		}
	}
	t.Fatalf("no update of %s cleared the description: %+v", product.StripeProduct(), updates)
}

// TestOwnProductEchoDuringPushAddsNoDuplicate: Stripe sends product.created
// for the product our push has just made, often before the push has
// stored its id. The event names our product in its metadata; it must
// not become a second shop product, and the push must still end synced.
func TestOwnProductEchoDuringPushAddsNoDuplicate(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	const wait = 300 * time.Millisecond
	rig := shoptest.NewWebhookRig(t, func(baseURL string) hooks.Config {
		cfg := shoptest.StripeConfig(baseURL)
		cfg.PushRetryDelays = []time.Duration{wait, wait}
		return cfg
	})
	// the first price call fails: the push waits with the Stripe product
	// made (its id stored, the product still pending), which is when the
	// echo comes.
	rig.Fake.Fail("POST /v1/prices", 500)
	id, _ := pushStoreWrite(t, rig, http.MethodPost, pushProductsURL,
		`{"name":"Enamel Kettle","price":4500,"currency":"usd","stock":12,"active":true}`)
	pushEventually(t, func() string { return "the push never reached the price" }, func() bool {
		return len(rig.Fake.Requests("POST /v1/prices")) > 0
	})
	stripeProduct := rig.Fake.Requests("POST /v1/prices")[0].Form.Get("product")
	if got := pushStored(t, rig.App, id); got.StripeProduct() != stripeProduct || got.GetString(c.ProductStripeSync) != c.StripeSyncPending {
		t.Fatalf("before its retry the push stored stripe_product %q stripe_sync %q, want %q pending", got.StripeProduct(), got.GetString(c.ProductStripeSync), stripeProduct)
	}
	rig.Deliver(t, "evt_test_echo", "product.created", map[string]any{
		"id": stripeProduct, "object": "product", "name": "Enamel Kettle", "active": true,
		"metadata": map[string]any{"product_id": id},
	}, true)
	rig.Check(t, shoptest.ExpectRecordCount(c.Products, shop.Products+1))

	synced := pushWait(t, rig.App, id, c.StripeSyncSynced)
	if synced.StripeProduct() != stripeProduct {
		t.Fatalf("stripe_product %q, want %q", synced.StripeProduct(), stripeProduct)
	}
	rig.Check(t, shoptest.ExpectRecordCount(c.Products, shop.Products+1))
}

// TestStripeProductEventLinksOurProductByMetadata: an event for a product
// our push made, which lost its Stripe id (say a backup from before the push
// was restored), links that product instead of importing a copy.
func TestStripeProductEventLinksOurProductByMetadata(t *testing.T) {
	t.Parallel()
	shop := shoptest.Shop()
	rig := shoptest.NewWebhookRig(t, shoptest.StripeConfig)
	if _, err := rig.App.DB().Update(c.Products, dbx.Params{c.ProductStripeSync: c.StripeSyncSynced},
		dbx.HashExp{"id": shop.PhysicalProduct}).Execute(); err != nil {
		t.Fatal(err)
	}
	rig.Deliver(t, "evt_test_link", "product.created", map[string]any{
		"id": "prod_linked", "object": "product", "name": "Renamed in Stripe", "active": true,
		"metadata": map[string]any{"product_id": shop.PhysicalProduct},
	}, true)
	rig.Check(t, shoptest.ExpectRecordCount(c.Products, shop.Products))
	linked := pushStored(t, rig.App, shop.PhysicalProduct)
	if linked.StripeProduct() != "prod_linked" || linked.Name() != "Renamed in Stripe" {
		t.Fatalf("product %s: stripe_product %q name %q", shop.PhysicalProduct, linked.StripeProduct(), linked.Name())
	}
}

// TestSyncPushesAFailedChangeInsteadOfUndoingIt: a store change whose push
// failed is not overwritten by the sync's pull of Stripe's older copy; the
// sync pushes it.
func TestSyncPushesAFailedChangeInsteadOfUndoingIt(t *testing.T) {
	shop := shoptest.Shop()
	fake := fakestripe.New(t)
	app, runner := shoptest.NewAppWithJobs(t, shoptest.StripeConfig(fake.URL))
	defer app.Cleanup()
	fake.AddProducts(map[string]any{"id": "prod_kettle", "object": "product", "name": "Old Kettle", "active": true})
	if _, err := app.DB().Update(c.Products, dbx.Params{c.ProductName: "New Kettle", c.ProductStripeProduct: "prod_kettle",
		c.ProductStripeSync: c.StripeSyncFailed}, dbx.HashExp{"id": shop.PhysicalProduct}).Execute(); err != nil {
		t.Fatal(err)
	}
	run, err := runner.Run(context.Background(), payments.JobStripeSync, jobs.RunOptions{Trigger: "test"})
	if err != nil || run.Status != c.JobSucceeded {
		t.Fatalf("sync: %+v, %v", run, err)
	}
	product := pushStored(t, app, shop.PhysicalProduct)
	if product.Name() != "New Kettle" || product.GetString(c.ProductStripeSync) != c.StripeSyncSynced {
		t.Fatalf("after the sync the product is %q, %s; want our name, pushed", product.Name(), product.GetString(c.ProductStripeSync))
	}
	pushed := false
	for _, r := range fake.Requests("POST /v1/products/{id}") {
		pushed = pushed || r.Form.Get("name") == "New Kettle"
	}
	if !pushed {
		t.Fatal("the sync did not push the failed change to Stripe")
	}
}
