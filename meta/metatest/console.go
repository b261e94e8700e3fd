package metatest

import (
	"fmt"
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

func session(id string, seen, expires time.Time) *berth.ConsoleSession {
	return &berth.ConsoleSession{ID: id, Principal: "arn:aws:iam::111122223333:user/ci", KeyID: "AKIA1", Created: t0, Seen: seen, Expires: expires}
}

// sessionID is a session id as the console makes them: a token's hex SHA-256.
func sessionID(i int) string { return fmt.Sprintf("%064x", i) }

func sameSession(a, b *berth.ConsoleSession) bool {
	return a.ID == b.ID && a.Principal == b.Principal && a.Role == b.Role && a.KeyID == b.KeyID &&
		a.Created.Equal(b.Created) && a.Seen.Equal(b.Seen) && a.Expires.Equal(b.Expires)
}

// testConsoleSessions: sessions by id, replaced whole, and swept once idle
// or past their lifetime.
func testConsoleSessions(t *testing.T, s berth.MetaStore) {
	// Nanoseconds, which the store keeps: a store that rounded would fail.
	s1 := session(sessionID(1), t0.Add(time.Minute+7), t0.Add(12*time.Hour+9))
	s1.Role = "arn:aws:iam::111122223333:role/admin"
	update(t, s, func(tx berth.MetaTx) error { return tx.PutConsoleSession(ctx, s1) })
	get := func(st berth.MetaStore, id string) (*berth.ConsoleSession, error) {
		var got *berth.ConsoleSession
		err := st.View(ctx, func(tx berth.MetaTx) (err error) {
			got, err = tx.GetConsoleSession(ctx, id)
			return err
		})
		return got, err
	}
	if got, err := get(s, s1.ID); err != nil || !sameSession(got, s1) {
		t.Fatalf("GetConsoleSession: %+v, %v; want %+v", got, err, s1)
	}
	// Sessions are registry-wide: a namespace sees the same ones.
	if ns, ok := s.(berth.Namespaces); ok {
		if got, err := get(ns.Namespace("public"), s1.ID); err != nil || !sameSession(got, s1) {
			t.Errorf("GetConsoleSession in the public namespace: %+v, %v", got, err)
		}
	}
	s2 := *s1
	s2.Seen, s2.Role, s2.KeyID = t0.Add(time.Hour), "", "ASIA2"
	update(t, s, func(tx berth.MetaTx) error { return tx.PutConsoleSession(ctx, &s2) })
	if got, err := get(s, s1.ID); err != nil || !sameSession(got, &s2) {
		t.Errorf("after the replace: %+v, %v; want %+v", got, err, s2)
	}
	if _, err := get(s, sessionID(2)); !berth.IsCode(err, berth.ENotFound) {
		t.Errorf("GetConsoleSession of a missing session: %v, want ENotFound", err)
	}
	if err := s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteConsoleSession(ctx, sessionID(2)) }); !berth.IsCode(err, berth.ENotFound) {
		t.Errorf("DeleteConsoleSession of a missing session: %v, want ENotFound", err)
	}
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteConsoleSession(ctx, s1.ID) })
	if _, err := get(s, s1.ID); !berth.IsCode(err, berth.ENotFound) {
		t.Errorf("GetConsoleSession after the delete: %v, want ENotFound", err)
	}

	// The sweep: idle is seen before t0+30m, expired is expiring at or
	// before t0+90m.
	idleSince, at := t0.Add(30*time.Minute), t0.Add(90*time.Minute)
	later, lifetime := t0.Add(2*time.Hour), t0.Add(12*time.Hour)
	sessions := map[string]*berth.ConsoleSession{
		"idle":          session(sessionID(10), t0, lifetime),
		"idle too":      session(sessionID(11), idleSince.Add(-1), lifetime),
		"expired":       session(sessionID(12), later, t0.Add(time.Hour)),
		"expiring at t": session(sessionID(13), later, at),
		"seen at idle":  session(sessionID(14), idleSince, lifetime),
		"live":          session(sessionID(15), later, at.Add(1)),
	}
	gone := []string{"idle", "idle too", "expired", "expiring at t"}
	kept := []string{"seen at idle", "live"}
	update(t, s, func(tx berth.MetaTx) error {
		for _, x := range sessions {
			if err := tx.PutConsoleSession(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	sweep := func(limit int) int {
		var n int
		update(t, s, func(tx berth.MetaTx) (err error) {
			n, err = tx.DeleteConsoleSessionsBefore(ctx, idleSince, at, limit)
			return err
		})
		return n
	}
	left := func(names []string) int {
		n := 0
		for _, name := range names {
			_, err := get(s, sessions[name].ID)
			switch {
			case err == nil:
				n++
			case !berth.IsCode(err, berth.ENotFound):
				t.Fatal(err)
			}
		}
		return n
	}
	if n := sweep(3); n != 3 {
		t.Errorf("the first sweep, limit 3, deleted %d", n)
	}
	if n := left(gone); n != 1 {
		t.Errorf("after a sweep of 3, %d of the 4 ended sessions are left, want 1", n)
	}
	if n := sweep(3); n != 1 {
		t.Errorf("the second sweep deleted %d, want the 1 ended session left", n)
	}
	if n := sweep(3); n != 0 {
		t.Errorf("the third sweep deleted %d, want 0", n)
	}
	if n := left(gone); n != 0 {
		t.Errorf("%d ended sessions survived the sweeps", n)
	}
	for _, name := range kept {
		if got, err := get(s, sessions[name].ID); err != nil || !sameSession(got, sessions[name]) {
			t.Errorf("the %s session after the sweeps: %+v, %v", name, got, err)
		}
	}
}

// testRepositoryUsage: images and bytes per repository, each blob a
// repository holds counted once (manifests, kept in the metadata store,
// are not its stored bytes); names are a namespace's own.
func testRepositoryUsage(t *testing.T, s berth.MetaStore) {
	manifest := func(repoName string, i int, blobs ...string) *berth.Manifest {
		m := mkManifest(repoName, i, blobs, nil, "")
		m.Bytes = []byte(fmt.Sprintf(`{"n":%d,"note":"héllo ✓"}`, i))
		m.Size = 1 << 40 // ECR's image size, which is not what usage counts
		return m
	}
	d1, d2, d3 := digest(1), digest(2), digest(3)
	a1, a2, b1 := manifest("a", 11, d1, d2), manifest("a", 12, d1), manifest("b", 13, d1, d3)
	update(t, s, func(tx berth.MetaTx) error {
		for _, r := range []string{"a", "b", "empty"} {
			if err := tx.CreateRepository(ctx, repo(r)); err != nil {
				return err
			}
		}
		for _, b := range []struct {
			repo, digest string
			size         int64
		}{{"a", d1, 100}, {"a", d2, 20}, {"b", d1, 100}, {"b", d3, 7}} {
			if err := storeBlob(tx, b.repo, b.digest, b.size); err != nil {
				return err
			}
		}
		for _, m := range []*berth.Manifest{a1, a2, b1} {
			if err := tx.PutManifest(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	usage := func(st berth.MetaStore, names ...string) map[string]berth.RepositoryUsage {
		var got map[string]berth.RepositoryUsage
		view(t, st, func(tx berth.MetaTx) (err error) {
			got, err = tx.RepositoryUsage(ctx, names)
			return err
		})
		return got
	}
	want := map[string]berth.RepositoryUsage{
		// d1 is in both of a's images: once.
		"a":     {Images: 2, Bytes: 100 + 20},
		"b":     {Images: 1, Bytes: 100 + 7},
		"empty": {},
	}
	check := func(what string, got, want map[string]berth.RepositoryUsage) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for name, w := range want {
			if g, ok := got[name]; !ok || g != w {
				t.Errorf("%s: %s is %+v (present %v), want %+v", what, name, g, ok, w)
			}
		}
	}
	check("a, b, empty, missing", usage(s, "a", "b", "empty", "missing", "a"), want)
	if got := usage(s); got == nil || len(got) != 0 {
		t.Errorf("the usage of no repositories: %#v, want an empty map", got)
	}
	// More names than a store may ask about at once.
	many := []string{"b"}
	for i := 0; i < 1000; i++ {
		many = append(many, fmt.Sprintf("missing-%d", i))
	}
	check("many names", usage(s, append(many, "a")...), map[string]berth.RepositoryUsage{"a": want["a"], "b": want["b"]})

	ns, ok := s.(berth.Namespaces)
	if !ok {
		return
	}
	pub := ns.Namespace("public")
	p1 := manifest("a", 21, d2)
	update(t, pub, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("a")); err != nil {
			return err
		}
		if err := storeBlob(tx, "a", d2, 20); err != nil {
			return err
		}
		return tx.PutManifest(ctx, p1)
	})
	check("the public namespace", usage(pub, "a", "b", "empty"), map[string]berth.RepositoryUsage{"a": {Images: 1, Bytes: 20}})
	check("the default namespace, once public a exists", usage(s, "a", "b", "empty"), want)
}
