package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/metatest"
	"golang.org/x/sys/unix"
)

func TestMetaStore(t *testing.T) {
	metatest.Run(t, func(t *testing.T) berth.MetaStore {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "berth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

// TestManifestCache: lookups that stand apart are answered from memory
// until the store commits. The test changes the file behind the store's
// back, which berth never does, to tell a cached answer from a query.
func TestManifestCache(t *testing.T) {
	ctx := context.Background()
	s, behind := openSeeded(t)
	moveBehind(t, behind, 2)
	if d := latest(t, s); d != digest(1) {
		t.Fatalf("latest read as %s: the lookup was not answered from memory", d)
	}
	if err := s.Update(ctx, func(tx berth.MetaTx) error { return tx.TouchPulled(ctx, "r", digest(1), t0) }); err != nil {
		t.Fatal(err)
	}
	if d := latest(t, s); d != digest(2) {
		t.Fatalf("latest read as %s after a commit, want %s: the cache outlived it", d, digest(2))
	}
	// Inside a transaction, lookups always query.
	moveBehind(t, behind, 1)
	err := s.View(ctx, func(tx berth.MetaTx) error {
		m, err := tx.GetTaggedManifest(ctx, "r", "latest")
		if err == nil && m.Digest != digest(1) {
			t.Errorf("a transaction read latest as %s, want %s", m.Digest, digest(1))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoLockNoCache: where the filesystem cannot lock the file, the store
// opens all the same, and answers every lookup from the database.
func TestNoLockNoCache(t *testing.T) {
	flock = func(int, int) error { return unix.ENOLCK }
	defer func() { flock = unix.Flock }()
	s, behind := openSeeded(t)
	moveBehind(t, behind, 2)
	if d := latest(t, s); d != digest(2) {
		t.Fatalf("latest read as %s, want %s: a store that could not lock its file answered from memory", d, digest(2))
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func digest(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// openSeeded opens a new store holding repository r with two manifests,
// latest on the first and already looked up once, and the same file
// opened apart from the store.
func openSeeded(t *testing.T) (berth.MetaStore, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	seedTwoImages(t, s)
	if d := latest(t, s); d != digest(1) {
		t.Fatalf("latest is %s, want %s", d, digest(1))
	}
	return s, openBehind(t, path)
}

// seedTwoImages creates repository r with two manifests, latest on the first.
func seedTwoImages(t *testing.T, s berth.MetaStore) {
	t.Helper()
	ctx := context.Background()
	err := s.Update(ctx, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, &berth.Repository{Name: "r", CreatedAt: t0, TagMutability: berth.Mutable, EncryptionType: "AES256"}); err != nil {
			return err
		}
		for i := 1; i <= 2; i++ {
			m := &berth.Manifest{Repository: "r", Digest: digest(i), MediaType: "application/vnd.oci.image.manifest.v1+json", Bytes: []byte("{}"), Size: 2, PushedAt: t0}
			if err := tx.PutManifest(ctx, m); err != nil {
				return err
			}
		}
		return tx.PutTag(ctx, "r", "latest", digest(1), t0)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// latest looks up r:latest the way a manifest GET does.
func latest(t *testing.T, s berth.MetaStore) string {
	t.Helper()
	ctx := context.Background()
	var d string
	err := s.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) error {
		m, err := tx.GetTaggedManifest(ctx, "r", "latest")
		if err == nil {
			d = m.Digest
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// openBehind opens the database file apart from the store.
func openBehind(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// moveBehind points latest at manifest i behind the store's back.
func moveBehind(t *testing.T, db *sql.DB, i int) {
	t.Helper()
	if _, err := db.Exec(`UPDATE tags SET digest = ? WHERE name = 'latest'`, digest(i)); err != nil {
		t.Fatal(err)
	}
}

// TestOneProcess: a second Open of the same file fails with a message that
// says what to do, and succeeds once the first store is closed.
func TestOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "in use by another berth process") {
		t.Fatalf("second Open: %v, want in use by another berth process", err)
	}
	s.Close()
	s, err = Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}

// TestConnectionSettings: what every connection is opened with, read back
// from SQLite: durable WAL commits, statement journals in memory, and the
// writer's larger page cache.
func TestConnectionSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	for _, c := range []struct {
		name  string
		cache int
	}{{"writer", writerCacheKiB}, {"reader", readerCacheKiB}} {
		db, err := sql.Open("sqlite", dsn(path, c.cache, ""))
		if err != nil {
			t.Fatal(err)
		}
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "temp_store": "2",
			"foreign_keys": "1", "cache_size": fmt.Sprint(-c.cache)} {
			var got string
			if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
				t.Errorf("%s: PRAGMA %s = %q (%v), want %q", c.name, pragma, got, err, want)
			}
		}
		db.Close()
	}
}
