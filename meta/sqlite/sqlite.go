// Package sqlite is the embedded MetaStore: one SQLite file in WAL mode with
// synchronous=FULL, so a committed transaction survives a crash. Writes go
// through one connection (SQLite has one writer); reads use a pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/berth-registry/berth/meta/sqlstore"
	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite" // the pure-Go driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's.
var Dialect = &sqlstore.Dialect{
	Name:        "sqlite",
	GroupCommit: true,
	SoleWriter:  true,
	// In WAL mode, NORMAL commits without syncing the log; the next FULL
	// commit syncs the log and everything in it.
	NoSync:   "PRAGMA synchronous=NORMAL",
	Sync:     "PRAGMA synchronous=FULL",
	IsUnique: func(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") },
	// SQLITE_FULL, or the file system's own refusal underneath.
	IsFull: func(err error) bool {
		return err != nil && (strings.Contains(err.Error(), "database or disk is full") || errors.Is(err, syscall.ENOSPC))
	},
}

// dsn opens the file at path with a page cache of cacheKiB. Statement
// journals (each Update of a group commit is a savepoint) stay in memory:
// they only undo a failed Update inside its transaction, never survive
// one, and written to a temporary file they cost a write per page.
func dsn(path string, cacheKiB int, extra string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)",
		fmt.Sprintf("cache_size(-%d)", cacheKiB), "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode() + extra
}

// Page caches: the writer's holds the pages every commit touches (the
// indexes' upper levels, the tables' last pages), so that a commit reads
// them from memory, not with a pread each; a reader's stays small (the OS
// caches the file too), which keeps memory low.
const writerCacheKiB, readerCacheKiB = 2 << 10, 512

// Migrate applies pending migrations to the database file at path.
func Migrate(ctx context.Context, path string) ([]string, error) {
	db, err := sql.Open("sqlite", dsn(path, readerCacheKiB, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return sqlstore.Migrate(ctx, db, Dialect, migrations, "migrations")
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date. One process at a time may have it open: the store
// answers lookups from memory between its own commits (SoleWriter).
// On a filesystem that cannot lock files, the store opens without the
// lock and without answering lookups from memory.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	d := Dialect
	if lock == nil {
		unlocked := *Dialect
		unlocked.SoleWriter = false
		d = &unlocked
	}
	s, err := open(ctx, path, d)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	if lock != nil {
		s.CloseWith(lock)
	}
	return s, nil
}

// flock is unix.Flock; tests replace it to fail.
var flock = unix.Flock

// lockFile takes an exclusive lock on the file at path, which the kernel
// drops when the process ends, however it ends. It returns no file and no
// error where the filesystem has no such locks.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		switch {
		case errors.Is(err, unix.EWOULDBLOCK):
			return nil, fmt.Errorf("sqlite: %s is in use by another berth process (it holds %s); stop that one, or give this one a data directory of its own", strings.TrimSuffix(path, ".lock"), path)
		case errors.Is(err, unix.ENOLCK), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
			return nil, nil
		}
		return nil, fmt.Errorf("sqlite: locking %s: %w", path, err)
	}
	return f, nil
}

func open(ctx context.Context, path string, d *sqlstore.Dialect) (*sqlstore.Store, error) {
	w, err := sql.Open("sqlite", dsn(path, writerCacheKiB, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	if _, err := sqlstore.Migrate(ctx, w, d, migrations, "migrations"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, readerCacheKiB, "&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Four readers keep two cores busy; each holds a small page cache (the
	// OS caches the file too), which keeps memory low.
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4) // keep them: opening one costs more than a query
	return sqlstore.New(w, r, d), nil
}
