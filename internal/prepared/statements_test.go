package prepared_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	c "shopdash/collections"
	"shopdash/internal/prepared"
	"shopdash/internal/shoptest"
)

// TestWriterStatementsReadAsRecordQueryDoes: FindRecordBy gives the record
// PocketBase's record query gives, field by field, outside a transaction
// and inside one, before its statement is prepared (compiled for the call)
// and after (kept on the writer's connection); it finds nothing for the
// empty value or an unknown one; a field added to the collection is read
// by a new statement; Exists agrees.
func TestWriterStatementsReadAsRecordQueryDoes(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	order, err := app.FindRecordById(c.Orders, shoptest.Shop().CustomerOrder)
	if err != nil {
		t.Fatal(err)
	}
	order.Set(c.OrderStripeSession, "cs_writer_statements")
	if err := app.Save(order); err != nil {
		t.Fatal(err)
	}
	want, err := app.FindRecordById(c.Orders, order.Id)
	if err != nil {
		t.Fatal(err)
	}

	var s prepared.Statements
	same := func(when string, got *core.Record) {
		t.Helper()
		if got == nil {
			t.Fatalf("%s: no record", when)
		}
		if got.Id != want.Id || got.IsNew() || !reflect.DeepEqual(got.FieldsData(), want.FieldsData()) {
			t.Errorf("%s:\n got %v\nwant %v", when, got.FieldsData(), want.FieldsData())
		}
	}
	find := func(app core.App, value string) *core.Record {
		t.Helper()
		got, err := s.FindRecordBy(app, c.Orders, c.OrderStripeSession, value)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	inTx := func(when string) {
		t.Helper()
		err := app.RunInTransaction(func(tx core.App) error {
			same(when, find(tx, "cs_writer_statements"))
			if got := find(tx, ""); got != nil {
				t.Errorf("%s: the empty value found %s", when, got.Id)
			}
			found, err := s.Exists(tx, c.Orders, c.OrderStripeSession, "cs_writer_statements")
			if err != nil || !found {
				t.Errorf("%s: Exists = %v, %v", when, found, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	same("outside a transaction", find(app, "cs_writer_statements"))
	if got := find(app, "cs_nobody"); got != nil {
		t.Errorf("an unknown session found %s", got.Id)
	}
	inTx("in a transaction, compiled for the call")
	if err := s.Prepare(app); err != nil {
		t.Fatal(err)
	}
	if s.Kept() != 2 {
		t.Fatalf("%d statements prepared, want the two the transaction asked for", s.Kept())
	}
	inTx("in a transaction, prepared")

	// The saved record is the one read: FindRecordBy's record saves as
	// PocketBase's does.
	err = app.RunInTransaction(func(tx core.App) error {
		got := find(tx, "cs_writer_statements")
		got.Set(c.OrderCancelReason, "read by a kept statement")
		return tx.Save(got)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want, err = app.FindRecordById(c.Orders, order.Id); err != nil || want.GetString(c.OrderCancelReason) != "read by a kept statement" {
		t.Fatalf("saved: %v %v", want, err)
	}

	col, err := app.FindCollectionByNameOrId(c.Orders)
	if err != nil {
		t.Fatal(err)
	}
	col.Fields.Add(&core.TextField{Name: "added_later"})
	if err := app.Save(col); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB().Update(c.Orders, dbx.Params{"added_later": "seen"}, dbx.HashExp{"id": order.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
	err = app.RunInTransaction(func(tx core.App) error {
		find(tx, "cs_writer_statements") // asks for the new text
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(app); err != nil || s.Kept() != 3 {
		t.Fatalf("prepared %d, %v; want the new text too", s.Kept(), err)
	}
	err = app.RunInTransaction(func(tx core.App) error {
		if got := find(tx, "cs_writer_statements"); got.GetString("added_later") != "seen" {
			t.Errorf("the added field reads %q", got.GetString("added_later"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFindPublicIsThePublicExport: for every record of the shop's
// products, orders and order items, FindPublic gives what PocketBase's
// record, read by its own query, gives as PublicExport, value for value
// and in JSON; and it refuses an auth collection, whose export hides
// more.
func TestFindPublicIsThePublicExport(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	var s prepared.Statements
	for _, collection := range []string{c.Products, c.Orders, c.OrderItems} {
		want, err := app.FindAllRecords(collection)
		if err != nil || len(want) == 0 {
			t.Fatalf("%s: %d records, %v", collection, len(want), err)
		}
		got, err := s.FindPublic(app, collection, "1 = 1", "`id`", 0)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]map[string]any{}
		for _, g := range got {
			byID[g[core.FieldNameId].(string)] = g
		}
		if len(byID) != len(want) {
			t.Fatalf("%s: %d exported, want %d", collection, len(byID), len(want))
		}
		for _, w := range want {
			export := w.PublicExport()
			g := byID[w.Id]
			if !reflect.DeepEqual(g, export) {
				t.Errorf("%s %s:\n got %#v\nwant %#v", collection, w.Id, g, export)
			}
			gj, err1 := json.Marshal(g)
			wj, err2 := json.Marshal(export)
			if err1 != nil || err2 != nil || string(gj) != string(wj) {
				t.Errorf("%s %s in JSON:\n got %s\nwant %s", collection, w.Id, gj, wj)
			}
		}
	}
	if _, err := s.FindPublic(app, c.Users, "1 = 1", "", 1); err == nil {
		t.Error("FindPublic read users, an auth collection")
	}
}

// TestPrepareWhileAnotherTransactionAsks: Prepare waits for the writer's
// one connection without holding what a transaction needs to ask for a
// statement, so a transaction that asks for one while Prepare waits for
// it finishes (before the fix, both waited for each other for ever); the
// statements asked for are kept after, and Exec writes through them.
func TestPrepareWhileAnotherTransactionAsks(t *testing.T) {
	app := shoptest.NewApp(t)
	defer app.Cleanup()
	var s prepared.Statements
	const update = "UPDATE `orders` SET `carrier` = ? WHERE `id` = ?"
	order := shoptest.Shop().CustomerOrder

	inTx, preparing := make(chan struct{}), make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.RunInTransaction(func(tx core.App) error {
			if _, err := s.Exec(tx, update, "first", order); err != nil {
				return err
			}
			close(inTx)
			// Prepare now waits for this transaction's connection.
			time.Sleep(100 * time.Millisecond)
			_, err := s.Exec(tx, update+" AND `carrier` = 'first'", "second", order)
			return err
		})
	}()
	<-inTx
	go func() { preparing <- s.Prepare(app) }()
	for name, ch := range map[string]chan error{"the transaction": done, "Prepare": preparing} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s still waits after 30 s: Prepare and the transaction wait for each other", name)
		}
	}
	if err := s.Prepare(app); err != nil {
		t.Fatal(err)
	}
	if kept := s.Kept(); kept != 2 {
		t.Errorf("%d statements kept, want the 2 asked for", kept)
	}
	res, err := s.Exec(app, update, "third", order)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("Exec changed %d rows, want 1", n)
	}
	got, err := app.FindRecordById(c.Orders, order)
	if err != nil || got.GetString(c.OrderCarrier) != "third" {
		t.Errorf("carrier %q (%v), want third", got.GetString(c.OrderCarrier), err)
	}
}
