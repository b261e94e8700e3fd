// Package sqlite is the embedded MetaStore: one SQLite file in WAL mode with
// synchronous=FULL, so a committed transaction survives a crash. Writes go
// through one connection (SQLite has one writer); reads use a pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"strings"

	"github.com/berth-registry/berth/meta/sqlstore"
	_ "modernc.org/sqlite" // the pure-Go driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's.
var Dialect = &sqlstore.Dialect{
	Name:        "sqlite",
	GroupCommit: true,
	// In WAL mode, NORMAL commits without syncing the log; the next FULL
	// commit syncs the log and everything in it.
	NoSync:   "PRAGMA synchronous=NORMAL",
	Sync:     "PRAGMA synchronous=FULL",
	IsUnique: func(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") },
}

func dsn(path, extra string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)", "cache_size(-512)"} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode() + extra
}

// Migrate applies pending migrations to the database file at path.
func Migrate(ctx context.Context, path string) ([]string, error) {
	db, err := sql.Open("sqlite", dsn(path, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return sqlstore.Migrate(ctx, db, Dialect, migrations, "migrations")
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	w, err := sql.Open("sqlite", dsn(path, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	if _, err := sqlstore.Migrate(ctx, w, Dialect, migrations, "migrations"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, "&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Four readers keep two cores busy; each holds a small page cache (the
	// OS caches the file too), which keeps memory low.
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4) // keep them: opening one costs more than a query
	return sqlstore.New(w, r, Dialect), nil
}
