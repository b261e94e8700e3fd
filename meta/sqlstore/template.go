package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/berth-registry/berth"
)

// CreateTemplate implements berth.TemplateTx.
func (t *Tx) CreateTemplate(ctx context.Context, tmpl *berth.CreationTemplate) error {
	body, err := json.Marshal(tmpl)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO creation_templates (prefix, body) VALUES (?, ?)`, tmpl.Prefix, string(body))
	if t.d.IsUnique(err) {
		return berth.Errorf(berth.EConflict, "template %s exists", tmpl.Prefix)
	}
	return err
}

// UpdateTemplate implements berth.TemplateTx.
func (t *Tx) UpdateTemplate(ctx context.Context, tmpl *berth.CreationTemplate) error {
	body, err := json.Marshal(tmpl)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "template", tmpl.Prefix, `UPDATE creation_templates SET body = ? WHERE prefix = ?`, string(body), tmpl.Prefix)
}

// GetTemplate implements berth.TemplateTx.
func (t *Tx) GetTemplate(ctx context.Context, prefix string) (*berth.CreationTemplate, error) {
	return t.getTemplate(ctx, prefix, lockShare)
}

// LockTemplate implements berth.TemplateTx.
func (t *Tx) LockTemplate(ctx context.Context, prefix string) (*berth.CreationTemplate, error) {
	return t.getTemplate(ctx, prefix, lockUpdate)
}

func (t *Tx) getTemplate(ctx context.Context, prefix, mode string) (*berth.CreationTemplate, error) {
	var body string
	if err := t.queryRow(ctx, `SELECT body FROM creation_templates WHERE prefix = ?`+t.lock(mode, "creation_templates"), prefix).Scan(&body); err != nil {
		return nil, notFound(err, "template %s not found", prefix)
	}
	var tmpl berth.CreationTemplate
	return &tmpl, json.Unmarshal([]byte(body), &tmpl)
}

// ListTemplates implements berth.TemplateTx.
func (t *Tx) ListTemplates(ctx context.Context, p berth.Page) ([]berth.CreationTemplate, string, error) {
	bodies, err := t.strings(ctx, `SELECT body FROM creation_templates WHERE prefix > ? ORDER BY prefix LIMIT ?`, p.After, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out := make([]berth.CreationTemplate, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal([]byte(b), &out[i]); err != nil {
			return nil, "", err
		}
	}
	next := ""
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1].Prefix
	}
	return out, next, nil
}

// DeleteTemplate implements berth.TemplateTx.
func (t *Tx) DeleteTemplate(ctx context.Context, prefix string) error {
	return t.execOne(ctx, "template", prefix, `DELETE FROM creation_templates WHERE prefix = ?`, prefix)
}
