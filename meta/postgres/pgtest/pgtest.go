// Package pgtest gives tests an empty PostgreSQL database of their own on
// the server named by BERTH_TEST_POSTGRES.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// DSN returns BERTH_TEST_POSTGRES, skipping the test when it is unset
// (scripts/test starts PostgreSQL and sets it).
func DSN(t testing.TB) string {
	dsn := os.Getenv("BERTH_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("BERTH_TEST_POSTGRES is not set (scripts/test starts PostgreSQL and sets it)")
	}
	return dsn
}

// FreshDatabase creates an empty database, dropped when the test ends,
// and returns its URL.
func FreshDatabase(t testing.TB) string {
	dsn := DSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "berth_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating a test database on %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
