package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth"
	_ "modernc.org/sqlite"
)

// TestGroupCommitSync: a batch skips syncing only when every Update in it
// deferred its sync, and the writer is back to syncing for the next batch
// that did not.
func TestGroupCommitSync(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	s := New(db, db, &Dialect{Name: "sqlite", GroupCommit: true, NoSync: "PRAGMA synchronous=NORMAL", Sync: "PRAGMA synchronous=FULL"})
	defer s.Close()
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
