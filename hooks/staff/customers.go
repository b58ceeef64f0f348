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
	var users []*core.Record
	err := e.App.RecordQuery(c.Users).
		AndWhere(dbx.HashExp{c.UserRole: string(c.RoleCustomer)}).
		AndWhere(dbx.Or(dbx.Like(core.FieldNameEmail, q), dbx.Like(c.UserName, q))).
		OrderBy("created DESC").
		Limit(customersPerPage).
		All(&users)
	if err != nil {
		return e.InternalServerError("", err)
	}
	items := make([]customerResult, 0, len(users))
	for _, u := range users {
		items = append(items, customerResult{
			ID: u.Id, Name: u.GetString(c.UserName), Email: u.Email(), Language: u.GetString(c.UserLanguage),
			Verified: u.Verified(), ShippingAddress: u.Get(c.UserShippingAddress), Created: u.GetString("created"),
		})
	}
	return e.JSON(http.StatusOK, map[string]any{"items": items, "perPage": customersPerPage, "q": q,
		"more": len(items) == customersPerPage})
}
