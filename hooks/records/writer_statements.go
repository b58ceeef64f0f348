package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// WriterStatements runs the lookups of the writer's busiest transactions
// (the Stripe webhook's: its order, its ledger row) through statements
// prepared once on the writer's connection. dbx builds a query's SQL and
// SQLite compiles it on every call, and compiling a select of a wide
// collection such as orders cost more than running it: a quarter of the
// CPU of a webhook event, all of it on the one writer (docs/performance.md).
//
// The writer pool has one connection, which a transaction holds, so a
// statement cannot be prepared from inside one: a lookup whose statement
// is not prepared yet runs as before (compiled for the call) and asks for
// it, and Prepare, called outside any transaction, prepares what was asked
// for. database/sql then reuses the statement on that connection in every
// transaction, and prepares it again by itself should the pool replace
// the connection. The texts come from the collections' fields, so a
// collection changed in /_/ gets new statements, and the set stays small.
type WriterStatements struct {
	mu     sync.Mutex
	db     *sql.DB
	byText map[string]*sql.Stmt
	wanted map[string]bool
}

// Prepare prepares the statements asked for since the last call on app's
// writer pool. It must not be called inside a transaction of that pool.
func (s *WriterStatements) Prepare(app core.App) error {
	db, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return fmt.Errorf("the writer pool is a %T, not a *dbx.DB", app.NonconcurrentDB())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != db.DB() {
		s.db, s.byText = db.DB(), map[string]*sql.Stmt{}
	}
	var errs []error
	for text := range s.wanted {
		stmt, err := s.db.Prepare(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("prepare %q: %w", text, err))
			continue
		}
		s.byText[text] = stmt
	}
	s.wanted = nil
	return errors.Join(errs...)
}

// FindRecordBy is the record of collection whose field is value (never
// the empty value), or nil, read in app's transaction, as
// app.RecordQuery(collection).AndWhere(field = value).Limit(1) reads it.
func (s *WriterStatements) FindRecordBy(app core.App, collection, field, value string) (*core.Record, error) {
	col, err := app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(col.Fields))
	for i, f := range col.Fields {
		names[i] = quoteName(f.GetName())
	}
	text := "SELECT " + strings.Join(names, ", ") + " FROM " + quoteName(col.Name) +
		" WHERE " + quoteName(field) + " = ? AND " + quoteName(field) + " != '' LIMIT 1"
	var record *core.Record
	err = s.query(app, text, []any{value}, func(rows *sql.Rows) error {
		raw := make([]sql.NullString, len(col.Fields))
		dest := make([]any, len(raw))
		for i := range raw {
			dest[i] = &raw[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		record = core.NewRecord(col)
		for i, f := range col.Fields {
			var v any
			if raw[i].Valid {
				v = raw[i].String
			}
			prepared, err := f.PrepareValue(record, v)
			if err != nil {
				return err
			}
			record.SetRaw(f.GetName(), prepared)
		}
		record.Id = record.GetString(core.FieldNameId)
		return record.PostScan()
	})
	if err != nil {
		return nil, fmt.Errorf("find %s by %s: %w", collection, field, err)
	}
	return record, nil
}

// Exists says whether collection holds a row whose field is value, read
// in app's transaction.
func (s *WriterStatements) Exists(app core.App, collection, field, value string) (bool, error) {
	found := false
	text := "SELECT 1 FROM " + quoteName(collection) + " WHERE " + quoteName(field) + " = ? LIMIT 1"
	err := s.query(app, text, []any{value}, func(*sql.Rows) error {
		found = true
		return nil
	})
	return found, err
}

// query runs text in app's transaction, or on the reading pool outside
// one, and calls scan for each row.
func (s *WriterStatements) query(app core.App, text string, args []any, scan func(*sql.Rows) error) error {
	var (
		rows   *sql.Rows
		err    error
		logTo  *dbx.DB
		start  = time.Now()
		runner interface {
			Query(string, ...any) (*sql.Rows, error)
		}
	)
	switch db := app.NonconcurrentDB().(type) {
	case *dbx.Tx:
		base, ok := db.Builder.(interface{ Executor() dbx.Executor })
		tx, isTx := base.Executor().(*sql.Tx)
		if !ok || !isTx {
			return fmt.Errorf("the transaction runs on a %T, not a *sql.Tx", base.Executor())
		}
		logTo = db.Builder.(interface{ DB() *dbx.DB }).DB()
		runner = tx
		if stmt := s.kept(logTo.DB(), text); stmt != nil {
			rows, err = tx.Stmt(stmt).Query(args...)
		}
	default:
		// Outside a transaction a read goes to the reading pool, as
		// PocketBase's record queries do.
		read, ok := app.ConcurrentDB().(*dbx.DB)
		if !ok {
			return fmt.Errorf("the reading pool is a %T, not a *dbx.DB", app.ConcurrentDB())
		}
		logTo, runner = read, read.DB()
	}
	if rows == nil && err == nil {
		rows, err = runner.Query(text, args...)
	}
	if err == nil {
		err = scanAll(rows, scan)
	}
	if logTo.QueryLogFunc != nil {
		logTo.QueryLogFunc(context.Background(), time.Since(start), SQLWithArgs(text, args), nil, err)
	}
	return err
}

// kept is the statement prepared for text on db, or nil, having asked
// for it.
func (s *WriterStatements) kept(db *sql.DB, text string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == db {
		if stmt := s.byText[text]; stmt != nil {
			return stmt
		}
	}
	if s.wanted == nil {
		s.wanted = map[string]bool{}
	}
	s.wanted[text] = true
	return nil
}

func scanAll(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// quoteName quotes an identifier as dbx does for SQLite, so the query log
// reads the same. Collection and field names are PocketBase's (letters,
// digits and underscores), so this only keeps a name from being read as a
// keyword.
func quoteName(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// SQLWithArgs puts the arguments in place of the text's placeholders,
// for the query log: what dbx logs of a query it runs.
func SQLWithArgs(text string, args []any) string {
	var b strings.Builder
	for _, arg := range args {
		before, after, found := strings.Cut(text, "?")
		if !found {
			break
		}
		b.WriteString(before)
		switch v := arg.(type) {
		case string:
			b.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			fmt.Fprintf(&b, "'%v'", v)
		}
		text = after
	}
	b.WriteString(text)
	return b.String()
}
