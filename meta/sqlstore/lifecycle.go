package sqlstore

import (
	"context"
	"time"

	"github.com/berth-registry/berth"
)

// GetLifecyclePolicy implements berth.LifecycleTx.
func (t *Tx) GetLifecyclePolicy(ctx context.Context, repo string) (string, time.Time, error) {
	var text string
	var at int64
	err := t.queryRow(ctx, `SELECT lifecycle_policy, lifecycle_evaluated_at FROM repositories WHERE name = ?`+t.lock(lockShare, "repositories"), t.stored(repo)).Scan(&text, &at)
	if err != nil {
		return "", time.Time{}, notFound(err, "repository %s not found", repo)
	}
	return text, fromNano(at), nil
}

// SetLifecyclePolicy implements berth.LifecycleTx.
func (t *Tx) SetLifecyclePolicy(ctx context.Context, repo, text string) error {
	return t.execOne(ctx, "repository", repo, `UPDATE repositories SET lifecycle_policy = ? WHERE name = ?`, text, t.stored(repo))
}

// ClaimLifecycleRun implements berth.LifecycleTx.
func (t *Tx) ClaimLifecycleRun(ctx context.Context, repo string, since, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE repositories SET lifecycle_evaluated_at = ? WHERE name = ? AND lifecycle_policy <> '' AND lifecycle_evaluated_at < ?`,
		at.UnixNano(), t.stored(repo), since.UnixNano())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ListLifecycleRepositories implements berth.LifecycleTx.
func (t *Tx) ListLifecycleRepositories(ctx context.Context, p berth.Page) ([]string, string, error) {
	lo, hi := t.nameRange(p.After)
	names, next, err := t.stringPage(ctx, p, `SELECT name FROM repositories WHERE lifecycle_policy <> '' AND name > ? AND name < ? ORDER BY name LIMIT ?`, lo, hi, p.Limit+1)
	for i := range names {
		names[i] = t.visible(names[i])
	}
	return names, t.visible(next), err
}

// IndexChildren implements berth.LifecycleTx.
func (t *Tx) IndexChildren(ctx context.Context, repo string) ([]string, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, err
	}
	return t.strings(ctx, `SELECT DISTINCT ref FROM manifest_refs WHERE repo_id = ? AND kind = ?`, id, refManifest)
}

// PutLifecyclePreview implements berth.LifecycleTx.
func (t *Tx) PutLifecyclePreview(ctx context.Context, repo string, p *berth.LifecyclePreview) error {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO lifecycle_previews (repo_id, policy, status, started_at, results) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (repo_id) DO UPDATE SET policy = excluded.policy, status = excluded.status, started_at = excluded.started_at, results = excluded.results`,
		id, p.Policy, p.Status, p.StartedAt.UnixNano(), string(p.Results))
	return err
}

// GetLifecyclePreview implements berth.LifecycleTx.
func (t *Tx) GetLifecyclePreview(ctx context.Context, repo string) (*berth.LifecyclePreview, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return nil, err
	}
	var p berth.LifecyclePreview
	var started int64
	var results string
	err = t.queryRow(ctx, `SELECT policy, status, started_at, results FROM lifecycle_previews WHERE repo_id = ?`+t.lock(lockUpdate, "lifecycle_previews"), id).
		Scan(&p.Policy, &p.Status, &started, &results)
	if err != nil {
		return nil, notFound(err, "no lifecycle preview for repository %s", repo)
	}
	p.StartedAt, p.Results = fromNano(started), []byte(results)
	return &p, nil
}
