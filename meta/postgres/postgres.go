// Package postgres is the scale-out MetaStore on PostgreSQL (through pgx),
// shared by any number of berth replicas. Writes run at READ COMMITTED and
// lock the rows the registry's rules read, so rules such as tag
// immutability hold across replicas; a write that loses a race runs again.
// Migrations apply under an advisory lock.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/berth-registry/berth/meta/sqlstore"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's.
var Dialect = &sqlstore.Dialect{
	Name:     "postgres",
	Numbered: true,
	IsUnique: func(err error) bool { return pgCode(err) == "23505" },
	// Writes run at READ COMMITTED and lock the rows a rule reads (see
	// sqlstore.Dialect.RowLocks). At SERIALIZABLE, concurrent pushes into
	// one repository failed each other on the index pages they share, so
	// often that ten attempts were not always enough.
	Isolation: sql.LevelReadCommitted,
	RowLocks:  true,
	// A serialization failure or deadlock, or a foreign key whose row a
	// concurrent transaction deleted after this one read it.
	Raced: func(err error) bool {
		switch pgCode(err) {
		case "40001", "40P01", "23503":
			return true
		}
		return false
	},
	// Commits in order: a later durable commit flushes this one too.
	NoSyncInTx: "SET LOCAL synchronous_commit = off",
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// migrationLock is the advisory lock key migrators hold ("berth" in ASCII).
const migrationLock = 0x6265727468

// Open connects to the database at dsn (a postgres:// URL) and, unless
// migrate is false, brings its schema up to date first.
func Open(ctx context.Context, dsn string, migrate bool) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	if migrate {
		if _, err := Migrate(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	return sqlstore.New(db, db, Dialect), nil
}

// Migrate applies pending migrations while holding the advisory lock, so
// replicas starting together apply each migration once.
func Migrate(ctx context.Context, db *sql.DB) ([]string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("postgres: taking the migration lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	applied, err := sqlstore.Migrate(ctx, db, Dialect, migrations, "migrations")
	if err != nil {
		return applied, fmt.Errorf("postgres: %w", err)
	}
	return applied, nil
}

// MigrateURL connects to dsn and applies pending migrations.
func MigrateURL(ctx context.Context, dsn string) ([]string, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	return Migrate(ctx, db)
}
