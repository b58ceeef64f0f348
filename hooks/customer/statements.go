package customer

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"shopdash/hooks/records"
)

// statements runs the customer routes' reads with statements prepared
// once per query text and kept, scanned by hand. dbx builds its SQL and
// SQLite compiles it on every call, and dbx scans rows by reflection: a
// third of the CPU of an uncached purchases page (docs/performance.md).
// SQLite still re-plans a kept statement for each binding (the index
// statistics, STAT4, make the values count), so the gain is smaller than
// that: about 12% less CPU per uncached purchases page in the bench. The texts
// are few (one per sort and number of statuses), so the set is bounded.
type statements struct {
	mu     sync.Mutex
	db     *dbx.DB
	byText map[string]*sql.Stmt
}

// read runs a query on the app's reading pool and calls scan for each
// row. Like dbx, it reports the query to the pool's QueryLogFunc (set by
// `serve --dev` and by tests), with its arguments in place.
func (s *statements) read(app core.App, text string, args []any, scan func(*sql.Rows) error) error {
	db, ok := app.ConcurrentDB().(*dbx.DB)
	if !ok {
		return fmt.Errorf("the reading pool is a %T, not a *dbx.DB", app.ConcurrentDB())
	}
	stmt, err := s.prepared(db, text)
	if err != nil {
		return err
	}
	start := time.Now()
	err = scanRows(stmt, args, scan)
	if db.QueryLogFunc != nil {
		db.QueryLogFunc(context.Background(), time.Since(start), records.SQLWithArgs(text, args), nil, err)
	}
	return err
}

func scanRows(stmt *sql.Stmt, args []any, scan func(*sql.Rows) error) error {
	rows, err := stmt.Query(args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// prepared is the statement of the text on db, prepared on first use.
func (s *statements) prepared(db *dbx.DB, text string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != db {
		s.db, s.byText = db, map[string]*sql.Stmt{}
	}
	if stmt := s.byText[text]; stmt != nil {
		return stmt, nil
	}
	stmt, err := db.DB().Prepare(text)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", text, err)
	}
	s.byText[text] = stmt
	return stmt, nil
}
