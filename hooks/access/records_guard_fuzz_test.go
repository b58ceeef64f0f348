package access

import (
	"strings"
	"testing"

	"github.com/ganigeorgiev/fexpr"
)

// FuzzCheckQueryCost runs the records-API guard on any filter, sort and
// expand: it never panics, refuses only with field errors on those three,
// and a filter it accepts stays inside the owner scope that the list
// middleware wraps around a customer's filter (list_scope.go): the wrapped
// filter is the given one in parentheses AND the owner condition, so no
// `) || (` or comment can turn it into an OR. The seeds are issue 13's
// costly and escaping filters.
func FuzzCheckQueryCost(f *testing.F) {
	long := strings.Repeat("a", 3000)
	for _, seed := range []struct{ filter, sort, expand string }{
		{`1=1) || (order_items_via_order.product.order_items_via_product.order.order_items_via_order.product_name ?~ "%q%z"`, "", ""},
		{`order_items_via_order.product.order_items_via_product.order.order_items_via_order.product_name ?~ "%q%z"`, "", ""},
		{`order_items_via_order.product_name ?~ "mug" && order_items_via_order.quantity > 1`, "", ""},
		{`order_items_via_order.product_name ~ "mug"`, "-created", ""},
		{`status = "paid"`, "-created,order_items_via_order.product.name", "user,order_items_via_order.product"},
		{"", "", "order_items_via_order.product.order_items_via_product"},
		{`@collection.order_items.order.user = @request.auth.id`, "", ""},
		{`@collection.products.name ?= "x" && @collection.orders.total > 0 && @collection.users.email != "" && @collection.order_items.quantity > 0 && @collection.stripe_events.type != ""`, "", ""},
		{`@request.auth.id != "" && user = @request.auth.id && @request.query.x = "1"`, "", ""},
		{`geoDistance(a.b, c, d, e) > 1`, "", ""},
		{`geoDistance(order_items_via_order.product.x, 1, 2, 3) < 10`, "", ""},
		{`strftime('%Y', created) = "2026"`, "", ""},
		{`status = "paid" // only paid ones`, "", ""},
		{`status = "paid" // note`, "", ""},
		{"status = \"paid\" // note\n|| total > 0", "", ""},
		{`name = "a) || (b"`, "", ""},
		{`name = 'it"s' && name != "it's" && name ~ ` + "`x`", "", ""},
		{`name = "unterminated`, "", ""},
		{`((((status = "paid"))))`, "", ""},
		{`(status = "paid"`, "", ""},
		{`status = "paid")`, "", ""},
		{`)(`, "", ""},
		{`1=1 || 2=2`, "", ""},
		{`total:lower = "x" && items:each ?= 1 && order_items_via_order.quantity:avg > 1`, "", ""},
		{long, "", ""},
		{`name ~ "` + long[:2990] + `"`, "", ""},
		{"", long, ""},
		{"", "", long},
		{"", "-+-created, ,,", " , "},
	} {
		f.Add(seed.filter, seed.sort, seed.expand)
	}
	f.Fuzz(func(t *testing.T, filter, sort, expand string) {
		errs := checkQueryCost(filter, sort, expand)
		for name := range errs {
			if name != "filter" && name != "sort" && name != "expand" {
				t.Fatalf("checkQueryCost(%q, %q, %q): an error on %q", filter, sort, expand, name)
			}
		}
		if len(errs) > 0 || filter == "" {
			return
		}
		wrapped := "(" + filter + `) && user = "x"`
		groups, err := fexpr.Parse(wrapped)
		if err != nil {
			return // PocketBase refuses the list with 400: nothing escapes
		}
		if !ownerScoped(groups) {
			joins := make([]fexpr.JoinOp, len(groups))
			for i, g := range groups {
				joins[i] = g.Join
			}
			t.Fatalf("the accepted filter %q escapes the owner scope: %q parses into %d top-level groups joined by %q, want the filter && the owner",
				filter, wrapped, len(groups), joins[1:])
		}
	})
}

// ownerScoped reports whether a parsed filter is one parenthesised group
// AND `user = "x"`, nothing else at the top level.
func ownerScoped(groups []fexpr.ExprGroup) bool {
	if len(groups) != 2 || groups[1].Join != fexpr.JoinAnd {
		return false
	}
	if _, ok := groups[0].Item.([]fexpr.ExprGroup); !ok {
		return false
	}
	owner, ok := groups[1].Item.(fexpr.Expr)
	return ok && owner.Left.Type == fexpr.TokenIdentifier && owner.Left.Literal == "user" &&
		owner.Op == fexpr.SignEq && owner.Right.Type == fexpr.TokenText && owner.Right.Literal == "x"
}
