package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

const (
	refBlob     = 0
	refManifest = 1
)

// PutManifest implements berth.ManifestTx.
func (t *Tx) PutManifest(ctx context.Context, m *berth.Manifest) error {
	id, err := t.repoID(ctx, m.Repository)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO manifests (repo_id, digest, media_type, artifact_type, subject, bytes, size, pushed_at, pulled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, m.Digest, m.MediaType, m.ArtifactType, m.Subject, m.Bytes, m.Size, m.PushedAt.UnixNano(), unixNano(m.LastPulledAt))
	if t.d.IsUnique(err) {
		if t.wasAbsent('m', m.Repository, m.Digest) {
			return errRaced
		}
		return berth.Errorf(berth.EConflict, "manifest %s exists", m.Digest)
	}
	if err != nil {
		return err
	}
	delete(t.absent, absentKey('m', m.Repository, m.Digest))
	insert := func(ref string, kind int) error {
		_, err := t.exec(ctx, `INSERT INTO manifest_refs (repo_id, digest, ref, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, m.Digest, ref, kind)
		return err
	}
	// Blob rows are changed in digest order, so that two Updates changing
	// the same ones cannot deadlock.
	blobs := slices.SortedFunc(slices.Values(m.Blobs), func(a, b berth.BlobRef) int { return strings.Compare(a.Digest, b.Digest) })
	for _, b := range blobs {
		if err := insert(b.Digest, refBlob); err != nil {
			return err
		}
		if b.MediaType != "" {
			if _, err := t.exec(ctx, `UPDATE blobs SET media_type = ? WHERE repo_id = ? AND digest = ? AND media_type = ''`, b.MediaType, id, b.Digest); err != nil {
				return err
			}
		}
	}
	for _, c := range m.Children {
		if err := insert(c, refManifest); err != nil {
			return err
		}
	}
	return nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

const manifestColumns = `m.digest, m.media_type, m.artifact_type, m.subject, m.bytes, m.size, m.pushed_at, m.pulled_at, m.archived_at, m.restored_at`

func scanManifest(row scanner, repo string, extra ...any) (*berth.Manifest, error) {
	m := berth.Manifest{Repository: repo}
	var pushed, pulled, archived, restored int64
	dest := append([]any{&m.Digest, &m.MediaType, &m.ArtifactType, &m.Subject, &m.Bytes, &m.Size, &pushed, &pulled, &archived, &restored}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.PushedAt, m.LastPulledAt = fromNano(pushed), fromNano(pulled)
	m.ArchivedAt, m.RestoredAt = fromNano(archived), fromNano(restored)
	return &m, nil
}

// imageStatusClause selects manifests (alias m) by their status at now:
// the SQL of berth.Manifest.Status.
func imageStatusClause(f berth.ImageFilter) (string, []any) {
	n := f.Now.UnixNano()
	switch f.Status {
	case berth.ImageActive:
		return ` AND (m.archived_at = 0 OR (m.restored_at > m.archived_at AND m.restored_at <= ?))`, []any{n}
	case berth.ImageArchived:
		return ` AND m.archived_at <> 0 AND m.restored_at <= m.archived_at`, nil
	case berth.ImageActivating:
		return ` AND m.archived_at <> 0 AND m.restored_at > m.archived_at AND m.restored_at > ?`, []any{n}
	}
	return "", nil
}

// SetImageStorage implements berth.ManifestTx.
func (t *Tx) SetImageStorage(ctx context.Context, repo, digest string, archivedAt, restoredAt time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "manifest", digest, `UPDATE manifests SET archived_at = ?, restored_at = ? WHERE repo_id = ? AND digest = ?`,
		toNano(archivedAt), toNano(restoredAt), id, digest)
}

// GetManifest implements berth.ManifestTx.
func (t *Tx) GetManifest(ctx context.Context, repo, digest string) (*berth.Manifest, error) {
	return t.cachedManifest(cacheKey{repo: t.stored(repo), ref: digest}, func() (*berth.Manifest, error) {
		return t.getManifest(ctx, repo, digest, lockShare)
	})
}

// LockManifest implements berth.ManifestTx.
func (t *Tx) LockManifest(ctx context.Context, repo, digest string) (*berth.Manifest, error) {
	return t.getManifest(ctx, repo, digest, lockUpdate)
}

func (t *Tx) getManifest(ctx context.Context, repo, digest, mode string) (*berth.Manifest, error) {
	m, err := scanManifest(t.queryRow(ctx, `SELECT `+manifestColumns+` FROM manifests m JOIN repositories r ON r.id = m.repo_id
		WHERE r.name = ? AND m.digest = ?`+t.lock(mode, "m"), t.stored(repo), digest), repo)
	return m, t.readAbsent(notFound(err, "manifest %s not found", digest), 'm', repo, digest)
}

// GetTaggedManifest implements berth.ManifestTx: one indexed lookup.
func (t *Tx) GetTaggedManifest(ctx context.Context, repo, tag string) (*berth.Manifest, error) {
	return t.cachedManifest(cacheKey{repo: t.stored(repo), ref: tag, tag: true}, func() (*berth.Manifest, error) {
		m, err := scanManifest(t.queryRow(ctx, `SELECT `+manifestColumns+` FROM tags t
		JOIN repositories r ON r.id = t.repo_id
		JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
		WHERE r.name = ? AND t.name = ?`, t.stored(repo), tag), repo)
		return m, notFound(err, "tag %s not found", tag)
	})
}

// DeleteManifest implements berth.ManifestTx.
func (t *Tx) DeleteManifest(ctx context.Context, repo, digest string) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "manifest", digest, `DELETE FROM manifests WHERE repo_id = ? AND digest = ?`, id, digest)
}

func statusClause(status berth.TagStatus, tagged string) string {
	switch status {
	case berth.TagStatusTagged:
		return ` AND ` + tagged
	case berth.TagStatusUntagged:
		return ` AND NOT ` + tagged
	}
	return ""
}

// ListImages implements berth.ManifestTx.
func (t *Tx) ListImages(ctx context.Context, repo string, f berth.ImageFilter, p berth.Page) ([]berth.Image, string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, "", err
	}
	sc, sargs := imageStatusClause(f)
	q := `SELECT ` + manifestColumns + `, (SELECT string_agg(t.name, ',' ORDER BY t.name) FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)
		FROM manifests m WHERE m.repo_id = ? AND m.digest > ?` +
		statusClause(f.Tags, `EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)`) + sc +
		` ORDER BY m.digest LIMIT ?`
	rows, err := t.query(ctx, q, append(append([]any{id, p.After}, sargs...), p.Limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []berth.Image
	for rows.Next() {
		var tags *string
		m, err := scanManifest(rows, repo, &tags)
		if err != nil {
			return nil, "", err
		}
		img := berth.Image{Manifest: *m}
		if tags != nil && *tags != "" {
			img.Tags = strings.Split(*tags, ",")
		}
		out = append(out, img)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1].Digest
	}
	return out, next, nil
}

// ListImageRefs implements berth.ManifestTx. The position is digest and tag
// joined by a space, which neither can contain.
func (t *Tx) ListImageRefs(ctx context.Context, repo string, f berth.ImageFilter, p berth.Page) ([]berth.ImageRef, string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, "", err
	}
	afterDigest, afterTag, _ := strings.Cut(p.After, " ")
	sc, sargs := imageStatusClause(f)
	q := `SELECT d, tg FROM (SELECT m.digest AS d, coalesce(t.name, '') AS tg FROM manifests m
		LEFT JOIN tags t ON t.repo_id = m.repo_id AND t.digest = m.digest
		WHERE m.repo_id = ?` + statusClause(f.Tags, `t.name IS NOT NULL`) + sc + `) AS refs
		WHERE (d, tg) > (?, ?) ORDER BY d, tg LIMIT ?`
	rows, err := t.query(ctx, q, append(append([]any{id}, sargs...), afterDigest, afterTag, p.Limit+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []berth.ImageRef
	for rows.Next() {
		var r berth.ImageRef
		if err := rows.Scan(&r.Digest, &r.Tag); err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		last := out[len(out)-1]
		next = last.Digest + " " + last.Tag
	}
	return out, next, nil
}

// ManifestParents implements berth.ManifestTx.
func (t *Tx) ManifestParents(ctx context.Context, repo, digest string) ([]string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, err
	}
	return t.strings(ctx, `SELECT digest FROM manifest_refs WHERE repo_id = ? AND ref = ? AND kind = ? ORDER BY digest`, id, digest, refManifest)
}

// TouchPulled implements berth.ManifestTx.
func (t *Tx) TouchPulled(ctx context.Context, repo, digest string, at time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE manifests SET pulled_at = ? WHERE repo_id = ? AND digest = ?`, at.UnixNano(), id, digest)
	return err
}

func (t *Tx) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetTag implements berth.TagTx.
func (t *Tx) GetTag(ctx context.Context, repo, tag string) (string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return "", err
	}
	var d string
	err = t.queryRow(ctx, `SELECT digest FROM tags WHERE repo_id = ? AND name = ?`+t.lock(lockUpdate, "tags"), id, tag).Scan(&d)
	return d, t.readAbsent(notFound(err, "tag %s not found", tag), 't', repo, tag)
}

// PutTag implements berth.TagTx. A tag this Update read as missing is
// inserted only if it is still missing: if a concurrent Update created it
// since, the Update runs again, and its rerun sees that tag.
func (t *Tx) PutTag(ctx context.Context, repo, tag, digest string, at time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	if t.wasAbsent('t', repo, tag) {
		res, err := t.exec(ctx, `INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (repo_id, name) DO NOTHING`, id, tag, digest, at.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errRaced
		}
		delete(t.absent, absentKey('t', repo, tag))
		return nil
	}
	_, err = t.exec(ctx, `INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`, id, tag, digest, at.UnixNano())
	return err
}

// DeleteTag implements berth.TagTx.
func (t *Tx) DeleteTag(ctx context.Context, repo, tag string) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "tag", tag, `DELETE FROM tags WHERE repo_id = ? AND name = ?`, id, tag)
}

// TagsOf implements berth.TagTx.
func (t *Tx) TagsOf(ctx context.Context, repo, digest string) ([]string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, err
	}
	return t.strings(ctx, `SELECT name FROM tags WHERE repo_id = ? AND digest = ? ORDER BY name`, id, digest)
}

// PutBlob implements berth.BlobTx.
func (t *Tx) PutBlob(ctx context.Context, repo string, b berth.Blob, at time.Time) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO blobs (repo_id, digest, size, media_type, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (repo_id, digest) DO NOTHING`, id, b.Digest, b.Size, b.MediaType, at.UnixNano())
	return err
}

// GetBlob implements berth.BlobTx.
func (t *Tx) GetBlob(ctx context.Context, repo, digest string) (*berth.Blob, error) {
	return t.getBlob(ctx, repo, digest, lockKeyShare)
}

// LockBlob implements berth.BlobTx.
func (t *Tx) LockBlob(ctx context.Context, repo, digest string) (*berth.Blob, error) {
	return t.getBlob(ctx, repo, digest, lockUpdate)
}

func (t *Tx) getBlob(ctx context.Context, repo, digest, mode string) (*berth.Blob, error) {
	b := berth.Blob{Digest: digest}
	var review sql.NullInt64
	var err error
	if id, known := t.repoIDs[t.stored(repo)]; known || t.tx != nil {
		// In a transaction, the repository's id is looked up once for all
		// its statements.
		if !known {
			if id, err = t.repoID(ctx, repo); err != nil {
				return nil, err
			}
		}
		err = t.queryRow(ctx, `SELECT b.size, b.media_type, o.object_key, o.review_after FROM blobs b JOIN blob_objects o ON o.digest = b.digest
		WHERE b.repo_id = ? AND b.digest = ?`+t.lock(mode, "b"), id, digest).Scan(&b.Size, &b.MediaType, &b.Key, &review)
	} else {
		// Read apart (a blob GET): one statement, one round trip.
		err = t.queryRow(ctx, `SELECT b.size, b.media_type, o.object_key, o.review_after FROM blobs b JOIN blob_objects o ON o.digest = b.digest
		JOIN repositories r ON r.id = b.repo_id WHERE r.name = ? AND b.digest = ?`, t.stored(repo), digest).Scan(&b.Size, &b.MediaType, &b.Key, &review)
	}
	if err != nil {
		return nil, notFound(err, "blob %s not found", digest)
	}
	b.Review = reviewTime(review)
	return &b, nil
}

// BlobReferenced implements berth.BlobTx.
func (t *Tx) BlobReferenced(ctx context.Context, repo, digest string) (bool, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return false, err
	}
	var one int
	err = t.queryRow(ctx, `SELECT 1 FROM manifest_refs WHERE repo_id = ? AND ref = ? AND kind = ? LIMIT 1`, id, digest, refBlob).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ListTags implements berth.TagTx.
func (t *Tx) ListTags(ctx context.Context, repo string, p berth.Page) ([]string, string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, "", err
	}
	return t.stringPage(ctx, p, `SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?`, id, p.After, p.Limit+1)
}

// stringPage runs q, which selects up to p.Limit+1 names after p.After,
// and returns a page of them and the position after it ("" at the end).
func (t *Tx) stringPage(ctx context.Context, p berth.Page, q string, args ...any) ([]string, string, error) {
	out, err := t.strings(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1]
	}
	return out, next, nil
}

// ListReferrers implements berth.ManifestTx.
//
// The query is shaped for the partial index manifests_subject: the
// redundant subject <> ” (a planner cannot know that a bound digest is
// not ”), and the order by digest made here, not in SQL, where it led
// SQLite to walk every manifest of the repository by its primary key.
func (t *Tx) ListReferrers(ctx context.Context, repo, digest string) ([]berth.Manifest, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT `+manifestColumns+` FROM manifests m WHERE m.repo_id = ? AND m.subject = ? AND m.subject <> ''`, id, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []berth.Manifest
	for rows.Next() {
		m, err := scanManifest(rows, repo)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b berth.Manifest) int { return strings.Compare(a.Digest, b.Digest) })
	return out, rows.Err()
}

// DeleteBlob implements berth.BlobTx.
func (t *Tx) DeleteBlob(ctx context.Context, repo, digest string) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "blob", digest, `DELETE FROM blobs WHERE repo_id = ? AND digest = ?`, id, digest)
}
