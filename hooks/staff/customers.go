package staff

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
)

// customersPerPage is the most customers one search answers.
const customersPerPage = 20

// customerResult is a customer as support's lookup shows them: a profile,
// no secrets (no password, tokens or Stripe ids).
type customerResult struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Email           string `json:"email"`
	Language        string `json:"language"`
	Verified        bool   `json:"verified"`
	ShippingAddress any    `json:"shipping_address"`
	Created         string `json:"created"`
}

// searchCustomers is GET /api/v1/customers?q=…: customers whose email or
// name holds q (at least 3 characters), newest first, at most 20. The
// records API cannot do it: PocketBase lets only superusers filter users
// by an email the user has not made public.
func searchCustomers(e *core.RequestEvent) error {
	q := strings.TrimSpace(e.Request.URL.Query().Get("q"))
	if n := utf8.RuneCountInString(q); n < 3 || n > 100 {
		return e.BadRequestError("Check the search.", validation.Errors{
			"q": validation.NewError("validation_length_out_of_range", "Search with 3 to 100 characters of an email or a name."),
		})
	}
	// The request log keeps the URL: the searched email stays out of it.
	e.Request.URL.RawQuery = "q=%5Bsearch%5D"
	var users []*core.Record
	// instr, not LIKE: q is text, its % and _ included.
	err := e.App.RecordQuery(c.Users).
		AndWhere(dbx.HashExp{c.UserRole: string(c.RoleCustomer)}).
		AndWhere(dbx.NewExp("(instr(lower([[email]]), lower({:q})) > 0 OR instr(lower([[name]]), lower({:q})) > 0)", dbx.Params{"q": q})).
		OrderBy("created DESC").
		Limit(customersPerPage + 1).
		All(&users)
	if err != nil {
		return e.InternalServerError("", err)
	}
	more := len(users) > customersPerPage
	users = users[:min(len(users), customersPerPage)]
	items := make([]customerResult, 0, len(users))
	for _, u := range users {
		items = append(items, customerResult{
			ID: u.Id, Name: u.GetString(c.UserName), Email: u.Email(), Language: u.GetString(c.UserLanguage),
			Verified: u.Verified(), ShippingAddress: u.Get(c.UserShippingAddress), Created: u.GetString("created"),
		})
	}
	return e.JSON(http.StatusOK, map[string]any{"items": items, "perPage": customersPerPage, "q": q,
		"more": more})
}
