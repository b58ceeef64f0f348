package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ganigeorgiev/fexpr"
	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// What one records-API read may ask of the database, for anyone but
// superusers. PocketBase turns every relation in a filter, sort or expand
// into a join, and a back-relation (`x_via_y`) into a join over a whole
// table: four filters such as
// `order_items_via_order.product.order_items_via_product.order...` held every
// reading connection for the 30 s query timeout. The shop's page and a
// reasonable front-end need one hop, rarely two (docs/security.md).
const (
	maxQueryParamLength = 2000
	// maxRelationHops is the dots in one field path (a.b.c is two).
	maxRelationHops = 2
	// maxBackRelations is the `_via_` joins in one whole request.
	maxBackRelations = 1
	// maxRelationPaths is the field paths that cross a relation, in one
	// request's filter, sort and expand together.
	maxRelationPaths = 4
	// defaultRecordsReadTimeout ends a records-API read that runs longer.
	defaultRecordsReadTimeout = 2 * time.Second
)

// errQueryTooCostly is the code of a refused filter, sort or expand.
const errQueryTooCostly = "validation_query_too_costly"

// recordsReads bounds the records API's reads: at most slots run at once,
// so that the shop's own routes (checkout, webhooks, dashboard, sign-in)
// always find a free reading connection.
type recordsReads struct {
	slots   chan struct{}
	timeout time.Duration // waiting for a slot included
}

// RegisterRecordsGuard binds the guard in front of the records API, after
// PocketBase has read the auth token and before the customers' list scope
// (list_scope.go), which wraps the filter the guard has checked. slots is
// how many records-API reads run at once, the rest of the reading
// connections being kept for the shop's own routes; timeout bounds one
// read (0: 2 s).
func RegisterRecordsGuard(app core.App, slots int, timeout time.Duration) {
	if timeout <= 0 {
		timeout = defaultRecordsReadTimeout
	}
	reads := &recordsReads{slots: make(chan struct{}, max(1, slots)), timeout: timeout}
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "shopdashGuardRecordsReads",
			Priority: apis.DefaultBodyLimitMiddlewarePriority + 1,
			Func:     reads.guard,
		})
		return se.Next()
	})
}

// guard checks the cost of a records-API read, waits for a read slot and
// runs the read with a deadline. Any other API request that asks for an
// expand (a write, an auth refresh) has the expand checked too. Superusers
// are trusted with the dashboard at /_/ and pass as they are.
func (r *recordsReads) guard(e *core.RequestEvent) error {
	if e.HasSuperuserAuth() || !strings.HasPrefix(e.Request.URL.Path, "/api/") {
		return e.Next()
	}
	query := e.Request.URL.Query()
	read := isRead(e.Request) && isRecordsAPIPath(e.Request.URL.Path)
	if !read {
		if errs := checkQueryCost("", "", query.Get("expand")); len(errs) > 0 {
			return errTooCostly(e, errs)
		}
		return e.Next()
	}
	if errs := checkQueryCost(query.Get("filter"), query.Get("sort"), query.Get("expand")); len(errs) > 0 {
		return errTooCostly(e, errs)
	}

	ctx, cancel := context.WithTimeout(e.Request.Context(), r.timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		e.Response.Header().Set("Retry-After", "1")
		return router.NewApiError(http.StatusServiceUnavailable, "The shop is busy; try again in a moment.", nil)
	}
	app := e.App
	e.App = &deadlineApp{App: app, ctx: ctx}
	err := e.Next()
	e.App = app
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return router.NewApiError(http.StatusServiceUnavailable,
			fmt.Sprintf("The query took longer than %s; narrow it down.", r.timeout), nil)
	}
	return err
}

// isRead reports a GET, or a HEAD, which Go's router serves through the
// same handler.
func isRead(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

func errTooCostly(e *core.RequestEvent, errs validation.Errors) error {
	return e.BadRequestError("The query asks too much of the database; see docs/security.md for the limits.", errs)
}

// isRecordsAPIPath reports whether a path is a records-API list or view:
// /api/collections/{collection}/records[/{id}].
func isRecordsAPIPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/collections/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	return (len(parts) == 2 || len(parts) == 3) && parts[0] != "" && parts[1] == "records"
}

// deadlineApp is the app as the records API sees it during one read: its
// record queries carry the read's deadline, which interrupts SQLite.
type deadlineApp struct {
	core.App
	ctx context.Context
}

// RecordQuery is the app's record query under the read's deadline.
func (a *deadlineApp) RecordQuery(collectionModelOrIdentifier any) *dbx.SelectQuery {
	return a.App.RecordQuery(collectionModelOrIdentifier).WithContext(a.ctx)
}

// checkQueryCost checks the filter, sort and expand of a records-API read
// against the limits above, and that the filter is one whole expression
// (so that the list scope's parentheses around it cannot be closed from
// inside: `1=1) || (...`).
func checkQueryCost(filter, sort, expand string) validation.Errors {
	errs := validation.Errors{}
	tooLong := func(name, value string) bool {
		if len(value) > maxQueryParamLength {
			errs[name] = validation.NewError(errQueryTooCostly, fmt.Sprintf("At most %d characters.", maxQueryParamLength))
			return true
		}
		return false
	}
	var paths []string
	if filter != "" && !tooLong("filter", filter) {
		groups, err := fexpr.Parse(filter)
		if err != nil || !staysInParentheses(filter) {
			errs["filter"] = validation.NewError("validation_invalid_filter", "The filter is not one complete expression.")
		} else {
			paths = append(paths, filterFields(groups)...)
		}
	}
	if sort != "" && !tooLong("sort", sort) {
		for _, field := range strings.Split(sort, ",") {
			paths = append(paths, strings.TrimLeft(strings.TrimSpace(field), "+-"))
		}
	}
	if expand != "" && !tooLong("expand", expand) {
		for _, field := range strings.Split(expand, ",") {
			paths = append(paths, strings.TrimSpace(field)+".expand")
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if reason := relationCost(paths); reason != "" {
		errs["filter"] = validation.NewError(errQueryTooCostly, reason)
	}
	return errs
}

// staysInParentheses reports whether the filter, put in parentheses and
// joined to another condition as the list scope does, stays one group: a
// `)` that the filter alone parses as part of a comment or a string would
// otherwise close the parentheses when wrapped (`status = "paid" // ) || (1=1`).
func staysInParentheses(filter string) bool {
	const sentinel = "shopdash_scope"
	groups, err := fexpr.Parse("(" + filter + ") && " + sentinel + " = 1")
	if err != nil || len(groups) != 2 || groups[1].Join != fexpr.JoinAnd {
		return false
	}
	if _, nested := groups[0].Item.([]fexpr.ExprGroup); !nested {
		return false
	}
	last, ok := groups[1].Item.(fexpr.Expr)
	return ok && last.Left.Literal == sentinel
}

// relationCost says which limit the field paths break, or "".
func relationCost(paths []string) string {
	backRelations, crossing := 0, 0
	for _, path := range paths {
		path, _, _ = strings.Cut(path, ":") // a modifier such as :lower or :each
		if strings.HasPrefix(path, "@request.") && !strings.HasPrefix(path, "@request.auth.") {
			continue // the request's own values: no join
		}
		hops := strings.Count(path, ".")
		if strings.HasPrefix(path, "@collection.") || strings.HasPrefix(path, "@request.auth.") {
			hops-- // the collection or auth record itself is the first join
		}
		if hops > maxRelationHops {
			return fmt.Sprintf("%q crosses %d relations; at most %d.", path, hops, maxRelationHops)
		}
		if hops > 0 || strings.HasPrefix(path, "@collection.") {
			crossing++
		}
		// x_via_y, or its older spelling x(y), which PocketBase still reads.
		backRelations += strings.Count(path, "_via_") + strings.Count(path, "(")
	}
	switch {
	case backRelations > maxBackRelations:
		return fmt.Sprintf("%d back-relations (_via_); at most %d.", backRelations, maxBackRelations)
	case crossing > maxRelationPaths:
		return fmt.Sprintf("%d fields across relations; at most %d.", crossing, maxRelationPaths)
	}
	return ""
}

// filterFields lists the field paths a parsed filter reads, in
// comparisons and function arguments alike.
func filterFields(groups []fexpr.ExprGroup) []string {
	var fields []string
	var token func(t fexpr.Token)
	token = func(t fexpr.Token) {
		switch t.Type {
		case fexpr.TokenIdentifier:
			fields = append(fields, t.Literal)
		case fexpr.TokenFunction:
			if args, ok := t.Meta.([]fexpr.Token); ok {
				for _, arg := range args {
					token(arg)
				}
			}
		}
	}
	for _, g := range groups {
		switch item := g.Item.(type) {
		case fexpr.Expr:
			token(item.Left)
			token(item.Right)
		case []fexpr.ExprGroup:
			fields = append(fields, filterFields(item)...)
		}
	}
	return fields
}
