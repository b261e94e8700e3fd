package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

// Console sessions are registry-wide, as IAM is: a session signs a
// principal in, whichever namespace's repositories it then looks at.

// PutConsoleSession implements berth.ConsoleTx.
func (t *Tx) PutConsoleSession(ctx context.Context, s *berth.ConsoleSession) error {
	_, err := t.exec(ctx, `INSERT INTO console_sessions (id, principal, role, key_id, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET principal = excluded.principal, role = excluded.role, key_id = excluded.key_id,
		created_at = excluded.created_at, seen_at = excluded.seen_at, expires_at = excluded.expires_at`,
		s.ID, s.Principal, s.Role, s.KeyID, toNano(s.Created), toNano(s.Seen), toNano(s.Expires))
	return err
}

// GetConsoleSession implements berth.ConsoleTx.
func (t *Tx) GetConsoleSession(ctx context.Context, id string) (*berth.ConsoleSession, error) {
	s := berth.ConsoleSession{ID: id}
	var created, seen, expires int64
	err := t.queryRow(ctx, `SELECT principal, role, key_id, created_at, seen_at, expires_at FROM console_sessions WHERE id = ?`, id).
		Scan(&s.Principal, &s.Role, &s.KeyID, &created, &seen, &expires)
	if err != nil {
		return nil, notFound(err, "console session %s not found", id)
	}
	s.Created, s.Seen, s.Expires = fromNano(created), fromNano(seen), fromNano(expires)
	return &s, nil
}

// DeleteConsoleSession implements berth.ConsoleTx.
func (t *Tx) DeleteConsoleSession(ctx context.Context, id string) error {
	return t.execOne(ctx, "console session", id, `DELETE FROM console_sessions WHERE id = ?`, id)
}

// DeleteConsoleSessionsBefore implements berth.ConsoleTx. The limit is
// the subquery's: DELETE … LIMIT is not SQL both databases speak. Where
// Updates run concurrently, a sweep skips the sessions another has
// locked (deleting them, or a sign-out) rather than wait for it.
func (t *Tx) DeleteConsoleSessionsBefore(ctx context.Context, seen, at time.Time, limit int) (int, error) {
	sub := `SELECT id FROM console_sessions WHERE seen_at < ? OR expires_at <= ? LIMIT ?`
	if t.write && t.d.RowLocks {
		sub += ` FOR UPDATE SKIP LOCKED`
	}
	res, err := t.exec(ctx, `DELETE FROM console_sessions WHERE id IN (`+sub+`)`, toNano(seen), toNano(at), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// usageBatch is the most names one RepositoryUsage query asks about.
const usageBatch = 256

// RepositoryUsage implements berth.ConsoleTx. The names go in one IN list
// per query, padded to a power of two: statements are prepared and kept
// per query text, so each list length would otherwise be another one.
// The figures are for display: nothing is locked.
func (t *Tx) RepositoryUsage(ctx context.Context, repos []string) (map[string]berth.RepositoryUsage, error) {
	out := map[string]berth.RepositoryUsage{}
	var names []string
	seen := map[string]bool{}
	for _, r := range repos {
		if !seen[r] {
			seen[r] = true
			names = append(names, t.stored(r))
		}
	}
	for len(names) > 0 {
		batch := names[:min(len(names), usageBatch)]
		names = names[len(batch):]
		if err := t.usage(ctx, batch, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// usage adds the usage of the repositories stored under names (at most
// usageBatch) to out. A blob row is a repository's link to a blob, one
// per digest, so summing them counts a blob its images share once. The
// manifests' own bytes live in this store, not the blob store, and are
// left out: summing their lengths reads every manifest of a repository.
func (t *Tx) usage(ctx context.Context, names []string, out map[string]berth.RepositoryUsage) error {
	n := 8
	for n < len(names) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = names[min(i, len(names)-1)] // repeats match nothing more
	}
	rows, err := t.query(ctx, `SELECT r.name,
		(SELECT count(*) FROM manifests m WHERE m.repo_id = r.id),
		(SELECT coalesce(sum(b.size), 0) FROM blobs b WHERE b.repo_id = r.id)
		FROM repositories r WHERE r.name IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var images int
		var blobBytes int64
		if err := rows.Scan(&name, &images, &blobBytes); err != nil {
			return err
		}
		out[t.visible(name)] = berth.RepositoryUsage{Images: images, Bytes: blobBytes}
	}
	return rows.Err()
}
