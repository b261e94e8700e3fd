package postgres

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/metatest"
	"github.com/berth-registry/berth/meta/postgres/pgtest"
)

func TestMetaStore(t *testing.T) {
	pgtest.DSN(t)
	metatest.Run(t, func(t *testing.T) berth.MetaStore {
		s, err := Open(context.Background(), pgtest.FreshDatabase(t), true)
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
	dsn := pgtest.FreshDatabase(t)
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
