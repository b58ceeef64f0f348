package payments

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// newStripeClient builds the Stripe client once from the config; nil when
// no secret key is set, and the payment routes then answer 503.
func newStripeClient(cfg Config) *client.API {
	if cfg.StripeSecretKey == "" {
		return nil
	}
	backendConfig := &stripe.BackendConfig{
		MaxNetworkRetries: stripe.Int64(cfg.StripeMaxRetries),
		// stripe-go logs request failures with their message; we log our own,
		// without payloads.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.StripeAPIBase != "" {
		backendConfig.URL = stripe.String(cfg.StripeAPIBase)
	}
	sc := &client.API{}
	sc.Init(cfg.StripeSecretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, backendConfig),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, backendConfig),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, backendConfig),
	})
	return sc
}

// errPaymentsOff is the 503 of a payment route on a shop without Stripe.
func errPaymentsOff() *router.ApiError {
	return router.NewApiError(http.StatusServiceUnavailable,
		"Payments are not configured: set STRIPE_SECRET_KEY.", nil)
}

// errStripeFailed is the 502 of a Stripe call that failed; the message
// says what was being done, never Stripe's payload.
func errStripeFailed(doing string, err error) *router.ApiError {
	return router.NewApiError(http.StatusBadGateway,
		fmt.Sprintf("Stripe could not %s; nothing was changed, please try again.", doing), err)
}

// logStripeFailure logs a failed Stripe call with searchable keys and no
// payload (which may hold customer data).
func logStripeFailure(app core.App, doing string, err error, attrs ...any) {
	var se *stripe.Error
	if errors.As(err, &se) {
		attrs = append(attrs, "stripe_status", se.HTTPStatusCode, "stripe_code", string(se.Code), "stripe_request", se.RequestID)
	} else {
		attrs = append(attrs, "error", err.Error())
	}
	app.Logger().Error("stripe call failed", append([]any{"doing", doing}, attrs...)...)
}

// answerOrder answers an order operation of a route (cancel, refund): 200
// with the order, the operation's own API error (409, 502, ...), or 500.
func answerOrder(e *core.RequestEvent, order *core.Record, err error) error {
	if err == nil {
		return e.JSON(http.StatusOK, order)
	}
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return e.InternalServerError("", err)
}
