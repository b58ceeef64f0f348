package records

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/audit"
)

// supportEditableFields are the order fields support may change through the
// records API; everything else is the customer's, Stripe's or accounting's.
var supportEditableFields = []string{c.OrderStatusField, c.OrderEstimatedArrival,
	c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL}

// shippingFields are the details an order gains when it ships.
var shippingFields = []string{c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL}

// supportStatuses are the moves support makes through the records API.
// Cancelling goes through POST /api/v1/orders/{id}/cancel, which also
// refunds, and refunds arrive from Stripe.
var supportStatuses = []c.OrderStatus{c.StatusShipped, c.StatusDelivered}

func registerOrders(app core.App) {
	app.OnRecordCreate(c.Orders).BindFunc(checkNewOrder)
	app.OnRecordUpdate(c.Orders).BindFunc(guardOrderWrite)
	app.OnRecordUpdate(c.Orders).BindFunc(copyArrivalToItems)
	app.OnRecordUpdateRequest(c.Orders).BindFunc(limitStaffOrderChanges)
	app.OnRecordDelete(c.Orders).BindFunc(returnStockOfDeletedOrder)
	// Only superusers create or delete orders through the API.
	app.OnRecordCreateRequest(c.Orders).BindFunc(audit.Writes("order"))
	app.OnRecordDeleteRequest(c.Orders).BindFunc(audit.Writes("order"))
}

// enforceStatusMachine refuses any status change the state machine does
// not allow, from current (the stored status, "" for a new order), on
// every update path: records API, admin dashboard and our own app.Save
// calls alike (guardOrderWrite reads the stored order for it).
func enforceStatusMachine(e *core.RecordEvent, current c.OrderStatus) error {
	next := c.NewOrder(e.Record).Status()
	if current != "" && !current.CanMoveTo(next) {
		return validation.Errors{c.OrderStatusField: validation.NewError("validation_invalid_transition",
			fmt.Sprintf("An order cannot move from %s to %s.", current, next))}
	}
	if errs := checkOrderDetails(e.Record, current); len(errs) > 0 {
		return errs
	}
	if current != next {
		return stampStatusTimes(e)
	}
	return e.Next()
}

// checkNewOrder holds a new order (a checkout's, an invoice's, a
// superuser's) to checkOrderDetails and stamps its status time.
func checkNewOrder(e *core.RecordEvent) error {
	if errs := checkOrderDetails(e.Record, ""); len(errs) > 0 {
		return errs
	}
	return stampStatusTimes(e)
}

// statusTimes is the field that records when an order reached a status.
var statusTimes = map[c.OrderStatus]string{
	c.StatusPaid:      c.OrderPaidAt,
	c.StatusShipped:   c.OrderShippedAt,
	c.StatusDelivered: c.OrderDeliveredAt,
	c.StatusCancelled: c.OrderCancelledAt,
	c.StatusRefunded:  c.OrderRefundedAt,
}

// stampStatusTimes sets paid_at, shipped_at, delivered_at, cancelled_at or
// refunded_at when an order reaches that status and nobody has set it yet:
// the status history the customer and support see.
func stampStatusTimes(e *core.RecordEvent) error {
	if field, ok := statusTimes[c.NewOrder(e.Record).Status()]; ok && e.Record.GetDateTime(field).IsZero() {
		e.Record.Set(field, types.NowDateTime())
	}
	return e.Next()
}

// checkOrderDetails holds, on every path, what the status machine does not
// say: an order ships with a carrier and a tracking number (CONTRACT §5),
// shipping details belong to an order that has shipped, a tracking link is
// https, and refunded_amount stays between 0 and the total. current is the
// stored status, "" for a new order.
func checkOrderDetails(order *core.Record, current c.OrderStatus) validation.Errors {
	errs := validation.Errors{}
	next := c.NewOrder(order).Status()
	original := order.Original()
	changed := func(field string) bool { return original == nil || order.GetString(field) != original.GetString(field) }
	// Carrier and tracking number go into the customer's email: one line
	// of visible text each, as names are (no control or bidi characters).
	for _, field := range shippingFields {
		value := strings.TrimSpace(order.GetString(field))
		if changed(field) && value != "" && field != c.OrderTrackingURL {
			normalised, err := c.NormaliseLine(value)
			if err != nil {
				errs[field] = err
				continue
			}
			value = normalised
		}
		order.Set(field, value)
	}
	// On the move to shipped, and whenever a shipped order's details are
	// edited; a save that leaves them alone passes (orders shipped before
	// the rule have none).
	if next == c.StatusShipped {
		for _, field := range []string{c.OrderCarrier, c.OrderTrackingNumber} {
			if order.GetString(field) == "" && (current != c.StatusShipped || changed(field)) {
				errs[field] = validation.NewError("validation_required_to_ship", "An order ships with a carrier and a tracking number.")
			}
		}
	}
	for _, field := range shippingFields {
		if changed(field) && order.GetString(field) != "" && next != c.StatusShipped && next != c.StatusDelivered {
			errs[field] = validation.NewError("validation_not_shipped", "Shipping details go with marking the order shipped.")
		}
	}
	if link := order.GetString(c.OrderTrackingURL); link != "" {
		if err := CheckHTTPSLink(link); err != nil {
			errs[c.OrderTrackingURL] = err
		}
	}
	if refunded := order.GetInt(c.OrderRefundedAmount); refunded < 0 || refunded > order.GetInt(c.OrderTotal) {
		errs[c.OrderRefundedAmount] = validation.NewError("validation_refund_out_of_range",
			"The refunded amount must be between 0 and the order's total.")
	}
	return errs
}

// CheckHTTPSLink accepts an absolute https link to a named host: a tracking
// or receipt link shown to customers must not run script or leave https.
func CheckHTTPSLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || len(link) > 2000 ||
		strings.ContainsFunc(link, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) }) {
		return validation.NewError("validation_https_link", "Give an https:// link, such as https://tracking.example.com/123.")
	}
	return nil
}

// limitStaffOrderChanges keeps support to shipping work (status shipped or
// delivered, the arrival date) and writes every staff change to audit_log.
// Superusers may change any field; the state machine still holds for them.
func limitStaffOrderChanges(e *core.RecordRequestEvent) error {
	info, err := e.RequestInfo()
	if err != nil {
		return err
	}
	if !e.HasSuperuserAuth() {
		if errs := checkSupportOrderChange(e.Record, info.Body); len(errs) > 0 {
			return e.BadRequestError("Support may only ship, deliver and set the arrival date here.", errs)
		}
	}
	if raw, given := info.Body[c.OrderEstimatedArrival]; given {
		if err := checkArrivalDate(e.Record.Original(), raw); err != nil {
			return e.BadRequestError("Check the arrival date.", validation.Errors{c.OrderEstimatedArrival: err})
		}
	}
	return audit.Request(e, func() (string, map[string]any) {
		names := audit.ChangedFieldNames(e.Record)
		if len(names) == 0 {
			return "", nil
		}
		// Values of the shipping fields; of the rest (a superuser's edits of
		// the customer's name, email, address) only the names: audit_log is
		// readable by support and outlives a deleted account.
		data := audit.ChangedFields(e.Record, c.OrderStatusField, c.OrderEstimatedArrival, c.OrderCancelReason,
			c.OrderCarrier, c.OrderTrackingNumber, c.OrderTrackingURL)
		data["fields"] = names
		return "order.update", data
	})
}

// copyArrivalToItems gives an order's physical items the arrival date
// support sets on the order, so the purchases table shows it too.
func copyArrivalToItems(e *core.RecordEvent) error {
	var before string
	_ = e.App.DB().Select(c.OrderEstimatedArrival).From(c.Orders).Where(dbx.HashExp{"id": e.Record.Id}).Row(&before)
	if err := e.Next(); err != nil {
		return err
	}
	after := e.Record.GetDateTime(c.OrderEstimatedArrival)
	if after.IsZero() || after.String() == before {
		return nil
	}
	_, err := e.App.DB().Update(c.OrderItems, dbx.Params{c.ItemEstimatedArrival: after.String()},
		dbx.And(dbx.HashExp{c.ItemOrder: e.Record.Id}, dbx.NewExp("estimated_arrival != ''"))).Execute()
	if err != nil {
		return fmt.Errorf("arrival date of order %s's items: %w", e.Record.Id, err)
	}
	return nil
}

// maxArrivalAhead bounds how far ahead an arrival date may be set.
const maxArrivalAhead = 366 * 24 * time.Hour

// checkArrivalDate accepts, as an order's new arrival date, a date that
// parses, is not before the order was placed nor more than a year ahead,
// on an order that is still on its way (paid or shipped). A value that
// does not parse would otherwise clear the date.
func checkArrivalDate(order *core.Record, raw any) error {
	// PocketBase has already read the body's value as a date: one that
	// does not parse is a zero date, which would clear the field.
	var when types.DateTime
	switch v := raw.(type) {
	case types.DateTime:
		when = v
	case string:
		when, _ = types.ParseDateTime(strings.TrimSpace(v))
	}
	if when.IsZero() {
		return validation.NewError("validation_invalid_date", "Give a date, such as 2026-12-24.")
	}
	if status := c.NewOrder(order).Status(); !status.InTransit() {
		return validation.NewError("validation_not_in_transit",
			fmt.Sprintf("An order that is %s has no arrival date to set.", status))
	}
	placed := c.NewOrder(order).Created().Time().Truncate(24 * time.Hour)
	if when.Time().Before(placed) {
		return validation.NewError("validation_before_order", "The arrival date cannot be before the order was placed.")
	}
	if when.Time().After(time.Now().Add(maxArrivalAhead)) {
		return validation.NewError("validation_too_far", "The arrival date must be within a year.")
	}
	return nil
}

func checkSupportOrderChange(order *core.Record, body map[string]any) validation.Errors {
	errs := validation.Errors{}
	for field := range body {
		if !slices.Contains(supportEditableFields, field) {
			errs[field] = validation.NewError("validation_not_editable", "Support cannot change this field.")
		}
	}
	next := c.NewOrder(order).Status()
	if next != c.NewOrder(order.Original()).Status() && !slices.Contains(supportStatuses, next) {
		errs[c.OrderStatusField] = validation.NewError("validation_use_cancel_route",
			"Support may set shipped or delivered here; cancel through POST /api/v1/orders/{id}/cancel.")
	}
	return errs
}
