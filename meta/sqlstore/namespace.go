package sqlstore

import (
	"context"
	"strings"

	"github.com/berth-registry/berth"
)

// Namespaces keep sets of repositories apart in one database: the private
// registry's (the default namespace) and the public registry's, where the
// same name may name another repository. Blobs, uploads' bytes and IAM are
// shared. A repository of a namespace is stored under its name with the
// namespace's prefix, which no repository name can begin with ('~' is not
// in the names ECR allows, and sorts after every character that is), so
// the default namespace's names are those below "~".

// Namespace returns the store as seen from a namespace ("" is the default
// one). Closing it closes nothing: the store does.
func (s *Store) Namespace(ns string) berth.MetaStore {
	if ns == "" {
		return s
	}
	return &nsStore{Store: s, prefix: "~" + ns + ":"}
}

type nsStore struct {
	*Store
	prefix string
}

// View implements berth.MetaStore.
func (n *nsStore) View(ctx context.Context, fn func(berth.MetaTx) error) error {
	return n.Store.View(ctx, n.in(fn))
}

// Update implements berth.MetaStore.
func (n *nsStore) Update(ctx context.Context, fn func(berth.MetaTx) error) error {
	return n.Store.Update(ctx, n.in(fn))
}

// Close implements berth.MetaStore: the namespace's store closes nothing.
func (n *nsStore) Close() error { return nil }

// in runs fn with the transaction in the namespace (and back in its own
// after, as one transaction may carry several Updates of a group commit).
func (n *nsStore) in(fn func(berth.MetaTx) error) func(berth.MetaTx) error {
	return func(tx berth.MetaTx) error {
		t := tx.(*Tx)
		old := t.ns
		t.ns = n.prefix
		defer func() { t.ns = old }()
		return fn(t)
	}
}

// stored is the name a repository of the transaction's namespace is stored
// under; visible the reverse.
func (t *Tx) stored(name string) string { return t.ns + name }

func (t *Tx) visible(stored string) string { return strings.TrimPrefix(stored, t.ns) }

// nameRange bounds, for a listing after a visible name, the stored names of
// the namespace: (lo, hi).
func (t *Tx) nameRange(after string) (lo, hi string) {
	if t.ns == "" {
		return after, "~"
	}
	return t.ns + after, t.ns[:len(t.ns)-1] + ";" // ';' follows ':'
}
