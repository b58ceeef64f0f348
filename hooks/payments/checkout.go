package payments

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/stripe/stripe-go/v76"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/records"
)

// maxCheckoutLines bounds one order, as Stripe Checkout bounds a session.
const maxCheckoutLines = 20

// standardDelivery is the first arrival estimate of a physical item;
// support adjusts it when the order ships.
const standardDelivery = 5 * 24 * time.Hour

// checkoutRequest is the body of POST /api/v1/checkout. Prices are never
// read from it: they come from the products.
type checkoutRequest struct {
	Items []checkoutLine `json:"items"`
}

type checkoutLine struct {
	Product  string `json:"product"`
	Quantity int    `json:"quantity"`
}

// Validate checks the body's shape; checkProducts checks it against the
// catalogue.
func (r checkoutRequest) Validate() error {
	return validation.ValidateStruct(&r,
		validation.Field(&r.Items, validation.Required, validation.Length(1, maxCheckoutLines)),
	)
}

// Validate checks one line's shape.
func (l checkoutLine) Validate() error {
	return validation.ValidateStruct(&l,
		validation.Field(&l.Product, validation.Required, validation.Length(1, 32)),
		validation.Field(&l.Quantity, validation.Required, validation.Min(1), validation.Max(1000)),
	)
}

// checkoutProducts loads the products of the lines and checks each line
// against its product: known and active, bought once, within stock (one
// copy of a download the customer does not own yet), one currency for the
// whole order. The stock is checked again, and taken, when the order is
// saved (records.ReserveStock): this is only the early answer.
func checkoutProducts(app core.App, userID string, lines []checkoutLine) ([]*c.Product, error) {
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.Product
	}
	records, err := app.FindRecordsByIds(c.Products, ids)
	if err != nil {
		return nil, fmt.Errorf("load checkout products: %w", err)
	}
	byID := make(map[string]*c.Product, len(records))
	for _, r := range records {
		byID[r.Id] = c.NewProduct(r)
	}
	held, err := heldDownloads(app, userID, ids)
	if err != nil {
		return nil, err
	}
	lineErrs := validation.Errors{}
	seen := map[string]bool{}
	products := make([]*c.Product, len(lines))
	currency := ""
	for i, l := range lines {
		key := fmt.Sprint(i)
		p, ok := byID[l.Product]
		switch {
		case !ok || !p.Active():
			lineErrs[key] = validation.Errors{"product": validation.NewError("validation_unknown_product", "This product does not exist or is not for sale.")}
		case seen[l.Product]:
			lineErrs[key] = validation.Errors{"product": validation.NewError("validation_duplicate_product", "This product is listed twice: give it one line with the total quantity.")}
		case p.Digital() && l.Quantity != 1:
			lineErrs[key] = validation.Errors{"quantity": validation.NewError("validation_digital_quantity", "A download is bought once.")}
		case p.Digital() && held[l.Product] != "":
			lineErrs[key] = validation.Errors{"product": downloadHeldError(held[l.Product])}
		case !p.Digital() && l.Quantity > p.Stock():
			lineErrs[key] = validation.Errors{"quantity": validation.NewError("validation_out_of_stock",
				fmt.Sprintf("Only %d left in stock.", p.Stock()))}
		case currency != "" && p.Currency() != currency:
			lineErrs[key] = validation.Errors{"product": validation.NewError("validation_mixed_currency",
				fmt.Sprintf("This product is priced in %s, the others in %s: order them separately.", p.Currency(), currency))}
		}
		seen[l.Product] = true
		if ok && currency == "" {
			currency = p.Currency()
		}
		products[i] = p
	}
	if len(lineErrs) > 0 {
		return nil, validation.Errors{"items": lineErrs}
	}
	return products, nil
}

// heldDownloads maps the products among ids that the user owns as
// downloads (a paid, shipped or delivered order) or is buying (a pending
// one) to that order's status: a download is bought once.
func heldDownloads(app core.App, userID string, ids []string) (map[string]c.OrderStatus, error) {
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	var rows []struct {
		Product string `db:"product"`
		Status  string `db:"status"`
	}
	err := app.DB().Select("i."+c.ItemProduct, "o."+c.OrderStatusField).From(c.OrderItems+" i").
		InnerJoin(c.Orders+" o", dbx.NewExp("o.id = i.[["+c.ItemOrder+"]]")).
		InnerJoin(c.Products+" p", dbx.NewExp("p.id = i.[["+c.ItemProduct+"]]")).
		Where(dbx.NewExp("i.[["+c.ItemUser+"]] = {:user}", dbx.Params{"user": userID})).
		AndWhere(dbx.In("i."+c.ItemProduct, in...)).
		AndWhere(dbx.In("o."+c.OrderStatusField, string(c.StatusPending), string(c.StatusPaid), string(c.StatusShipped), string(c.StatusDelivered))).
		AndWhere(dbx.HashExp{"p." + c.ProductDigital: true}).
		All(&rows)
	if err != nil {
		return nil, fmt.Errorf("downloads held by %s: %w", userID, err)
	}
	held := make(map[string]c.OrderStatus, len(rows))
	for _, r := range rows {
		// Owning it says more than buying it.
		if r.Status != string(c.StatusPending) || held[r.Product] == "" {
			held[r.Product] = c.OrderStatus(r.Status)
		}
	}
	return held, nil
}

// downloadHeldError is the field error of a download the customer owns,
// or is buying in an order still waiting for its payment.
func downloadHeldError(status c.OrderStatus) error {
	if status == c.StatusPending {
		return validation.NewError("validation_download_in_checkout",
			"You are already buying this download: pay for that order, or cancel it, first.")
	}
	return validation.NewError("validation_already_owned", "You already own this download: find it under your downloads.")
}

// refuseHeldDownloads checks again, in the transaction that writes the
// order, that none of its downloads is held: two checkouts at once would
// both pass the early check.
func refuseHeldDownloads(tx core.App, userID string, products []*c.Product) error {
	var ids []string
	for _, p := range products {
		if p.Digital() {
			ids = append(ids, p.Id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	held, err := heldDownloads(tx, userID, ids)
	if err != nil {
		return err
	}
	lineErrs := validation.Errors{}
	for i, p := range products {
		if status := held[p.Id]; p.Digital() && status != "" {
			lineErrs[fmt.Sprint(i)] = validation.Errors{"product": downloadHeldError(status)}
		}
	}
	if len(lineErrs) > 0 {
		return validation.Errors{"items": lineErrs}
	}
	return nil
}

// checkout creates a pending order and its Stripe Checkout Session. The
// session is created first, under the order's pre-generated id; then the
// order and its items are written and their stock reserved in one
// transaction. A Stripe failure leaves no order behind (502); a checkout
// that loses the race for the last units gets 400 on the item, and its
// session is expired (as is any session whose order was never written).
func (p *Payments) checkout(e *core.RequestEvent) error {
	if p.stripe == nil {
		return errPaymentsOff()
	}
	if !e.Auth.Verified() {
		// Anyone can sign up with anyone's address; the order emails that
		// follow a checkout must not reach a stranger.
		return e.ForbiddenError("Confirm your email address before ordering: open the link we emailed you, or ask for a new one on your dashboard.",
			validation.Errors{"email": validation.NewError("validation_email_not_verified", "This email address is not confirmed yet.")})
	}
	var body checkoutRequest
	if err := access.BindBody(e, &body, `{"items": [{"product": ID, "quantity": N}]}`); err != nil {
		return err
	}
	if err := body.Validate(); err != nil {
		return e.BadRequestError("Check the items.", err)
	}
	products, err := checkoutProducts(e.App, e.Auth.Id, body.Items)
	if err != nil {
		var verrs validation.Errors
		if errors.As(err, &verrs) {
			return e.BadRequestError("Check the items.", verrs)
		}
		return e.InternalServerError("", err)
	}

	user := c.NewUser(e.Auth)
	order, items, err := draftOrder(e.App, user, body.Items, products)
	if err != nil {
		return e.InternalServerError("", err)
	}
	session, err := p.stripe.CheckoutSessions.New(p.sessionParams(user, order, items, products))
	if err != nil {
		logStripeFailure(e.App, "create checkout session", err, "order", order.Id)
		return errStripeFailed("start the payment", err)
	}
	order.Set(c.OrderStripeSession, session.ID)

	if err := saveNewOrder(e.App, order, items, products); err != nil {
		p.expireSession(e.App, session.ID, order.Id)
		var short validation.Errors
		if errors.As(err, &short) {
			return e.BadRequestError("Check the items.", short)
		}
		return e.InternalServerError("", err)
	}
	e.App.Logger().Info("checkout started", "order", order.Id, "session", session.ID, "items", len(items))

	if strings.Contains(e.Request.Header.Get("Accept"), "text/html") {
		return e.Redirect(http.StatusSeeOther, session.URL)
	}
	return e.JSON(http.StatusCreated, map[string]any{
		"order":        order,
		"checkout_url": session.URL,
		"session_id":   session.ID,
	})
}

// draftOrder builds the unsaved order and items, prices from the products
// and a copy of the customer's name, email and address.
func draftOrder(app core.App, user *c.User, lines []checkoutLine, products []*c.Product) (*core.Record, []*core.Record, error) {
	orders, err := app.FindCachedCollectionByNameOrId(c.Orders)
	if err != nil {
		return nil, nil, err
	}
	itemsCol, err := app.FindCachedCollectionByNameOrId(c.OrderItems)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	order := core.NewRecord(orders)
	order.Id = security.RandomStringWithAlphabet(core.DefaultIdLength, core.DefaultIdAlphabet)
	order.Set(c.OrderNumber, c.FormatOrderNumber(rand.Uint64()))
	order.Set(c.OrderUser, user.Id)
	order.Set(c.OrderStatusField, string(c.StatusPending))
	order.Set(c.OrderCurrency, products[0].Currency())
	order.Set(c.OrderCustomerName, user.Name())
	order.Set(c.OrderCustomerEmail, user.Email())
	order.Set(c.OrderShippingAddress, user.Get(c.UserShippingAddress))

	var total, count int
	var arrival time.Time
	items := make([]*core.Record, len(lines))
	for i, l := range lines {
		p := products[i]
		item := core.NewRecord(itemsCol)
		item.Set(c.ItemOrder, order.Id)
		item.Set(c.ItemUser, user.Id)
		item.Set(c.ItemProduct, p.Id)
		item.Set(c.ItemProductName, p.Name())
		item.Set(c.ItemUnitPrice, p.Price())
		item.Set(c.ItemQuantity, l.Quantity)
		if !p.Digital() {
			arrival = now.Add(standardDelivery).Truncate(24 * time.Hour)
			item.Set(c.ItemEstimatedArrival, arrival)
		}
		total += p.Price() * l.Quantity
		count += l.Quantity
		items[i] = item
	}
	order.Set(c.OrderTotal, total)
	order.Set(c.OrderItemCount, count)
	if !arrival.IsZero() {
		order.Set(c.OrderEstimatedArrival, arrival)
	}
	return order, items, nil
}

// saveNewOrder writes an order and its items and reserves their stock in
// one transaction, drawing a new order number if the random one is taken.
// Stock the order cannot reserve, or a download the customer holds by
// now, is a validation error on its line.
func saveNewOrder(app core.App, order *core.Record, items []*core.Record, products []*c.Product) error {
	const attempts = 3
	var err error
	for range attempts {
		err = app.RunInTransaction(func(tx core.App) error {
			if err := refuseHeldDownloads(tx, order.GetString(c.OrderUser), products); err != nil {
				return err
			}
			if err := records.ReserveStock(tx, items, products); err != nil {
				return err
			}
			if err := tx.Save(order); err != nil {
				return err
			}
			for _, item := range items {
				if err := tx.Save(item); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || !numberTaken(app, order) {
			break
		}
		order.Set(c.OrderNumber, c.FormatOrderNumber(rand.Uint64()))
	}
	var short validation.Errors
	if errors.As(err, &short) && short["items"] != nil {
		return short
	}
	if err != nil {
		return fmt.Errorf("save order %s: %w", order.Id, err)
	}
	return nil
}

func numberTaken(app core.App, order *core.Record) bool {
	n, err := app.CountRecords(c.Orders, dbx.HashExp{c.OrderNumber: order.GetString(c.OrderNumber)})
	return err == nil && n > 0
}

// sessionParams is the Checkout Session of an order: our prices (the
// product's synced Stripe price, or price data), the order id in every
// place Stripe echoes back, an invoice, and return links built from
// SHOPDASH_APP_URL only, never from the request.
func (p *Payments) sessionParams(user *c.User, order *core.Record, items []*core.Record, products []*c.Product) *stripe.CheckoutSessionParams {
	meta := map[string]string{"order_id": order.Id, "order_number": order.GetString(c.OrderNumber)}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(order.Id),
		SuccessURL:        stripe.String(p.cfg.AppURL + "/?checkout=success&order=" + order.Id),
		CancelURL:         stripe.String(p.cfg.AppURL + "/?checkout=cancelled&order=" + order.Id),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
		InvoiceCreation: &stripe.CheckoutSessionInvoiceCreationParams{
			Enabled:     stripe.Bool(true),
			InvoiceData: &stripe.CheckoutSessionInvoiceCreationInvoiceDataParams{Metadata: meta},
		},
	}
	if user.StripeCustomer() != "" {
		params.Customer = stripe.String(user.StripeCustomer())
	} else {
		params.CustomerEmail = stripe.String(user.Email())
		params.CustomerCreation = stripe.String(string(stripe.CheckoutSessionCustomerCreationAlways))
	}
	for i, item := range items {
		prod := products[i]
		line := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(int64(item.GetInt(c.ItemQuantity)))}
		if prod.StripePrice() != "" && prod.GetString(c.ProductStripeSync) == c.StripeSyncSynced {
			line.Price = stripe.String(prod.StripePrice())
		} else {
			line.PriceData = &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:   stripe.String(prod.Currency()),
				UnitAmount: stripe.Int64(int64(prod.Price())),
			}
			if prod.StripeProduct() != "" {
				line.PriceData.Product = stripe.String(prod.StripeProduct())
			} else {
				line.PriceData.ProductData = &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
					Name:     stripe.String(prod.Name()),
					Metadata: map[string]string{"product_id": prod.Id},
				}
			}
		}
		params.LineItems = append(params.LineItems, line)
	}
	params.SetIdempotencyKey("checkout-" + order.Id)
	return params
}

// expireSession ends a Checkout Session whose order will not be paid;
// failure is logged, as Stripe expires open sessions after 24 hours anyway.
func (p *Payments) expireSession(app core.App, sessionID, orderID string) {
	params := &stripe.CheckoutSessionExpireParams{}
	params.SetIdempotencyKey("expire-" + sessionID)
	if _, err := p.stripe.CheckoutSessions.Expire(sessionID, params); err != nil {
		logStripeFailure(app, "expire checkout session", err, "order", orderID, "session", sessionID)
	}
}
