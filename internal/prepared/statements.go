// Package prepared runs the shop's hottest reads through SQL statements
// prepared once and kept, on PocketBase's reading pool and on its writer.
package prepared

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

// Statements runs the shop's hottest reads through statements prepared
// once per query text and kept, scanned by hand: the Stripe webhook's
// lookups in its transaction, the customer routes' reads, the sign-in's
// record. dbx builds a query's SQL and SQLite compiles it on every call,
// and compiling a select of a wide collection such as orders costs more
// than running it (docs/performance.md).
//
// Outside a transaction a query runs on the reading pool, whose statements
// are prepared on first use. The writer pool has one connection, which a
// transaction holds, so a statement cannot be prepared from inside one: a
// query in a transaction whose statement is not prepared yet is compiled
// for the call and asks for it, and Prepare, called outside any
// transaction, prepares what was asked for. database/sql reuses a kept
// statement on each connection of its pool, and prepares it again by
// itself on a connection the pool opened since.
//
// The texts come from the collections' fields and the routes' few query
// shapes; past maxKept per pool a new text is compiled for each call
// instead of kept, so a caller that builds texts from input cannot grow
// the set without bound.
type Statements struct {
	mu     sync.Mutex
	reader kept
	writer kept
	wanted map[string]bool // by the writer's transactions
}

// maxKept bounds the statements kept per pool.
const maxKept = 256

// kept is the statements prepared on one pool.
type kept struct {
	db     *sql.DB
	byText map[string]*sql.Stmt
}

func (k *kept) on(db *sql.DB) {
	if k.db != db {
		k.db, k.byText = db, map[string]*sql.Stmt{}
	}
}

// Prepare prepares on app's writer pool the statements its transactions
// asked for since the last call. It must not be called inside a
// transaction of that pool.
func (s *Statements) Prepare(app core.App) error {
	db, ok := app.NonconcurrentDB().(*dbx.DB)
	if !ok {
		return fmt.Errorf("the writer pool is a %T, not a *dbx.DB", app.NonconcurrentDB())
	}
	s.mu.Lock()
	s.writer.on(db.DB())
	pool, wanted, room := s.writer.db, s.wanted, maxKept-len(s.writer.byText)
	s.wanted = nil
	s.mu.Unlock()
	// Without the lock: preparing waits for the writer's one connection,
	// which another goroutine's transaction may hold while it asks for a
	// statement of its own.
	var errs []error
	ready := map[string]*sql.Stmt{}
	for text := range wanted {
		if len(ready) >= room {
			break
		}
		stmt, err := pool.Prepare(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("prepare %q: %w", text, err))
			continue
		}
		ready[text] = stmt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for text, stmt := range ready {
		if s.writer.db != pool || s.writer.byText[text] != nil {
			stmt.Close() // prepared meanwhile, or for a pool since replaced
			continue
		}
		s.writer.byText[text] = stmt
	}
	return errors.Join(errs...)
}

// FindRecords reads the records of collection that match where (SQL over
// its columns, with ? for args), in orderBy's order (SQL, or empty), at
// most limit of them (0: all), as PocketBase's record queries read them.
// Each name in where and orderBy must be one of the collection's fields.
func (s *Statements) FindRecords(app core.App, collection, where, orderBy string, limit int, args ...any) ([]*core.Record, error) {
	var found []*core.Record
	err := s.scanFields(app, collection, where, orderBy, limit, args, func(col *core.Collection, values []any) error {
		record := core.NewRecord(col)
		for i, f := range col.Fields {
			record.SetRaw(f.GetName(), values[i])
		}
		record.Id = record.GetString(core.FieldNameId)
		found = append(found, record)
		return record.PostScan()
	})
	return found, err
}

// FindPublic reads what FindRecords reads as each record's PublicExport
// would give it (the visible fields, collectionId and collectionName),
// without building the records: for answers that only show them. It is
// not for auth collections, whose export hides more.
func (s *Statements) FindPublic(app core.App, collection, where, orderBy string, limit int, args ...any) ([]map[string]any, error) {
	var found []map[string]any
	err := s.scanFields(app, collection, where, orderBy, limit, args, func(col *core.Collection, values []any) error {
		if col.IsAuth() {
			return fmt.Errorf("%s is an auth collection: read its records with FindRecords", col.Name)
		}
		export := make(map[string]any, len(col.Fields)+2)
		for i, f := range col.Fields {
			if !f.GetHidden() {
				export[f.GetName()] = values[i]
			}
		}
		export[core.FieldNameCollectionId] = col.Id
		export[core.FieldNameCollectionName] = col.Name
		found = append(found, export)
		return nil
	})
	return found, err
}

// scanFields runs the select of FindRecords and calls use with each row's
// values, one per field of the collection, as the field prepares them.
func (s *Statements) scanFields(app core.App, collection, where, orderBy string, limit int, args []any,
	use func(col *core.Collection, values []any) error) error {
	col, err := app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		return err
	}
	names := make([]string, len(col.Fields))
	for i, f := range col.Fields {
		names[i] = QuoteName(f.GetName())
	}
	text := "SELECT " + strings.Join(names, ", ") + " FROM " + QuoteName(col.Name) + " WHERE " + where
	if orderBy != "" {
		text += " ORDER BY " + orderBy
	}
	if limit > 0 {
		// A number in the text, not a parameter: SQLite walks an index in
		// the ORDER BY's order and stops early only for a LIMIT it knows.
		text += " LIMIT " + strconv.Itoa(limit)
	}
	raw := make([]sql.NullString, len(col.Fields))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	blank := core.NewRecord(col) // PrepareValue's record; the shop's fields do not read it
	err = s.Query(app, text, args, func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		values := make([]any, len(col.Fields))
		for i, f := range col.Fields {
			var v any
			if raw[i].Valid {
				v = raw[i].String
			}
			prepared, err := f.PrepareValue(blank, v)
			if err != nil {
				return err
			}
			values[i] = prepared
		}
		return use(col, values)
	})
	if err != nil {
		return fmt.Errorf("find %s: %w", collection, err)
	}
	return nil
}

// FindRecordBy is the record of collection whose field is value (never
// the empty value), or nil.
func (s *Statements) FindRecordBy(app core.App, collection, field, value string) (*core.Record, error) {
	name := QuoteName(field)
	found, err := s.FindRecords(app, collection, name+" = ? AND "+name+" != ''", "", 1, value)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// Exists says whether collection holds a row whose field is value.
func (s *Statements) Exists(app core.App, collection, field, value string) (bool, error) {
	found := false
	text := "SELECT 1 FROM " + QuoteName(collection) + " WHERE " + QuoteName(field) + " = ? LIMIT 1"
	err := s.Query(app, text, []any{value}, func(*sql.Rows) error {
		found = true
		return nil
	})
	return found, err
}

// Query runs text with args in app's transaction, or on the reading pool
// outside one, and calls scan for each row. Like dbx, it reports the
// query to the pool's QueryLogFunc (set by `serve --dev` and by tests),
// with its arguments in place.
func (s *Statements) Query(app core.App, text string, args []any, scan func(*sql.Rows) error) error {
	var (
		rows  *sql.Rows
		err   error
		logTo *dbx.DB
		start = time.Now()
	)
	switch db := app.NonconcurrentDB().(type) {
	case *dbx.Tx:
		var tx *sql.Tx
		if tx, logTo, err = sqlTx(db); err != nil {
			return err
		}
		if stmt := s.keptForWriter(logTo.DB(), text); stmt != nil {
			rows, err = tx.Stmt(stmt).Query(args...)
		} else {
			rows, err = tx.Query(text, args...)
		}
	default:
		read, ok := app.ConcurrentDB().(*dbx.DB)
		if !ok {
			return fmt.Errorf("the reading pool is a %T, not a *dbx.DB", app.ConcurrentDB())
		}
		logTo = read
		var stmt *sql.Stmt
		if stmt, err = s.keptForReader(read.DB(), text); err == nil {
			if stmt != nil {
				rows, err = stmt.Query(args...)
			} else {
				rows, err = read.DB().Query(text, args...)
			}
		}
	}
	if err == nil {
		err = scanAll(rows, scan)
	}
	if logTo.QueryLogFunc != nil {
		logTo.QueryLogFunc(context.Background(), time.Since(start), SQLWithArgs(text, args), nil, err)
	}
	return err
}

// Exec runs the statement text (an INSERT, UPDATE or DELETE) with args
// in app's transaction, or on the writer pool outside one, as a kept
// statement once Prepare has prepared it. Like dbx, it reports the
// statement to the pool's ExecLogFunc.
func (s *Statements) Exec(app core.App, text string, args ...any) (sql.Result, error) {
	var (
		result sql.Result
		err    error
		logTo  *dbx.DB
		start  = time.Now()
	)
	switch db := app.NonconcurrentDB().(type) {
	case *dbx.Tx:
		var tx *sql.Tx
		if tx, logTo, err = sqlTx(db); err != nil {
			return nil, err
		}
		if stmt := s.keptForWriter(logTo.DB(), text); stmt != nil {
			result, err = tx.Stmt(stmt).Exec(args...)
		} else {
			result, err = tx.Exec(text, args...)
		}
	case *dbx.DB:
		logTo = db
		if stmt := s.keptForWriter(db.DB(), text); stmt != nil {
			result, err = stmt.Exec(args...)
		} else {
			result, err = db.DB().Exec(text, args...)
		}
	default:
		return nil, fmt.Errorf("the writer pool is a %T, not a *dbx.DB", db)
	}
	if logTo.ExecLogFunc != nil {
		logTo.ExecLogFunc(context.Background(), time.Since(start), SQLWithArgs(text, args), result, err)
	}
	return result, err
}

// sqlTx is the database/sql transaction under a dbx one, and its pool.
func sqlTx(db *dbx.Tx) (*sql.Tx, *dbx.DB, error) {
	base, ok := db.Builder.(interface {
		Executor() dbx.Executor
		DB() *dbx.DB
	})
	if !ok {
		return nil, nil, fmt.Errorf("the transaction's builder is a %T", db.Builder)
	}
	tx, ok := base.Executor().(*sql.Tx)
	if !ok {
		return nil, nil, fmt.Errorf("the transaction runs on a %T, not a *sql.Tx", base.Executor())
	}
	return tx, base.DB(), nil
}

// keptForWriter is the statement prepared for text on the writer pool db,
// or nil, having asked for it.
func (s *Statements) keptForWriter(db *sql.DB, text string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writer.db == db {
		if stmt := s.writer.byText[text]; stmt != nil {
			return stmt
		}
	}
	if s.wanted == nil {
		s.wanted = map[string]bool{}
	}
	if len(s.wanted) < maxKept {
		s.wanted[text] = true
	}
	return nil
}

// keptForReader is the statement of text on the reading pool db,
// prepared now if it was not, or nil once the pool keeps maxKept.
func (s *Statements) keptForReader(db *sql.DB, text string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reader.on(db)
	if stmt := s.reader.byText[text]; stmt != nil {
		return stmt, nil
	}
	if len(s.reader.byText) >= maxKept {
		return nil, nil
	}
	stmt, err := db.Prepare(text)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", text, err)
	}
	s.reader.byText[text] = stmt
	return stmt, nil
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

// QuoteName quotes an identifier as dbx does for SQLite, so the query log
// reads the same. Collection and field names are PocketBase's (letters,
// digits and underscores), so this only keeps a name from being read as a
// keyword.
func QuoteName(name string) string {
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
