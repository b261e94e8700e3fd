// Package backup takes, restores and checks backups of the embedded
// default (a SQLite file and a blob directory) while berth serves: the
// metadata is snapshotted first (SQLite's VACUUM INTO, a consistent read
// beside the writer), then every blob the snapshot names is copied, so a
// backup is complete by construction; blobs already in the destination are
// skipped. Verify re-reads any data directory or backup and reports what is
// wrong, with counts.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	_ "modernc.org/sqlite" // the pure-Go driver
)

// The files of a data directory a backup holds (the blobs are copied by
// digest, the rest whole).
const (
	dbFile    = "berth.db"
	blobDir   = "blobs"
	credsFile = "credentials.json"
	tlsDir    = "tls"
)

// Report is what a backup or a verification found.
type Report struct {
	Blobs, Copied, Skipped int   // blobs named; copied; already there
	Bytes                  int64 // bytes copied (or read, verifying)
	Images, Tags           int
	Problems               []string
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// openRO opens a SQLite file for reading beside a running writer.
func openRO(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("backup: no metadata at %s: %w", path, err)
	}
	return sql.Open("sqlite", "file:"+url.PathEscape(path)+"?mode=ro&_pragma=busy_timeout(10000)")
}

// object is a stored blob the metadata names: its digest and object key.
type object struct{ digest, key string }

// objects lists the stored blobs the metadata at db names.
func objects(ctx context.Context, db *sql.DB) ([]object, error) {
	rows, err := db.QueryContext(ctx, `SELECT digest, object_key FROM blob_objects ORDER BY digest`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.digest, &o.key); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Backup writes a backup of the data directory dataDir into dest: a
// directory (created if missing) or an S3 prefix (s3://bucket/prefix?…,
// as --blobs takes), while berth may serve from dataDir. progress, if not
// nil, gets a line now and then. dataDir may be a backup too (Restore).
func Backup(ctx context.Context, dataDir, dest string, progress io.Writer) (*Report, error) {
	src, err := openPlace(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	dst, err := openPlace(ctx, dest)
	if err != nil {
		return nil, err
	}
	// The snapshot is made beside a local destination (so the last step
	// is a rename on one file system), in a temporary directory otherwise.
	work := filepath.Join(dst.dir, ".backup")
	if dst.dir == "" {
		if work, err = os.MkdirTemp("", "berth-backup"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(work, 0o750); err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	tmp := filepath.Join(work, dbFile)
	if src.dir != "" {
		// The snapshot first: what it names was durable before it was taken.
		db, err := openRO(filepath.Join(src.dir, dbFile))
		if err != nil {
			return nil, err
		}
		_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmp)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("backup: snapshotting the metadata: %w", err)
		}
	} else if err := src.fetch(ctx, dbFile, tmp); err != nil {
		return nil, fmt.Errorf("backup: fetching the snapshot of %s: %w", src.name, err)
	}
	// Opened to write: keys the destination gives anew are recorded there.
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(tmp)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ds, err := objects(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("backup: reading the snapshot: %w", err)
	}
	r := &Report{Blobs: len(ds)}
	last := time.Now()
	for i, d := range ds {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		key, n, copied, err := copyBlob(ctx, src.blobs, dst.blobs, d)
		if err != nil {
			return r, fmt.Errorf("backup: blob %s: %w", d.digest, err)
		}
		if key != d.key {
			if _, err := db.ExecContext(ctx, `UPDATE blob_objects SET object_key = ? WHERE digest = ?`, key, d.digest); err != nil {
				return r, fmt.Errorf("backup: recording blob %s: %w", d.digest, err)
			}
		}
		if copied {
			r.Copied++
			r.Bytes += n
		} else {
			r.Skipped++
		}
		if progress != nil && time.Since(last) > time.Second {
			fmt.Fprintf(progress, "backup: %d of %d blobs, %d MiB copied\n", i+1, len(ds), r.Bytes>>20)
			last = time.Now()
		}
	}
	for _, f := range []string{credsFile, filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")} {
		local := filepath.Join(work, "files", f)
		if err := src.fetchOptional(ctx, f, local); err != nil {
			return r, err
		}
		if _, err := os.Stat(local); err != nil {
			continue
		}
		if err := dst.store(ctx, f, local); err != nil {
			return r, err
		}
	}
	// Last, the snapshot takes its place: a backup interrupted before this
	// leaves the previous snapshot, whose blobs are all there.
	db.Close()
	return r, dst.store(ctx, dbFile, tmp)
}

// legacyUpload is the upload id under which a blob stored before object
// keys had generations (its key is its digest) is copied: the same key in
// every backup, so that it is copied once.
const legacyUpload = "legacy"

// copyBlob copies one blob through the stores' own calls, checking its
// digest on the way, and returns its key in the destination: the same key,
// as the upload id the key names is the one committed. A blob the
// destination holds is skipped.
func copyBlob(ctx context.Context, from, to berth.BlobStore, o object) (string, int64, bool, error) {
	size, err := from.Stat(ctx, o.key)
	if err != nil {
		return "", 0, false, err
	}
	_, id := berth.ObjectKeyUpload(o.key)
	if id == "" {
		id = legacyUpload
	}
	key := berth.ObjectKey(o.digest, id)
	if n, err := to.Stat(ctx, key); err == nil && n == size {
		return key, 0, false, nil
	}
	rc, err := from.Open(ctx, o.key)
	if err != nil {
		return "", 0, false, err
	}
	defer rc.Close()
	h := sha256.New()
	u := &berth.Upload{ID: id}
	n, err := to.WriteUpload(ctx, u, 0, io.TeeReader(rc, h))
	if err != nil {
		to.DeleteUpload(ctx, u)
		return "", n, false, err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); strings.HasPrefix(o.digest, "sha256:") && got != o.digest {
		to.DeleteUpload(ctx, u)
		return "", n, false, fmt.Errorf("its bytes hash to %s: the source is damaged", got)
	}
	key, err = to.CommitUpload(ctx, u, o.digest, n)
	return key, n, true, err
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	st, _ := os.Stat(src)
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, b, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// Restore brings a backup into dataDir, which must be empty or missing.
func Restore(ctx context.Context, backupDir, dataDir string) (*Report, error) {
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("restore: %s is not empty; restore into an empty data directory", dataDir)
	}
	// The same walk as a backup: the backup is a data directory too.
	r, err := Backup(ctx, backupDir, dataDir, nil)
	if err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	return r, nil
}

// Verify checks a data directory or a backup of the embedded default, a
// local one or one in S3.
func Verify(ctx context.Context, dir string, progress io.Writer) (*Report, error) {
	p, err := openPlace(ctx, dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(p.dir, dbFile)
	if p.dir == "" {
		work, err := os.MkdirTemp("", "berth-verify")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
		path = filepath.Join(work, dbFile)
		if err := p.fetch(ctx, dbFile, path); err != nil {
			return nil, fmt.Errorf("verify: %s: %w", dir, err)
		}
	}
	db, err := openRO(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r, err := VerifyStores(ctx, db, p.blobs, progress)
	if err != nil {
		return nil, fmt.Errorf("verify: %s: %w", dir, err)
	}
	return r, nil
}

// VerifyStores checks berth's metadata in db (SQLite or PostgreSQL: the
// tables are the same) against the blob store: every blob the metadata
// names is present and hashes to its digest, every blob a manifest
// references is one its repository holds, and every tag names a manifest.
func VerifyStores(ctx context.Context, db *sql.DB, store berth.BlobStore, progress io.Writer) (*Report, error) {
	r := &Report{}
	count := func(q string, dst *int) error { return db.QueryRowContext(ctx, q).Scan(dst) }
	if err := count(`SELECT count(*) FROM manifests`, &r.Images); err != nil {
		return nil, fmt.Errorf("not berth's metadata: %w", err)
	}
	count(`SELECT count(*) FROM tags`, &r.Tags)
	var n int
	if count(`SELECT count(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = t.repo_id AND m.digest = t.digest)`, &n) == nil && n > 0 {
		r.problem("%d tags name a manifest that is not there", n)
	}
	if count(`SELECT count(*) FROM manifest_refs x WHERE x.kind = 0 AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.repo_id = x.repo_id AND b.digest = x.ref)`, &n) == nil && n > 0 {
		r.problem("%d manifest references name a blob the repository does not hold", n)
	}
	if count(`SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM blob_objects o WHERE o.digest = b.digest)`, &n) == nil && n > 0 {
		r.problem("%d repository blobs have no stored object recorded", n)
	}
	objs, err := objects(ctx, db)
	if err != nil {
		return nil, err
	}
	r.Blobs = len(objs)
	last := time.Now()
	for i, o := range objs {
		d := o.digest
		rc, err := store.Open(ctx, o.key)
		if err != nil {
			r.problem("blob %s (object %s) is missing", d, o.key)
			continue
		}
		h := sha256.New()
		nb, err := io.Copy(h, rc)
		rc.Close()
		r.Bytes += nb
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); err != nil || (strings.HasPrefix(d, "sha256:") && got != d) {
			r.problem("blob %s is damaged: its bytes hash to %s", d, got)
		}
		if progress != nil && time.Since(last) > time.Second {
			fmt.Fprintf(progress, "verify: %d of %d blobs\n", i+1, len(objs))
			last = time.Now()
		}
	}
	return r, nil
}
