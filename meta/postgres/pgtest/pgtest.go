// Package pgtest gives tests an empty PostgreSQL database of their own on
// the server named by BERTH_TEST_POSTGRES.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
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
	u, drop, err := Create(DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return u
}

// Create makes an empty database, with a random name, on the server of
// dsn, and returns its URL and a function that drops it.
func Create(dsn string) (string, func(), error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "berth_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", nil, fmt.Errorf("creating a database on %s: %w", dsn, err)
	}
	drop := func() {
		a, err := sql.Open("pgx", dsn)
		if err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
