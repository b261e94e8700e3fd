package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

// IAM entities are stored as JSON bodies beside the columns their lookups
// need, as creation templates are: IAM grows fields, and the registry
// reads them whole.

// bumpIAM moves the IAM generation on; every IAM write calls it.
func (t *Tx) bumpIAM(ctx context.Context) error {
	_, err := t.exec(ctx, `UPDATE iam_generation SET n = n + 1 WHERE id = 1`)
	return err
}

// insertNew runs an INSERT … ON CONFLICT DO NOTHING of an IAM entity:
// EConflict if it inserted nothing (a failed statement would end a
// PostgreSQL transaction; this one leaves it usable).
func (t *Tx) insertNew(ctx context.Context, what, q string, args ...any) error {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return berth.Errorf(berth.EConflict, "%s exists", what)
	}
	return t.bumpIAM(ctx)
}

// IAMGeneration implements berth.IAMTx.
func (t *Tx) IAMGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `SELECT n FROM iam_generation WHERE id = 1`).Scan(&n)
	return n, err
}

// PutAccount implements berth.IAMTx.
func (t *Tx) PutAccount(ctx context.Context, a *berth.Account) error {
	if _, err := t.exec(ctx, `INSERT INTO iam_accounts (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, a.ID, a.CreatedAt.UnixNano()); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// ListAccounts implements berth.IAMTx.
func (t *Tx) ListAccounts(ctx context.Context) ([]berth.Account, error) {
	rows, err := t.query(ctx, `SELECT id, created_at FROM iam_accounts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []berth.Account
	for rows.Next() {
		var a berth.Account
		var at int64
		if err := rows.Scan(&a.ID, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNano(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreatePrincipal implements berth.IAMTx.
func (t *Tx) CreatePrincipal(ctx context.Context, p *berth.Principal) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, p.Kind+" "+p.Name, `INSERT INTO iam_principals (arn, account, kind, name_key, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.ARN, p.Account, p.Kind, strings.ToLower(p.Name), string(body))
}

// GetPrincipal implements berth.IAMTx.
func (t *Tx) GetPrincipal(ctx context.Context, account, kind, name string) (*berth.Principal, error) {
	var body string
	err := t.queryRow(ctx, `SELECT body FROM iam_principals WHERE account = ? AND kind = ? AND name_key = ?`, account, kind, strings.ToLower(name)).Scan(&body)
	if err != nil {
		return nil, notFound(err, "%s %s not found", kind, name)
	}
	var p berth.Principal
	return &p, json.Unmarshal([]byte(body), &p)
}

// ListPrincipals implements berth.IAMTx.
func (t *Tx) ListPrincipals(ctx context.Context, account, kind string, p berth.Page) ([]berth.Principal, string, error) {
	return namePage(t, ctx, p, func(x berth.Principal) string { return x.Name },
		`SELECT body FROM iam_principals WHERE account = ? AND kind = ? AND name_key > ? ORDER BY name_key LIMIT ?`, account, kind, strings.ToLower(p.After), p.Limit+1)
}

// namePage runs q, which selects the bodies of up to p.Limit+1 entities by
// name after p.After, and returns a page of them and the name to go on
// after ("" at the end).
func namePage[T any](t *Tx, ctx context.Context, p berth.Page, name func(T) string, q string, args ...any) ([]T, string, error) {
	bodies, err := t.strings(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll[T](bodies)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = name(out[len(out)-1])
	}
	return out, next, nil
}

func decodeAll[T any](bodies []string) ([]T, error) {
	out := make([]T, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal([]byte(b), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeletePrincipal implements berth.IAMTx.
func (t *Tx) DeletePrincipal(ctx context.Context, arn string) error {
	if err := t.execOne(ctx, "principal", arn, `DELETE FROM iam_principals WHERE arn = ?`, arn); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// PutAccessKey implements berth.IAMTx.
func (t *Tx) PutAccessKey(ctx context.Context, k *berth.AccessKey) error {
	body, err := json.Marshal(k)
	if err != nil {
		return err
	}
	var exp int64
	if !k.Expires.IsZero() {
		exp = k.Expires.UnixNano()
	}
	if _, err := t.exec(ctx, `INSERT INTO iam_access_keys (id, principal, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET principal = excluded.principal, expires_at = excluded.expires_at, body = excluded.body`,
		k.ID, k.Principal, k.Created.UnixNano(), exp, string(body)); err != nil {
		return err
	}
	if exp != 0 {
		// A new temporary key changes no decision: nothing to forget.
		return nil
	}
	return t.bumpIAM(ctx)
}

// GetAccessKey implements berth.IAMTx.
func (t *Tx) GetAccessKey(ctx context.Context, id string) (*berth.AccessKey, error) {
	var body string
	if err := t.queryRow(ctx, `SELECT body FROM iam_access_keys WHERE id = ?`, id).Scan(&body); err != nil {
		return nil, notFound(err, "access key %s not found", id)
	}
	var k berth.AccessKey
	return &k, json.Unmarshal([]byte(body), &k)
}

// ListAccessKeys implements berth.IAMTx.
func (t *Tx) ListAccessKeys(ctx context.Context, principal string) ([]berth.AccessKey, error) {
	bodies, err := t.strings(ctx, `SELECT body FROM iam_access_keys WHERE principal = ? ORDER BY created_at, id`, principal)
	if err != nil {
		return nil, err
	}
	return decodeAll[berth.AccessKey](bodies)
}

// DeleteAccessKey implements berth.IAMTx.
func (t *Tx) DeleteAccessKey(ctx context.Context, id string) error {
	if err := t.execOne(ctx, "access key", id, `DELETE FROM iam_access_keys WHERE id = ?`, id); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// DeleteExpiredKeys implements berth.IAMTx.
func (t *Tx) DeleteExpiredKeys(ctx context.Context, at time.Time, limit int) (int, error) {
	ids, err := t.strings(ctx, `SELECT id FROM iam_access_keys WHERE expires_at > 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?`, at.UnixNano(), limit)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, `DELETE FROM iam_access_keys WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	if len(ids) > 0 {
		return len(ids), t.bumpIAM(ctx)
	}
	return 0, nil
}

// CreateManagedPolicy implements berth.PolicyTx.
func (t *Tx) CreateManagedPolicy(ctx context.Context, p *berth.ManagedPolicy) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, "policy "+p.Name, `INSERT INTO iam_policies (arn, account, name_key, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.ARN, p.Account, strings.ToLower(p.Name), string(body))
}

// GetManagedPolicy implements berth.PolicyTx.
func (t *Tx) GetManagedPolicy(ctx context.Context, arn string) (*berth.ManagedPolicy, error) {
	var body string
	if err := t.queryRow(ctx, `SELECT body FROM iam_policies WHERE arn = ?`, arn).Scan(&body); err != nil {
		return nil, notFound(err, "policy %s not found", arn)
	}
	var p berth.ManagedPolicy
	return &p, json.Unmarshal([]byte(body), &p)
}

// ListManagedPolicies implements berth.PolicyTx.
func (t *Tx) ListManagedPolicies(ctx context.Context, account string, p berth.Page) ([]berth.ManagedPolicy, string, error) {
	return namePage(t, ctx, p, func(x berth.ManagedPolicy) string { return x.Name },
		`SELECT body FROM iam_policies WHERE account = ? AND name_key > ? ORDER BY name_key LIMIT ?`, account, strings.ToLower(p.After), p.Limit+1)
}

// DeleteManagedPolicy implements berth.PolicyTx.
func (t *Tx) DeleteManagedPolicy(ctx context.Context, arn string) error {
	if err := t.execOne(ctx, "policy", arn, `DELETE FROM iam_policies WHERE arn = ?`, arn); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

const (
	policyInline   = "inline"
	policyAttached = "attached"
)

// PutInlinePolicy implements berth.PolicyTx.
func (t *Tx) PutInlinePolicy(ctx context.Context, principal, name, document string) error {
	if _, err := t.exec(ctx, `INSERT INTO iam_principal_policies (principal, kind, name, document) VALUES (?, ?, ?, ?)
		ON CONFLICT (principal, kind, name) DO UPDATE SET document = excluded.document`, principal, policyInline, name, document); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// DeleteInlinePolicy implements berth.PolicyTx.
func (t *Tx) DeleteInlinePolicy(ctx context.Context, principal, name string) error {
	if err := t.execOne(ctx, "policy", name, `DELETE FROM iam_principal_policies WHERE principal = ? AND kind = ? AND name = ?`, principal, policyInline, name); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// AttachPolicy implements berth.PolicyTx.
func (t *Tx) AttachPolicy(ctx context.Context, principal, policyARN string) error {
	if _, err := t.exec(ctx, `INSERT INTO iam_principal_policies (principal, kind, name) VALUES (?, ?, ?) ON CONFLICT (principal, kind, name) DO NOTHING`,
		principal, policyAttached, policyARN); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// DetachPolicy implements berth.PolicyTx.
func (t *Tx) DetachPolicy(ctx context.Context, principal, policyARN string) error {
	if err := t.execOne(ctx, "attachment", policyARN, `DELETE FROM iam_principal_policies WHERE principal = ? AND kind = ? AND name = ?`, principal, policyAttached, policyARN); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// PolicyAttachments implements berth.PolicyTx.
func (t *Tx) PolicyAttachments(ctx context.Context, policyARN string) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM iam_principal_policies WHERE kind = ? AND name = ?`, policyAttached, policyARN).Scan(&n)
	return n, err
}

// PrincipalPolicies implements berth.PolicyTx.
func (t *Tx) PrincipalPolicies(ctx context.Context, principal string) ([]berth.PolicyDocument, error) {
	rows, err := t.query(ctx, `SELECT pp.kind, pp.name, pp.document, p.body FROM iam_principal_policies pp
		LEFT JOIN iam_policies p ON pp.kind = '`+policyAttached+`' AND p.arn = pp.name
		WHERE pp.principal = ? ORDER BY pp.kind DESC, pp.name`, principal)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []berth.PolicyDocument
	for rows.Next() {
		var kind, name, doc string
		var body sql.NullString
		if err := rows.Scan(&kind, &name, &doc, &body); err != nil {
			return nil, err
		}
		d := berth.PolicyDocument{Name: name, Inline: kind == policyInline, Document: doc}
		if body.Valid {
			var p berth.ManagedPolicy
			if err := json.Unmarshal([]byte(body.String), &p); err != nil {
				return nil, err
			}
			d.Document = p.Document
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetRepositoryPolicy implements berth.RegistryPolicyTx.
func (t *Tx) GetRepositoryPolicy(ctx context.Context, repo string) (string, error) {
	var text string
	if err := t.queryRow(ctx, `SELECT policy FROM repositories WHERE name = ?`+t.lock(lockShare, "repositories"), t.stored(repo)).Scan(&text); err != nil {
		return "", notFound(err, "repository %s not found", repo)
	}
	return text, nil
}

// SetRepositoryPolicy implements berth.RegistryPolicyTx.
func (t *Tx) SetRepositoryPolicy(ctx context.Context, repo, text string) error {
	if err := t.execOne(ctx, "repository", repo, `UPDATE repositories SET policy = ? WHERE name = ?`, text, t.stored(repo)); err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// GetSetting implements berth.RegistryPolicyTx.
func (t *Tx) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM registry_settings WHERE name = ?`, name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// PutSetting implements berth.RegistryPolicyTx.
func (t *Tx) PutSetting(ctx context.Context, name, value string) error {
	var err error
	if value == "" {
		_, err = t.exec(ctx, `DELETE FROM registry_settings WHERE name = ?`, name)
	} else {
		_, err = t.exec(ctx, `INSERT INTO registry_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	}
	if err != nil {
		return err
	}
	return t.bumpIAM(ctx)
}

// GetCatalogData implements berth.RegistryPolicyTx.
func (t *Tx) GetCatalogData(ctx context.Context, repo string) (string, error) {
	var data string
	if err := t.queryRow(ctx, `SELECT catalog_data FROM repositories WHERE name = ?`+t.lock(lockShare, "repositories"), t.stored(repo)).Scan(&data); err != nil {
		return "", notFound(err, "repository %s not found", repo)
	}
	return data, nil
}

// SetCatalogData implements berth.RegistryPolicyTx.
func (t *Tx) SetCatalogData(ctx context.Context, repo, data string) error {
	return t.execOne(ctx, "repository", repo, `UPDATE repositories SET catalog_data = ? WHERE name = ?`, data, t.stored(repo))
}
