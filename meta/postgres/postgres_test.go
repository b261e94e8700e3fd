package postgres

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/metatest"
	"github.com/berth-registry/berth/meta/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgconn"
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
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if n != len(files) || n < 2 {
		t.Fatalf("%d migrations recorded, want %d", n, len(files))
	}
}

// TestRacesGiveUp: an Update that keeps losing races runs again until its
// context ends, each attempt reported, then fails with EUnavailable (which
// the doors answer as retryable), keeping the cause for the log.
func TestRacesGiveUp(t *testing.T) {
	s, err := Open(context.Background(), pgtest.FreshDatabase(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var retried, gaveUp int
	s.ObserveRaces(func(ctx context.Context, attempt int, up bool, err error) {
		if up {
			gaveUp++
		} else {
			retried++
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	runs := 0
	lost := &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	err = s.Update(ctx, func(tx berth.MetaTx) error { runs++; return lost })
	if !berth.IsCode(err, berth.EUnavailable) || !errors.Is(err, lost) {
		t.Fatalf("want EUnavailable wrapping the serialization failure, got %v", err)
	}
	if runs < 2 || retried != runs-1 || gaveUp != 1 {
		t.Fatalf("%d runs, %d reported retried, %d gave up", runs, retried, gaveUp)
	}
	// A failure that is no race is returned at once.
	runs = 0
	other := &pgconn.PgError{Code: "22001", Message: "value too long"}
	if err := s.Update(context.Background(), func(tx berth.MetaTx) error { runs++; return other }); !errors.Is(err, other) || runs != 1 {
		t.Fatalf("%d runs, %v", runs, err)
	}
}
