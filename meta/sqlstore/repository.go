package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/berth-registry/berth"
)

const repoColumns = `name, created_at, tag_mutability, exclusions, scan_on_push, encryption_type, kms_key, tags`

func repoArgs(r *berth.Repository) ([]any, error) {
	excl, err := json.Marshal(nonNil(r.TagMutabilityExclusions))
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(nonNil(r.Tags))
	if err != nil {
		return nil, err
	}
	return []any{r.Name, r.CreatedAt.UnixNano(), string(r.TagMutability), string(excl), r.ScanOnPush, r.EncryptionType, r.KMSKey, string(tags)}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type scanner interface{ Scan(...any) error }

func scanRepo(row scanner, extra ...any) (*berth.Repository, error) {
	var r berth.Repository
	var created int64
	var mut, excl, tags string
	dest := append([]any{&r.Name, &created, &mut, &excl, &r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tags}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.CreatedAt = time.Unix(0, created).UTC()
	r.TagMutability = berth.TagMutability(mut)
	if err := json.Unmarshal([]byte(excl), &r.TagMutabilityExclusions); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
		return nil, err
	}
	if len(r.TagMutabilityExclusions) == 0 {
		r.TagMutabilityExclusions = nil
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	return &r, nil
}

// CreateRepository implements berth.RepositoryTx.
func (t *Tx) CreateRepository(ctx context.Context, r *berth.Repository) error {
	args, err := repoArgs(r)
	if err != nil {
		return err
	}
	args[0] = t.stored(r.Name)
	_, err = t.exec(ctx, `INSERT INTO repositories (`+repoColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if t.d.IsUnique(err) {
		return berth.Errorf(berth.EConflict, "repository %s exists", r.Name)
	}
	return err
}

// GetRepository implements berth.RepositoryTx.
func (t *Tx) GetRepository(ctx context.Context, name string) (*berth.Repository, error) {
	return t.getRepository(ctx, name, lockShare)
}

// LockRepository implements berth.RepositoryTx.
func (t *Tx) LockRepository(ctx context.Context, name string) (*berth.Repository, error) {
	return t.getRepository(ctx, name, lockUpdate)
}

// getRepository reads a repository, locked in an Update, and keeps its id.
func (t *Tx) getRepository(ctx context.Context, name, mode string) (*berth.Repository, error) {
	var id int64
	r, err := scanRepo(t.queryRow(ctx, `SELECT `+repoColumns+`, id FROM repositories WHERE name = ?`+t.lock(mode, "repositories"), t.stored(name)), &id)
	if err != nil {
		return nil, notFound(err, "repository %s not found", name)
	}
	if t.repoIDs == nil {
		t.repoIDs = map[string]int64{}
	}
	t.repoIDs[t.stored(name)] = id
	r.Name = name
	return r, nil
}

// UpdateRepository implements berth.RepositoryTx.
func (t *Tx) UpdateRepository(ctx context.Context, r *berth.Repository) error {
	args, err := repoArgs(r)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "repository", r.Name, `UPDATE repositories SET tag_mutability = ?, exclusions = ?, scan_on_push = ?, encryption_type = ?, kms_key = ?, tags = ? WHERE name = ?`,
		append(args[2:], t.stored(r.Name))...)
}

// DeleteRepository implements berth.RepositoryTx. Foreign keys cascade to
// every row the repository owns.
func (t *Tx) DeleteRepository(ctx context.Context, name string) error {
	id, err := t.repoID(ctx, name)
	if err != nil {
		return err
	}
	// Tags and references cascade from manifests; delete them first so the
	// cascade from repositories has less to walk.
	t.forgetRepo(name)
	for _, q := range []string{
		// A policy goes with its repository: caches of decisions forget it.
		`UPDATE iam_generation SET n = n + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM repositories WHERE id = ? AND policy <> '')`,
		`DELETE FROM tags WHERE repo_id = ?`,
		`DELETE FROM manifest_refs WHERE repo_id = ?`,
		`DELETE FROM manifests WHERE repo_id = ?`,
		`DELETE FROM repositories WHERE id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// ListRepositories implements berth.RepositoryTx.
func (t *Tx) ListRepositories(ctx context.Context, p berth.Page) ([]berth.Repository, string, error) {
	lo, hi := t.nameRange(p.After)
	rows, err := t.query(ctx, `SELECT `+repoColumns+` FROM repositories WHERE name > ? AND name < ? ORDER BY name LIMIT ?`, lo, hi, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []berth.Repository
	for rows.Next() {
		r, err := scanRepo(rows)
		if err != nil {
			return nil, "", err
		}
		r.Name = t.visible(r.Name)
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1].Name
	}
	return out, next, nil
}

// CountManifests implements berth.RepositoryTx.
func (t *Tx) CountManifests(ctx context.Context, repo string) (int, error) {
	id, err := t.repoID(ctx, repo)
	if err != nil {
		return 0, err
	}
	var n int
	err = t.queryRow(ctx, `SELECT count(*) FROM manifests WHERE repo_id = ?`, id).Scan(&n)
	return n, err
}
