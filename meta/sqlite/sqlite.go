// Package sqlite is the embedded MetaStore: one SQLite file in WAL mode with
// synchronous=FULL, so a committed transaction survives a crash. Writes go
// through one connection (SQLite has one writer); reads use a pool.
package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/berth-registry/berth"
	_ "modernc.org/sqlite" // the pure-Go driver
)

//go:embed schema.sql
var schema string

var _ berth.MetaStore = (*Store)(nil)

// Store is a SQLite MetaStore.
type Store struct {
	writer *sql.DB
	reader *sql.DB
}

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)"} {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode() + extra
	}
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: creating schema in %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	return &Store{writer: w, reader: r}, nil
}

// Close implements berth.MetaStore.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Ping implements berth.MetaStore.
func (s *Store) Ping(ctx context.Context) error { return s.reader.PingContext(ctx) }

// View implements berth.MetaStore.
func (s *Store) View(ctx context.Context, fn func(berth.MetaTx) error) error {
	return s.run(ctx, s.reader, true, fn)
}

// Update implements berth.MetaStore.
func (s *Store) Update(ctx context.Context, fn func(berth.MetaTx) error) error {
	return s.run(ctx, s.writer, false, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(berth.MetaTx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(&Tx{tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Tx is one SQLite transaction.
type Tx struct {
	tx *sql.Tx
}

var _ berth.MetaTx = (*Tx)(nil)

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &berth.Error{Code: berth.ENotFound, Message: fmt.Sprintf(format, args...)}
	}
	return err
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// repoID returns the row id of a repository; ENotFound.
func (t *Tx) repoID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM repositories WHERE name = ?`, name).Scan(&id)
	return id, notFound(err, "repository %s not found", name)
}
