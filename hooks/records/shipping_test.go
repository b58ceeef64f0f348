package records_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

// TestShippingNeedsCarrierAndTrackingNumber: CONTRACT §5's shipping rule
// on the records API, for support and for a superuser (the rule lives in
// the model hook, so /_/ is held to it too), with every bad input refused
// with a field error and the order left paid.
func TestShippingNeedsCarrierAndTrackingNumber(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	url := "/api/collections/orders/records/" + order
	untouched := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusPaid),
		shoptest.ExpectStored(c.Orders, order, c.OrderCarrier, ""),
		shoptest.ExpectStored(c.Orders, order, c.OrderShippedAt, ""),
		shoptest.ExpectAuditRows("order.update", "", 0),
	)
	refused := func(name string, headers map[string]string, body, content string) tests.ApiScenario {
		return tests.ApiScenario{
			Name: name, Method: http.MethodPatch, URL: url, Body: strings.NewReader(body), Headers: headers,
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{content}, AfterTestFunc: untouched,
		}
	}
	support, superuser := shoptest.Headers(shop.Support), shoptest.Headers(shop.Superuser)
	shipped := shoptest.AfterAll(
		shoptest.ExpectStored(c.Orders, order, c.OrderStatusField, c.StatusShipped),
		shoptest.ExpectStored(c.Orders, order, c.OrderCarrier, "DHL Express"),
		shoptest.ExpectStored(c.Orders, order, c.OrderTrackingNumber, "JD0123"),
		func(t testing.TB, app *tests.TestApp, res *http.Response) {
			record, err := app.FindRecordById(c.Orders, order)
			if err != nil {
				t.Fatal(err)
			}
			if record.GetDateTime(c.OrderShippedAt).IsZero() {
				t.Fatal("shipped_at is not set")
			}
		},
	)
	shoptest.RunScenarios(t, []tests.ApiScenario{
		refused("no carrier", support, `{"status":"shipped","tracking_number":"JD0123"}`, `"carrier":{"code":"validation_required_to_ship"`),
		refused("a blank carrier", support, `{"status":"shipped","carrier":"  ","tracking_number":"JD0123"}`, `"carrier":{"code":"validation_required_to_ship"`),
		refused("no tracking number", support, `{"status":"shipped","carrier":"DHL"}`, `"tracking_number":{"code":"validation_required_to_ship"`),
		refused("neither, by a superuser", superuser, `{"status":"shipped"}`, `"tracking_number":{"code":"validation_required_to_ship"`),
		refused("a javascript: tracking link", support, `{"status":"shipped","carrier":"DHL","tracking_number":"JD0123","tracking_url":"javascript:alert(1)"}`,
			`"tracking_url":{"code":`),
		refused("an http tracking link", support, `{"status":"shipped","carrier":"DHL","tracking_number":"JD0123","tracking_url":"http://track.example.com/1"}`,
			`"tracking_url":{"code":"validation_https_link"`),
		refused("a tracking link with a password", support, `{"status":"shipped","carrier":"DHL","tracking_number":"JD0123","tracking_url":"https://me:pw@track.example.com/1"}`,
			`"tracking_url":{"code":"validation_https_link"`),
		refused("a carrier over 100 characters", support, `{"status":"shipped","carrier":"`+strings.Repeat("x", 101)+`","tracking_number":"JD0123"}`,
			`"carrier":{"code":"validation_max_text_constraint"`),
		refused("a carrier with a bidi override", support, `{"status":"shipped","carrier":"UPS\u202eSPU","tracking_number":"JD0123"}`, `"carrier":{"code":"validation_invisible_character"`),
		refused("a tracking number with a NUL", support, `{"status":"shipped","carrier":"UPS","tracking_number":"a\u0000b"}`, `"tracking_number":{"code":"validation_control_character"`),
		refused("a tracking link with a bidi override", support, `{"status":"shipped","carrier":"UPS","tracking_number":"JD0123","tracking_url":"https://track.example.com/\u202e1"}`,
			`"tracking_url":{"code":"validation_https_link"`),
		refused("shipping details without shipping", support, `{"carrier":"DHL","tracking_number":"JD0123"}`, `"carrier":{"code":"validation_not_shipped"`),
		refused("support may not set refunded_amount", support, `{"refunded_amount":5}`, `"refunded_amount":{"code":"validation_not_editable"`),
		refused("support may not set the receipt", support, `{"receipt_url":"https://evil.example.com"}`, `"receipt_url":{"code":"validation_not_editable"`),
		refused("a superuser may not refund more than the total", superuser, `{"refunded_amount":999999999}`, `"refunded_amount":{"code":"validation_refund_out_of_range"`),
		{
			Name: "support ships with all details", Method: http.MethodPatch, URL: url, Headers: support,
			Body:           strings.NewReader(`{"status":"shipped","carrier":" DHL Express ","tracking_number":"JD0123","tracking_url":"https://track.example.com/JD0123"}`),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"status":"shipped"`, `"carrier":"DHL Express"`, `"tracking_url":"https://track.example.com/JD0123"`},
			AfterTestFunc: shoptest.AfterAll(shipped, shoptest.ExpectAuditRows("order.update", c.AuditRef(c.Orders, order), 1)),
		},
	})
}

// TestShippedOrderKeepsItsDetailsAndDates: a shipped order may have its
// tracking corrected, cannot lose its carrier, and is then delivered,
// which stamps delivered_at.
func TestShippedOrderKeepsItsDetailsAndDates(t *testing.T) {
	shop := shoptest.Shop()
	order := shop.CustomerPaidOrder
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	shoptest.MoveOrder(t, app, order, c.StatusShipped)

	record, err := app.FindRecordById(c.Orders, order)
	if err != nil {
		t.Fatal(err)
	}
	record.Set(c.OrderTrackingNumber, "TRK999")
	if err := app.Save(record); err != nil {
		t.Fatalf("correcting the tracking number: %v", err)
	}
	record, _ = app.FindRecordById(c.Orders, order)
	record.Set(c.OrderCarrier, " ")
	if err := app.Save(record); err == nil || !strings.Contains(err.Error(), "carrier") {
		t.Fatalf("a shipped order lost its carrier: %v", err)
	}
	record, _ = app.FindRecordById(c.Orders, order)
	record.Set(c.OrderStatusField, string(c.StatusDelivered))
	if err := app.Save(record); err != nil {
		t.Fatal(err)
	}
	fresh, _ := app.FindRecordById(c.Orders, order)
	if fresh.GetDateTime(c.OrderDeliveredAt).IsZero() || fresh.GetDateTime(c.OrderShippedAt).IsZero() {
		t.Fatalf("dates: shipped %q delivered %q", fresh.GetString(c.OrderShippedAt), fresh.GetString(c.OrderDeliveredAt))
	}
	if fresh.GetString(c.OrderTrackingNumber) != "TRK999" || fresh.GetString(c.OrderCarrier) == "" {
		t.Fatalf("details: %q %q", fresh.GetString(c.OrderCarrier), fresh.GetString(c.OrderTrackingNumber))
	}
}
