package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth"
	_ "modernc.org/sqlite"
)

// TestGroupCommitSync: a batch skips syncing only when every Update in it
// deferred its sync, and the writer is back to syncing for the next batch
// that did not.
func TestGroupCommitSync(t *testing.T) {
	s, db := groupStore(t)
	ctx := context.Background()
	lazy := berth.DeferSync(ctx)
	insert := func(c context.Context) *update {
		return &update{ctx: c, done: make(chan error, 1), fn: func(tx berth.MetaTx) error {
			_, err := tx.(*Tx).exec(c, "INSERT INTO t VALUES (1)")
			return err
		}}
	}
	for i, tc := range []struct {
		batch []context.Context
		want  int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{[]context.Context{ctx}, 2},
		{[]context.Context{lazy}, 1},
		{[]context.Context{lazy, lazy}, 1},
		{[]context.Context{lazy, ctx, lazy}, 2},
		{[]context.Context{lazy}, 1},
		{[]context.Context{ctx}, 2},
	} {
		var batch []*update
		for _, c := range tc.batch {
			batch = append(batch, insert(c))
		}
		s.commitBatch(batch)
		for _, u := range batch {
			if err := <-u.done; err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
		}
		var mode int
		if err := db.QueryRow("PRAGMA synchronous").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != tc.want {
			t.Errorf("batch %d: synchronous=%d after it, want %d", i, mode, tc.want)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 9 {
		t.Fatalf("%d rows (%v), want 9", n, err)
	}
}

// groupStore is a group-committing store on a new SQLite file with one
// table, t (v INTEGER).
func groupStore(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	s := New(db, db, &Dialect{Name: "sqlite", GroupCommit: true, NoSync: "PRAGMA synchronous=NORMAL", Sync: "PRAGMA synchronous=FULL"})
	t.Cleanup(func() { s.Close() })
	return s, db
}

// TestGroupCommitPanic: an Update whose function panics fails alone, with
// the panic raised on its caller's goroutine; the Updates batched with it
// commit, and the store goes on committing.
func TestGroupCommitPanic(t *testing.T) {
	s, db := groupStore(t)
	ctx := context.Background()
	insert := func(v int) func(berth.MetaTx) error {
		return func(tx berth.MetaTx) error {
			_, err := tx.(*Tx).exec(ctx, "INSERT INTO t VALUES (?)", v)
			return err
		}
	}
	update := func(fn func(berth.MetaTx) error) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return s.Update(ctx, fn)
	}
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 5 {
					errs[i] = update(func(tx berth.MetaTx) error {
						if err := insert(-1)(tx); err != nil {
							return err
						}
						panic("boom")
					})
					return
				}
				errs[i] = update(insert(i))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			switch {
			case i == 5 && (err == nil || !strings.Contains(err.Error(), "panic: boom")):
				t.Fatalf("round %d: the panicking Update returned %v, want its panic", round, err)
			case i != 5 && err != nil:
				t.Fatalf("round %d: Update %d: %v", round, i, err)
			}
		}
	}
	var n, bad int
	if err := db.QueryRow("SELECT count(*), count(CASE WHEN v < 0 THEN 1 END) FROM t").Scan(&n, &bad); err != nil {
		t.Fatal(err)
	}
	if n != 20*15 || bad != 0 {
		t.Fatalf("%d rows, %d of them from the panicking Update; want %d and 0", n, bad, 20*15)
	}
}

// TestGroupCommitClose: Close waits for the batch being committed, and an
// Update after Close fails instead of hanging.
func TestGroupCommitClose(t *testing.T) {
	s, db := groupStore(t)
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	result := make(chan error, 1)
	go func() {
		result <- s.Update(ctx, func(tx berth.MetaTx) error {
			close(started)
			<-release
			_, err := tx.(*Tx).exec(ctx, "INSERT INTO t VALUES (1)")
			return err
		})
	}()
	<-started
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	time.Sleep(50 * time.Millisecond) // time enough for a Close that does not wait to return
	select {
	case <-closed:
		t.Fatal("Close returned while an Update was committing")
	default:
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("the Update in flight at Close: %v", err)
	}
	<-closed
	if err := s.Update(ctx, func(berth.MetaTx) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("Update after Close: %v, want errClosed", err)
	}
	_ = db
}
