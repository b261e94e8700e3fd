package metatest

import (
	"testing"

	"github.com/berth-registry/berth"
)

// testNamespaces: the same repository name in two namespaces names two
// repositories, each listed, read, changed and deleted apart; blobs stay
// one registry-wide record.
func testNamespaces(t *testing.T, s berth.MetaStore) {
	ns, ok := s.(berth.Namespaces)
	if !ok {
		t.Skip("the store keeps no namespaces")
	}
	pub := ns.Namespace("public")
	d := digest(7)
	for _, st := range []berth.MetaStore{s, pub} {
		update(t, st, func(tx berth.MetaTx) error {
			for _, n := range []string{"app", "zzz"} {
				if err := tx.CreateRepository(ctx, repo(n)); err != nil {
					return err
				}
			}
			return storeBlob(tx, "app", d, 3)
		})
	}
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("private-only")) })
	wantCode(t, pub.Update(ctx, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("app")) }), berth.EConflict)
	update(t, pub, func(tx berth.MetaTx) error {
		m := mkManifest("app", 1, []string{d}, nil, "")
		if err := tx.PutManifest(ctx, m); err != nil {
			return err
		}
		if err := tx.PutTag(ctx, "app", "v1", m.Digest, t0); err != nil {
			return err
		}
		if err := tx.SetCatalogData(ctx, "app", `{"description":"d"}`); err != nil {
			return err
		}
		return tx.SetRepositoryPolicy(ctx, "app", `{"public":1}`)
	})
	view(t, pub, func(tx berth.MetaTx) error {
		if got, err := tx.GetCatalogData(ctx, "app"); err != nil || got != `{"description":"d"}` {
			t.Errorf("GetCatalogData %q, %v", got, err)
		}
		if _, err := tx.GetCatalogData(ctx, "private-only"); !berth.IsCode(err, berth.ENotFound) {
			t.Errorf("GetCatalogData of a repository of the other namespace: %v", err)
		}
		return nil
	})
	view(t, s, func(tx berth.MetaTx) error {
		if got, err := tx.GetCatalogData(ctx, "app"); err != nil || got != "" {
			t.Errorf("the private app's catalog data %q, %v", got, err)
		}
		return nil
	})
	names := func(st berth.MetaStore) []string {
		var out []string
		view(t, st, func(tx berth.MetaTx) error {
			after := ""
			for {
				rs, next, err := tx.ListRepositories(ctx, berth.Page{Limit: 1, After: after})
				if err != nil {
					return err
				}
				for _, r := range rs {
					out = append(out, r.Name)
				}
				if next == "" {
					return nil
				}
				after = next
			}
		})
		return out
	}
	if got := names(s); len(got) != 3 || got[0] != "app" || got[1] != "private-only" || got[2] != "zzz" {
		t.Errorf("the default namespace lists %v", got)
	}
	if got := names(pub); len(got) != 2 || got[0] != "app" || got[1] != "zzz" {
		t.Errorf("the public namespace lists %v", got)
	}
	view(t, s, func(tx berth.MetaTx) error {
		if _, err := tx.GetTag(ctx, "app", "v1"); !berth.IsCode(err, berth.ENotFound) {
			t.Errorf("the private app has the public app's tag: %v", err)
		}
		p, err := tx.GetRepositoryPolicy(ctx, "app")
		if err != nil || p != "" {
			t.Errorf("the private app's policy %q, %v", p, err)
		}
		used, err := tx.BlobInUse(ctx, d)
		if err != nil || !used {
			t.Errorf("BlobInUse sees no use of the blob a public manifest references: %v %v", used, err)
		}
		return nil
	})
	view(t, pub, func(tx berth.MetaTx) error {
		r, err := tx.GetRepository(ctx, "app")
		if err != nil || r.Name != "app" {
			t.Errorf("the public app: %+v, %v", r, err)
		}
		if _, err := tx.GetTaggedManifest(ctx, "app", "v1"); err != nil {
			t.Errorf("the public app's tag: %v", err)
		}
		if _, err := tx.GetRepository(ctx, "private-only"); !berth.IsCode(err, berth.ENotFound) {
			t.Errorf("the public namespace sees private-only: %v", err)
		}
		return nil
	})
	// A manifest looked up in one namespace is not the other's (the
	// stores that cache lookups key them by namespace too).
	view(t, s, func(tx berth.MetaTx) error {
		if _, err := tx.GetTaggedManifest(ctx, "app", "v1"); !berth.IsCode(err, berth.ENotFound) {
			t.Errorf("the private app answers the public tag: %v", err)
		}
		return nil
	})
	update(t, pub, func(tx berth.MetaTx) error { return tx.DeleteRepository(ctx, "app") })
	view(t, s, func(tx berth.MetaTx) error {
		if _, err := tx.GetBlob(ctx, "app", d); err != nil {
			t.Errorf("deleting the public app took the private app's blob link: %v", err)
		}
		return nil
	})
	if got := names(pub); len(got) != 1 || got[0] != "zzz" {
		t.Errorf("after the delete the public namespace lists %v", got)
	}
}
