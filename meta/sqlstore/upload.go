package sqlstore

import (
	"context"

	"github.com/berth-registry/berth"
)

// CreateUpload implements berth.UploadTx.
func (t *Tx) CreateUpload(ctx context.Context, u *berth.Upload) error {
	id, err := t.repoID(ctx, u.Repository)
	if err != nil {
		return err
	}
	updated := u.UpdatedAt
	if updated.IsZero() {
		updated = u.CreatedAt
	}
	_, err = t.exec(ctx, `INSERT INTO uploads (id, repo_id, created_at, updated_at, size, hash_state, parts, last_part_size, small_part, backend_state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, id, u.CreatedAt.UnixNano(), updated.UnixNano(), u.Size, u.HashState, u.Parts, u.LastPartSize, u.SmallPart, u.BackendState)
	return err
}

// GetUpload implements berth.UploadTx.
func (t *Tx) GetUpload(ctx context.Context, repo, id string) (*berth.Upload, error) {
	u := berth.Upload{ID: id, Repository: repo}
	var created, updated int64
	err := t.queryRow(ctx, `SELECT u.created_at, u.updated_at, u.size, u.hash_state, u.parts, u.last_part_size, u.small_part, u.backend_state
		FROM uploads u JOIN repositories r ON r.id = u.repo_id WHERE u.id = ? AND r.name = ?`, id, t.stored(repo)).
		Scan(&created, &updated, &u.Size, &u.HashState, &u.Parts, &u.LastPartSize, &u.SmallPart, &u.BackendState)
	if err != nil {
		return nil, notFound(err, "upload %s not found", id)
	}
	u.CreatedAt, u.UpdatedAt = fromNano(created), fromNano(updated)
	return &u, nil
}

// UpdateUpload implements berth.UploadTx.
func (t *Tx) UpdateUpload(ctx context.Context, u *berth.Upload, prevSize int64) error {
	res, err := t.exec(ctx, `UPDATE uploads SET size = ?, hash_state = ?, parts = ?, last_part_size = ?, small_part = ?, backend_state = ?,
		updated_at = CASE WHEN ? > updated_at THEN ? ELSE updated_at END
		WHERE id = ? AND size = ?`, u.Size, u.HashState, u.Parts, u.LastPartSize, u.SmallPart, u.BackendState,
		toNano(u.UpdatedAt), toNano(u.UpdatedAt), u.ID, prevSize)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM uploads WHERE id = ?`, u.ID).Scan(&one); err != nil {
			return notFound(err, "upload %s not found", u.ID)
		}
		return berth.Errorf(berth.EConflict, "upload %s changed concurrently", u.ID)
	}
	return nil
}

// DeleteUpload implements berth.UploadTx.
func (t *Tx) DeleteUpload(ctx context.Context, id string) error {
	return t.execOne(ctx, "upload", id, `DELETE FROM uploads WHERE id = ?`, id)
}

// CountUploads implements berth.UploadTx.
func (t *Tx) CountUploads(ctx context.Context) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT count(*) FROM uploads`).Scan(&n)
	return n, err
}
