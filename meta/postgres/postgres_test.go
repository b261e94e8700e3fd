package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/metatest"
)

// testDSN is the server the tests use: BERTH_TEST_POSTGRES, which
// scripts/test sets after making sure PostgreSQL runs.
func testDSN(t *testing.T) string {
	dsn := os.Getenv("BERTH_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("BERTH_TEST_POSTGRES is not set (scripts/test sets it and starts PostgreSQL)")
	}
	return dsn
}

// freshDatabase creates an empty database for one test and drops it after.
func freshDatabase(t *testing.T) string {
	dsn := testDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "berth_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	t.Cleanup(func() {
		a, _ := sql.Open("pgx", dsn)
		defer a.Close()
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestMetaStore(t *testing.T) {
	testDSN(t)
	metatest.Run(t, func(t *testing.T) berth.MetaStore {
		s, err := Open(context.Background(), freshDatabase(t), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConcurrentMigrations starts several stores on one empty database at
// once: the advisory lock lets exactly one apply each migration.
func TestConcurrentMigrations(t *testing.T) {
	dsn := freshDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, true)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, _ := sql.Open("pgx", dsn)
	defer db.Close()
	var n int
	db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n)
	if n != 1 {
		t.Fatalf("%d migrations recorded, want 1", n)
	}
}
