package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/berth-registry/berth"
)

// The registry-wide record of stored blobs and the queues of garbage
// collection (berth.GCTx). Review times are Unix nanoseconds, NULL for none.

func toNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func reviewTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

const blobObjectColumns = `o.digest, o.object_key, o.size, o.created_at, o.review_after`

func scanBlobObject(row scanner) (*berth.BlobObject, error) {
	var o berth.BlobObject
	var created int64
	var review sql.NullInt64
	if err := row.Scan(&o.Digest, &o.Key, &o.Size, &created, &review); err != nil {
		return nil, err
	}
	o.CreatedAt, o.Review = fromNano(created), reviewTime(review)
	return &o, nil
}

// GetBlobObject implements berth.GCTx.
func (t *Tx) GetBlobObject(ctx context.Context, digest string) (*berth.BlobObject, error) {
	o, err := scanBlobObject(t.queryRow(ctx, `SELECT `+blobObjectColumns+` FROM blob_objects o WHERE o.digest = ?`+t.lock(lockShare, "o"), digest))
	if err != nil {
		return nil, t.readAbsent(notFound(err, "blob %s not found", digest), 'b', "", digest)
	}
	return o, nil
}

// LockBlobObject implements berth.GCTx: the record first, then the links,
// the order every Update that takes both keeps.
func (t *Tx) LockBlobObject(ctx context.Context, digest string) (*berth.BlobObject, error) {
	o, err := scanBlobObject(t.queryRow(ctx, `SELECT `+blobObjectColumns+` FROM blob_objects o WHERE o.digest = ?`+t.lock(lockUpdate, "o"), digest))
	if err != nil {
		return nil, notFound(err, "blob %s not found", digest)
	}
	if t.write && t.d.RowLocks {
		if _, err := t.strings(ctx, `SELECT digest FROM blobs WHERE digest = ? ORDER BY repo_id FOR UPDATE`, digest); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// PutBlobObject implements berth.GCTx.
func (t *Tx) PutBlobObject(ctx context.Context, o *berth.BlobObject) error {
	var review sql.NullInt64
	if !o.Review.IsZero() {
		review = sql.NullInt64{Int64: o.Review.UnixNano(), Valid: true}
	}
	res, err := t.exec(ctx, `INSERT INTO blob_objects (digest, object_key, size, created_at, review_after) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`, o.Digest, o.Key, o.Size, toNano(o.CreatedAt), review)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if t.wasAbsent('b', "", o.Digest) {
			return errRaced // inserted since this Update read it as missing
		}
		return berth.Errorf(berth.EConflict, "blob %s is recorded", o.Digest)
	}
	return nil
}

// DeleteBlobObject implements berth.GCTx.
func (t *Tx) DeleteBlobObject(ctx context.Context, digest string) error {
	if _, err := t.exec(ctx, `DELETE FROM blobs WHERE digest = ?`, digest); err != nil {
		return err
	}
	return t.execOne(ctx, "blob", digest, `DELETE FROM blob_objects WHERE digest = ?`, digest)
}

// reviewAtLeast is the SET clause that moves a review time to at least ?.
const reviewAtLeast = `UPDATE blob_objects SET review_after = ? WHERE (review_after IS NULL OR review_after < ?)`

// ReviewBlobs implements berth.GCTx.
func (t *Tx) ReviewBlobs(ctx context.Context, digests []string, at time.Time) error {
	n := at.UnixNano()
	for _, d := range digests {
		if _, err := t.exec(ctx, reviewAtLeast+` AND digest = ?`, n, n, d); err != nil {
			return err
		}
	}
	return nil
}

// ReviewManifestBlobs implements berth.GCTx.
func (t *Tx) ReviewManifestBlobs(ctx context.Context, repo, digest string, at time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	n := at.UnixNano()
	_, err = t.exec(ctx, reviewAtLeast+` AND digest IN (SELECT ref FROM manifest_refs WHERE repo_id = ? AND digest = ? AND kind = ?)`, n, n, id, digest, refBlob)
	return err
}

// ReviewRepositoryBlobs implements berth.GCTx.
func (t *Tx) ReviewRepositoryBlobs(ctx context.Context, repo string, at time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	n := at.UnixNano()
	_, err = t.exec(ctx, reviewAtLeast+` AND digest IN (SELECT digest FROM blobs WHERE repo_id = ?)`, n, n, id)
	return err
}

// ClearBlobReview implements berth.GCTx.
func (t *Tx) ClearBlobReview(ctx context.Context, digest string) error {
	_, err := t.exec(ctx, `UPDATE blob_objects SET review_after = NULL WHERE digest = ?`, digest)
	return err
}

// DueBlobs implements berth.GCTx.
func (t *Tx) DueBlobs(ctx context.Context, at time.Time, limit int) ([]string, error) {
	q := `SELECT digest FROM blob_objects WHERE review_after <= ? ORDER BY review_after, digest LIMIT ?`
	if t.write && t.d.RowLocks {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	return t.strings(ctx, q, at.UnixNano(), limit)
}

// ClearReferencedReviews implements berth.GCTx. The outer condition on
// review_after is checked again against a row a concurrent Update changed
// (PostgreSQL re-reads it), so a review a release moved on is kept.
func (t *Tx) ClearReferencedReviews(ctx context.Context, at time.Time, limit int) (int, error) {
	n := at.UnixNano()
	res, err := t.exec(ctx, `UPDATE blob_objects SET review_after = NULL WHERE review_after <= ? AND digest IN (
		SELECT o.digest FROM blob_objects o WHERE o.review_after <= ?
		AND EXISTS (SELECT 1 FROM manifest_refs r WHERE r.ref = o.digest AND r.kind = ?) ORDER BY o.review_after LIMIT ?)`, n, n, refBlob, limit)
	if err != nil {
		return 0, err
	}
	cleared, err := res.RowsAffected()
	return int(cleared), err
}

// BlobInUse implements berth.GCTx.
func (t *Tx) BlobInUse(ctx context.Context, digest string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM manifest_refs WHERE ref = ? AND kind = ? LIMIT 1`, digest, refBlob).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// QueueDeletion implements berth.GCTx.
func (t *Tx) QueueDeletion(ctx context.Context, d berth.Deletion) error {
	_, err := t.exec(ctx, `INSERT INTO storage_deletions (object_key, upload_state, not_before, attempts) VALUES (?, ?, ?, ?)
		ON CONFLICT (object_key) DO NOTHING`, d.Key, d.UploadState, toNano(d.NotBefore), d.Attempts)
	return err
}

// ClaimDeletions implements berth.GCTx.
func (t *Tx) ClaimDeletions(ctx context.Context, at, until time.Time, limit int) ([]berth.Deletion, error) {
	q := `SELECT object_key, upload_state, not_before, attempts FROM storage_deletions WHERE not_before <= ? ORDER BY not_before, object_key LIMIT ?`
	if t.write && t.d.RowLocks {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.query(ctx, q, at.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	var out []berth.Deletion
	for rows.Next() {
		var d berth.Deletion
		var nb int64
		if err := rows.Scan(&d.Key, &d.UploadState, &nb, &d.Attempts); err != nil {
			rows.Close()
			return nil, err
		}
		d.NotBefore = fromNano(nb)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || !t.write {
		return out, err
	}
	for _, d := range out {
		if _, err := t.exec(ctx, `UPDATE storage_deletions SET not_before = ?, attempts = attempts + 1 WHERE object_key = ?`, until.UnixNano(), d.Key); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeleteDeletion implements berth.GCTx.
func (t *Tx) DeleteDeletion(ctx context.Context, key string) error {
	_, err := t.exec(ctx, `DELETE FROM storage_deletions WHERE object_key = ?`, key)
	return err
}

// StaleUploads implements berth.GCTx.
func (t *Tx) StaleUploads(ctx context.Context, at time.Time, limit int) ([]berth.Upload, error) {
	q := `SELECT u.id, r.name, u.created_at, u.updated_at, u.size, u.backend_state FROM uploads u JOIN repositories r ON r.id = u.repo_id
		WHERE u.updated_at < ? ORDER BY u.updated_at, u.id LIMIT ?`
	if t.write && t.d.RowLocks {
		q += ` FOR UPDATE OF u SKIP LOCKED`
	}
	rows, err := t.query(ctx, q, at.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []berth.Upload
	for rows.Next() {
		var u berth.Upload
		var created, updated int64
		if err := rows.Scan(&u.ID, &u.Repository, &created, &updated, &u.Size, &u.BackendState); err != nil {
			return nil, err
		}
		u.CreatedAt, u.UpdatedAt = fromNano(created), fromNano(updated)
		out = append(out, u)
	}
	return out, rows.Err()
}

// ObjectOwned implements berth.GCTx.
func (t *Tx) ObjectOwned(ctx context.Context, key, upload string) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM blob_objects WHERE object_key = ?
		UNION ALL SELECT 1 FROM storage_deletions WHERE object_key = ?
		UNION ALL SELECT 1 FROM uploads WHERE id = ? LIMIT 1`, key, key, upload).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// StorageStats implements berth.GCTx.
func (t *Tx) StorageStats(ctx context.Context, at time.Time) (berth.StorageStats, error) {
	var s berth.StorageStats
	err := t.queryRow(ctx, `SELECT count(*), coalesce(sum(size), 0), count(review_after),
		coalesce(sum(CASE WHEN review_after <= ? THEN 1 ELSE 0 END), 0) FROM blob_objects`, at.UnixNano()).
		Scan(&s.Blobs, &s.Bytes, &s.Reviews, &s.DueReviews)
	if err != nil {
		return s, err
	}
	if err := t.queryRow(ctx, `SELECT count(*) FROM storage_deletions`).Scan(&s.Deletions); err != nil {
		return s, err
	}
	err = t.queryRow(ctx, `SELECT count(*) FROM uploads`).Scan(&s.Uploads)
	return s, err
}
