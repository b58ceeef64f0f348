package records_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	c "shopdash/collections"
	"shopdash/internal/shoptest"
)

const noteID = "note00000000001"

// withNote adds support's note on the customer's paid order.
func withNote(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(c.OrderNotes)
	if err != nil {
		t.Fatal(err)
	}
	note := core.NewRecord(col)
	note.Id = noteID
	note.Set(c.NoteOrder, shoptest.Shop().CustomerPaidOrder)
	note.Set(c.NoteAuthor, shoptest.Shop().Support.ID)
	note.Set(c.NoteBody, "Customer called: leave it with the neighbour.")
	if err := app.Save(note); err != nil {
		t.Fatal(err)
	}
}

// TestOrderNotesRules is CONTRACT §5's order_notes row for every role:
// support lists, views and writes in their own name; nobody edits or
// deletes a note but a superuser; customers, store and guests see none.
func TestOrderNotesRules(t *testing.T) {
	shop := shoptest.Shop()
	list := "/api/collections/order_notes/records"
	one := list + "/" + noteID
	body := func(author, text string) *strings.Reader {
		return strings.NewReader(`{"order":"` + shop.CustomerPaidOrder + `","author":"` + author + `","body":"` + text + `"}`)
	}
	kept := shoptest.AfterAll(
		shoptest.ExpectStored(c.OrderNotes, noteID, c.NoteBody, "Customer called: leave it with the neighbour."),
		shoptest.ExpectRecordCount(c.OrderNotes, 1),
	)
	none := shoptest.ExpectRecordCount(c.OrderNotes, 0)
	scenarios := []tests.ApiScenario{
		{Name: "support lists notes", Method: http.MethodGet, URL: list, Headers: shoptest.Headers(shop.Support), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"totalItems":1`, `leave it with the neighbour`}},
		{Name: "the customer lists none", Method: http.MethodGet, URL: list, Headers: shoptest.Headers(shop.Customer), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"totalItems":0`}, NotExpectedContent: []string{`neighbour`}},
		{Name: "store lists none", Method: http.MethodGet, URL: list, Headers: shoptest.Headers(shop.Store), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"totalItems":0`}, NotExpectedContent: []string{`neighbour`}},
		{Name: "a guest lists none", Method: http.MethodGet, URL: list, BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"totalItems":0`}, NotExpectedContent: []string{`neighbour`}},
		{Name: "the customer cannot view it", Method: http.MethodGet, URL: one, Headers: shoptest.Headers(shop.Customer), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusNotFound, ExpectedContent: []string{`"status":404`}},
		{Name: "the customer cannot expand it from their order", Method: http.MethodGet,
			URL:     "/api/collections/orders/records/" + shop.CustomerPaidOrder + "?expand=order_notes_via_order",
			Headers: shoptest.Headers(shop.Customer), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusOK, NotExpectedContent: []string{`neighbour`}},
		{Name: "support writes a note", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body: body(shop.Support.ID, " Refund promised by phone. "), ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{`"body":"Refund promised by phone."`},
			AfterTestFunc: shoptest.AfterAll(shoptest.ExpectRecordCount(c.OrderNotes, 1),
				shoptest.ExpectAuditRows("order.note", "", 1))},
		{Name: "support cannot write in another's name", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body: body(shop.Customer.ID, "Forged"), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`Failed to create record.`}, AfterTestFunc: none},
		{Name: "an empty note", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body: body(shop.Support.ID, "   "), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"body":{"code":`}, AfterTestFunc: none},
		{Name: "a note over 2,000 characters", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body: body(shop.Support.ID, strings.Repeat("x", 2001)), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"body":{"code":`}, AfterTestFunc: none},
		{Name: "a note with a bidi override", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body: body(shop.Support.ID, "abc\u202edef"), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"body":{"code":`}, AfterTestFunc: none},
		{Name: "a note on no order", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Support),
			Body:           strings.NewReader(`{"order":"nosuchorder0000","author":"` + shop.Support.ID + `","body":"x"}`),
			ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`"order":{"code":"validation_missing_rel_records"`}, AfterTestFunc: none},
		{Name: "the customer cannot write one", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Customer),
			Body: body(shop.Customer.ID, "Hello"), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`Failed to create record.`}, AfterTestFunc: none},
		{Name: "store cannot write one", Method: http.MethodPost, URL: list, Headers: shoptest.Headers(shop.Store),
			Body: body(shop.Store.ID, "Hello"), ExpectedStatus: http.StatusBadRequest, ExpectedContent: []string{`Failed to create record.`}, AfterTestFunc: none},
		{Name: "support cannot edit a note", Method: http.MethodPatch, URL: one, Headers: shoptest.Headers(shop.Support), BeforeTestFunc: withNote,
			Body: strings.NewReader(`{"body":"Rewritten"}`), ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`Only superusers`}, AfterTestFunc: kept},
		{Name: "support cannot delete a note", Method: http.MethodDelete, URL: one, Headers: shoptest.Headers(shop.Support), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusForbidden, ExpectedContent: []string{`Only superusers`}, AfterTestFunc: kept},
		{Name: "a superuser may delete one", Method: http.MethodDelete, URL: one, Headers: shoptest.Headers(shop.Superuser), BeforeTestFunc: withNote,
			ExpectedStatus: http.StatusNoContent, AfterTestFunc: none},
	}
	shoptest.RunScenarios(t, scenarios)
}
