package shoptest

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"

	"shopdash/internal/apicheck"
)

// answerChecker is the API document, loaded once per test binary.
var answerChecker = sync.OnceValues(apicheck.New)

// checkAnswers makes every answer the app gives in a test pass through the
// API document (hooks/apidoc): a route, status, header, field or error
// code the document does not describe fails the test that asked
// (apicheck.Checker says which answers the document speaks for).
func checkAnswers(tb testing.TB, app core.App) {
	tb.Helper()
	checker, err := answerChecker()
	if err != nil {
		tb.Fatalf("the API document: %v", err)
	}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: "shoptestCheckAnswers",
			// Before the rate limits, body limit and guards, whose
			// refusals are answers too.
			Priority: apis.DefaultLoadAuthTokenMiddlewarePriority + 1,
			Func: func(e *core.RequestEvent) error {
				if !checker.Checked(e.Request) {
					return e.Next()
				}
				asked := e.Request.Clone(e.Request.Context()) // handlers may rewrite the URL
				rec := &bodyRecorder{ResponseWriter: e.Response}
				e.Response = rec
				err := e.Next()
				if err != nil {
					router.ErrorHandler(rec, e.Request, err) // as the router would, after this
				}
				e.Response = rec.ResponseWriter
				if cerr := checker.Check(asked, e.Status(), rec.Header(), rec.body.Bytes()); cerr != nil {
					tb.Errorf("API document: %v", cerr)
				}
				return err
			},
		})
		return se.Next()
	})
}

// bodyRecorder keeps a copy of what is written; the router's own writer
// beneath it tracks the status.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *bodyRecorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets the router and http.ResponseController reach the writer
// beneath.
func (r *bodyRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
