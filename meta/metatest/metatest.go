// Package metatest is the conformance suite every MetaStore must pass:
// each port method's contract, including its error codes, pagination
// order and the atomicity of Update.
package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

var ctx = context.Background()

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) berth.MetaStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, berth.MetaStore)
	}{
		{"Repositories", testRepositories},
		{"RepositoryPages", testRepositoryPages},
		{"Manifests", testManifests},
		{"Tags", testTags},
		{"ImageLists", testImageLists},
		{"Blobs", testBlobs},
		{"BlobObjects", testBlobObjects},
		{"DeletionQueue", testDeletionQueue},
		{"StaleUploads", testStaleUploads},
		{"ImageStorage", testImageStorage},
		{"Uploads", testUploads},
		{"Templates", testTemplates},
		{"Principals", testPrincipals},
		{"AccessKeys", testAccessKeys},
		{"IdentityPolicies", testIdentityPolicies},
		{"ResourcePolicies", testResourcePolicies},
		{"ConsoleSessions", testConsoleSessions},
		{"RepositoryUsage", testRepositoryUsage},
		{"Namespaces", testNamespaces},
		{"DeleteRepositoryCascades", testDeleteCascades},
		{"UpdateIsAtomic", testUpdateAtomic},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"RaceNewTag", testRaceNewTag},
		{"RaceNewManifest", testRaceNewManifest},
		{"RaceReferenceDelete", testRaceReferenceDelete},
		{"RaceCollectReference", testRaceCollectReference},
		{"RaceEmptyDelete", testRaceEmptyDelete},
		{"RaceTagDelete", testRaceTagDelete},
		{"DeferredSync", testDeferredSync},
		{"ReadsApart", testReadsApart},
		{"ReadsApartSeeCommits", testReadsApartSeeCommits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func update(t *testing.T, s berth.MetaStore, fn func(berth.MetaTx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s berth.MetaStore, fn func(berth.MetaTx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code berth.Code) {
	t.Helper()
	if berth.ErrorCode(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)

func repo(name string) *berth.Repository {
	return &berth.Repository{Name: name, CreatedAt: t0, TagMutability: berth.Mutable, EncryptionType: "AES256"}
}

func digest(i int) string { return fmt.Sprintf("sha256:%064x", i) }

func mkManifest(repoName string, i int, blobs []string, children []string, subject string) *berth.Manifest {
	m := &berth.Manifest{Repository: repoName, Digest: digest(i), MediaType: "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.oci.image.config.v1+json", Subject: subject, Bytes: []byte(fmt.Sprintf(`{"n":%d}`, i)), Size: int64(i), PushedAt: t0}
	for _, b := range blobs {
		m.Blobs = append(m.Blobs, berth.BlobRef{Digest: b, Size: 1, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip"})
	}
	m.Children = children
	return m
}

func testRepositories(t *testing.T, s berth.MetaStore) {
	r := repo("team/app")
	r.TagMutability, r.TagMutabilityExclusions = berth.ImmutableWithExclusion, []string{"dev-*"}
	r.ScanOnPush, r.EncryptionType, r.KMSKey = true, "KMS", "key"
	r.Tags = []berth.ResourceTag{{Key: "a", Value: "1"}}
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, r) })
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("team/app")) }), berth.EConflict)
	view(t, s, func(tx berth.MetaTx) error {
		got, err := tx.GetRepository(ctx, "team/app")
		if err != nil {
			return err
		}
		if got.Name != r.Name || !got.CreatedAt.Equal(t0) || got.TagMutability != r.TagMutability || !slices.Equal(got.TagMutabilityExclusions, r.TagMutabilityExclusions) ||
			!got.ScanOnPush || got.EncryptionType != "KMS" || got.KMSKey != "key" || !slices.Equal(got.Tags, r.Tags) {
			t.Errorf("round trip: %+v", got)
		}
		_, err = tx.GetRepository(ctx, "absent")
		wantCode(t, err, berth.ENotFound)
		return nil
	})
	r.TagMutability, r.TagMutabilityExclusions, r.Tags = berth.Mutable, nil, nil
	update(t, s, func(tx berth.MetaTx) error { return tx.UpdateRepository(ctx, r) })
	view(t, s, func(tx berth.MetaTx) error {
		got, _ := tx.GetRepository(ctx, "team/app")
		if got.TagMutability != berth.Mutable || got.TagMutabilityExclusions != nil || got.Tags != nil {
			t.Errorf("after update: %+v", got)
		}
		return nil
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateRepository(ctx, repo("absent")) }), berth.ENotFound)
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteRepository(ctx, "absent") }), berth.ENotFound)
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteRepository(ctx, "team/app") })
	wantCode(t, s.View(ctx, func(tx berth.MetaTx) error { _, err := tx.GetRepository(ctx, "team/app"); return err }), berth.ENotFound)
}

func testRepositoryPages(t *testing.T, s berth.MetaStore) {
	// Byte order, whatever the database's collation: "B" < "a" < "a-b" < "a/b" < "a_b".
	names := []string{"a_b", "a/b", "a-b", "ab", "a1", "zz", "a.b"}
	update(t, s, func(tx berth.MetaTx) error {
		for _, n := range names {
			if err := tx.CreateRepository(ctx, repo(n)); err != nil {
				return err
			}
		}
		return nil
	})
	want := slices.Sorted(slices.Values(names))
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		var page []berth.Repository
		var next string
		view(t, s, func(tx berth.MetaTx) (err error) {
			page, next, err = tx.ListRepositories(ctx, berth.Page{After: after, Limit: 3})
			return err
		})
		for _, r := range page {
			got = append(got, r.Name)
		}
		if next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	view(t, s, func(tx berth.MetaTx) error {
		n, err := tx.CountManifests(ctx, "zz")
		if err != nil || n != 0 {
			t.Errorf("count %d %v", n, err)
		}
		return nil
	})
}

func testManifests(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	child := mkManifest("r", 1, []string{digest(100), digest(101)}, nil, "")
	index := mkManifest("r", 2, nil, []string{digest(1)}, "")
	ref := mkManifest("r", 3, nil, nil, digest(1))
	update(t, s, func(tx berth.MetaTx) error {
		for _, m := range []*berth.Manifest{child, index, ref} {
			if err := tx.PutManifest(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.PutManifest(ctx, child) }), berth.EConflict)
	view(t, s, func(tx berth.MetaTx) error {
		got, err := tx.GetManifest(ctx, "r", digest(1))
		if err != nil {
			return err
		}
		if string(got.Bytes) != string(child.Bytes) || got.MediaType != child.MediaType || got.Size != 1 || !got.PushedAt.Equal(t0) || !got.LastPulledAt.IsZero() {
			t.Errorf("round trip %+v", got)
		}
		_, err = tx.GetManifest(ctx, "r", digest(9))
		wantCode(t, err, berth.ENotFound)
		parents, err := tx.ManifestParents(ctx, "r", digest(1))
		if err != nil || !slices.Equal(parents, []string{digest(2)}) {
			t.Errorf("parents %v %v", parents, err)
		}
		refs, err := tx.ListReferrers(ctx, "r", digest(1))
		if err != nil || len(refs) != 1 || refs[0].Digest != digest(3) {
			t.Errorf("referrers %v %v", refs, err)
		}
		used, err := tx.BlobReferenced(ctx, "r", digest(100))
		if err != nil || !used {
			t.Errorf("blob referenced %v %v", used, err)
		}
		used, _ = tx.BlobReferenced(ctx, "r", digest(102))
		if used {
			t.Error("unreferenced blob reported referenced")
		}
		return nil
	})
	pulled := t0.Add(time.Hour)
	update(t, s, func(tx berth.MetaTx) error { return tx.TouchPulled(ctx, "r", digest(1), pulled) })
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteManifest(ctx, "r", digest(2)) })
	view(t, s, func(tx berth.MetaTx) error {
		got, _ := tx.GetManifest(ctx, "r", digest(1))
		if !got.LastPulledAt.Equal(pulled) {
			t.Errorf("pulled at %v", got.LastPulledAt)
		}
		parents, _ := tx.ManifestParents(ctx, "r", digest(1))
		if len(parents) != 0 {
			t.Errorf("parents after the index went: %v", parents)
		}
		return nil
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteManifest(ctx, "r", digest(2)) }), berth.ENotFound)
}

func testTags(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		for i := 1; i <= 2; i++ {
			if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
				return err
			}
		}
		for _, tag := range []string{"b", "a", "B", "a-1", "a_1", "a.1"} {
			if err := tx.PutTag(ctx, "r", tag, digest(1), t0); err != nil {
				return err
			}
		}
		return tx.PutTag(ctx, "r", "a", digest(2), t0) // move
	})
	view(t, s, func(tx berth.MetaTx) error {
		d, err := tx.GetTag(ctx, "r", "a")
		if err != nil || d != digest(2) {
			t.Errorf("moved tag -> %s %v", d, err)
		}
		_, err = tx.GetTag(ctx, "r", "zz")
		wantCode(t, err, berth.ENotFound)
		tags, _ := tx.TagsOf(ctx, "r", digest(1))
		if !slices.Equal(tags, []string{"B", "a-1", "a.1", "a_1", "b"}) {
			t.Errorf("tags of 1: %v", tags)
		}
		page, next, err := tx.ListTags(ctx, "r", berth.Page{Limit: 4})
		if err != nil || !slices.Equal(page, []string{"B", "a", "a-1", "a.1"}) || next != "a.1" {
			t.Errorf("tags page 1: %v %q %v", page, next, err)
		}
		page, next, _ = tx.ListTags(ctx, "r", berth.Page{After: "a.1", Limit: 4})
		if !slices.Equal(page, []string{"a_1", "b"}) || next != "" {
			t.Errorf("tags page 2: %v %q", page, next)
		}
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteTag(ctx, "r", "b") })
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteTag(ctx, "r", "b") }), berth.ENotFound)
	// Deleting a manifest takes its tags with it.
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteManifest(ctx, "r", digest(1)) })
	view(t, s, func(tx berth.MetaTx) error {
		tags, _, _ := tx.ListTags(ctx, "r", berth.Page{Limit: 100})
		if !slices.Equal(tags, []string{"a"}) {
			t.Errorf("tags after delete: %v", tags)
		}
		return nil
	})
}

func testImageLists(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		for i := 1; i <= 5; i++ {
			if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
				return err
			}
		}
		for _, p := range [][2]string{{"x", digest(1)}, {"y", digest(1)}, {"z", digest(3)}} {
			if err := tx.PutTag(ctx, "r", p[0], p[1], t0); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx berth.MetaTx) error {
		imgs, next, err := tx.ListImages(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusAny}, berth.Page{Limit: 2})
		if err != nil || len(imgs) != 2 || imgs[0].Digest != digest(1) || !slices.Equal(imgs[0].Tags, []string{"x", "y"}) || imgs[1].Tags != nil || next != digest(2) {
			t.Errorf("images page: %+v %q %v", imgs, next, err)
		}
		imgs, _, _ = tx.ListImages(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusTagged}, berth.Page{Limit: 10})
		if len(imgs) != 2 {
			t.Errorf("tagged: %d", len(imgs))
		}
		imgs, _, _ = tx.ListImages(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusUntagged}, berth.Page{After: digest(2), Limit: 10})
		if len(imgs) != 2 || imgs[0].Digest != digest(4) {
			t.Errorf("untagged after 2: %+v", imgs)
		}
		var all []berth.ImageRef
		after := ""
		for {
			refs, next, err := tx.ListImageRefs(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusAny}, berth.Page{After: after, Limit: 2})
			if err != nil {
				return err
			}
			all = append(all, refs...)
			if next == "" {
				break
			}
			after = next
		}
		ref := func(d int, tag string) berth.ImageRef { return berth.ImageRef{Digest: digest(d), Tag: tag} }
		want := []berth.ImageRef{ref(1, "x"), ref(1, "y"), ref(2, ""), ref(3, "z"), ref(4, ""), ref(5, "")}
		if !slices.Equal(all, want) {
			t.Errorf("refs %v", all)
		}
		refs, _, _ := tx.ListImageRefs(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusTagged}, berth.Page{Limit: 10})
		if len(refs) != 3 {
			t.Errorf("tagged refs %v", refs)
		}
		refs, _, _ = tx.ListImageRefs(ctx, "r", berth.ImageFilter{Tags: berth.TagStatusUntagged}, berth.Page{Limit: 10})
		if len(refs) != 3 || refs[0].Tag != "" {
			t.Errorf("untagged refs %v", refs)
		}
		n, _ := tx.CountManifests(ctx, "r")
		if n != 5 {
			t.Errorf("count %d", n)
		}
		return nil
	})
}

func testBlobs(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		if err := storeBlob(tx, "r", digest(1), 10); err != nil {
			return err
		}
		return tx.PutBlob(ctx, "r", berth.Blob{Digest: digest(1), Size: 10}, t0) // idempotent
	})
	update(t, s, func(tx berth.MetaTx) error {
		return tx.PutManifest(ctx, mkManifest("r", 5, []string{digest(1)}, nil, ""))
	})
	// In a transaction, and read apart (a blob GET's one statement).
	for _, c := range []context.Context{ctx, berth.ReadsApart(ctx)} {
		err := s.View(c, func(tx berth.MetaTx) error {
			b, err := tx.GetBlob(ctx, "r", digest(1))
			if err != nil || b.Size != 10 || b.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" || b.Key == "" {
				t.Errorf("blob %+v %v", b, err)
			}
			_, err = tx.GetBlob(ctx, "r", digest(2))
			wantCode(t, err, berth.ENotFound)
			_, err = tx.GetBlob(ctx, "absent", digest(1))
			wantCode(t, err, berth.ENotFound)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteBlob(ctx, "r", digest(1)) })
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteBlob(ctx, "r", digest(1)) }), berth.ENotFound)
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.PutBlob(ctx, "absent", berth.Blob{Digest: digest(1)}, t0) }), berth.ENotFound)
}

func testUploads(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	u := &berth.Upload{ID: "11111111-2222-3333-4444-555555555555", Repository: "r", CreatedAt: t0, HashState: []byte{1, 2, 3}}
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateUpload(ctx, u) })
	next := *u
	next.Size, next.Parts, next.LastPartSize, next.SmallPart, next.BackendState, next.HashState = 7, 1, 7, true, `{"parts":[1]}`, []byte{4, 5}
	update(t, s, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, &next, 0) })
	// A writer that read the old size loses.
	stale := next
	stale.Size = 9
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, &stale, 0) }), berth.EConflict)
	view(t, s, func(tx berth.MetaTx) error {
		got, err := tx.GetUpload(ctx, "r", u.ID)
		if err != nil || got.Size != 7 || got.Parts != 1 || !got.SmallPart || got.BackendState != next.BackendState || string(got.HashState) != string(next.HashState) || !got.CreatedAt.Equal(t0) {
			t.Errorf("upload %+v %v", got, err)
		}
		_, err = tx.GetUpload(ctx, "other", u.ID)
		wantCode(t, err, berth.ENotFound)
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteUpload(ctx, u.ID) })
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteUpload(ctx, u.ID) }), berth.ENotFound)
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, &next, 7) }), berth.ENotFound)
}

func testTemplates(t *testing.T, s berth.MetaStore) {
	tm := &berth.CreationTemplate{Prefix: "ROOT", AppliedFor: []string{berth.AppliedForCreateOnPush}, TagMutability: berth.Immutable, CreatedAt: t0, UpdatedAt: t0,
		ResourceTags: []berth.ResourceTag{{Key: "k", Value: "v"}}}
	update(t, s, func(tx berth.MetaTx) error {
		for _, p := range []string{"b", "a/b", "a"} {
			if err := tx.CreateTemplate(ctx, &berth.CreationTemplate{Prefix: p}); err != nil {
				return err
			}
		}
		return tx.CreateTemplate(ctx, tm)
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.CreateTemplate(ctx, tm) }), berth.EConflict)
	tm.Description = "changed"
	update(t, s, func(tx berth.MetaTx) error { return tx.UpdateTemplate(ctx, tm) })
	view(t, s, func(tx berth.MetaTx) error {
		got, err := tx.GetTemplate(ctx, "ROOT")
		if err != nil || got.Description != "changed" || got.TagMutability != berth.Immutable || !got.CreatedAt.Equal(t0) || len(got.ResourceTags) != 1 {
			t.Errorf("template %+v %v", got, err)
		}
		all, next, _ := tx.ListTemplates(ctx, berth.Page{Limit: 3})
		if len(all) != 3 || all[0].Prefix != "ROOT" || all[1].Prefix != "a" || next != "a/b" {
			t.Errorf("list %+v %q", all, next)
		}
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteTemplate(ctx, "a") })
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteTemplate(ctx, "a") }), berth.ENotFound)
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateTemplate(ctx, &berth.CreationTemplate{Prefix: "a"}) }), berth.ENotFound)
}

func testDeleteCascades(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		storeBlob(tx, "r", digest(9), 1)
		tx.PutManifest(ctx, mkManifest("r", 1, []string{digest(9)}, nil, ""))
		tx.PutTag(ctx, "r", "v1", digest(1), t0)
		return tx.CreateUpload(ctx, &berth.Upload{ID: "u1", Repository: "r", CreatedAt: t0})
	})
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteRepository(ctx, "r") })
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	view(t, s, func(tx berth.MetaTx) error {
		if _, err := tx.GetManifest(ctx, "r", digest(1)); !berth.IsCode(err, berth.ENotFound) {
			t.Error("manifest survived its repository")
		}
		if _, err := tx.GetTag(ctx, "r", "v1"); !berth.IsCode(err, berth.ENotFound) {
			t.Error("tag survived its repository")
		}
		if _, err := tx.GetBlob(ctx, "r", digest(9)); !berth.IsCode(err, berth.ENotFound) {
			t.Error("blob link survived its repository")
		}
		if _, err := tx.GetUpload(ctx, "r", "u1"); !berth.IsCode(err, berth.ENotFound) {
			t.Error("upload survived its repository")
		}
		return nil
	})
}

func testUpdateAtomic(t *testing.T, s berth.MetaStore) {
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v", err)
	}
	wantCode(t, s.View(ctx, func(tx berth.MetaTx) error { _, err := tx.GetRepository(ctx, "r"); return err }), berth.ENotFound)
}

// testConcurrentUpdates runs read-modify-write transactions on one row
// from many goroutines: none may be lost, and those that fail after
// writing leave nothing behind, whatever they were committed with, and
// whether or not they deferred their sync.
func testConcurrentUpdates(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("counter")) })
	const n = 20
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := ctx
			if i%3 == 0 {
				c = berth.DeferSync(ctx)
			}
			err := s.Update(c, func(tx berth.MetaTx) error {
				r, err := tx.LockRepository(ctx, "counter")
				if err != nil {
					return err
				}
				r.Tags = append(r.Tags, berth.ResourceTag{Key: fmt.Sprint(i), Value: "x"})
				if err := tx.UpdateRepository(ctx, r); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
			if i%2 == 1 && errors.Is(err, boom) {
				err = nil
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	view(t, s, func(tx berth.MetaTx) error {
		r, _ := tx.GetRepository(ctx, "counter")
		if len(r.Tags) != n {
			t.Errorf("%d of %d updates kept", len(r.Tags), n)
		}
		return nil
	})
}

// testDeferredSync: an Update that defers its sync commits like any other
// (visible at once, nothing of it kept when it fails), and durable ones
// after it still commit.
func testDeferredSync(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	lazy := berth.DeferSync(ctx)
	u := &berth.Upload{ID: "11111111-2222-3333-4444-555555555555", Repository: "r", CreatedAt: t0, HashState: []byte{1}}
	if err := s.Update(lazy, func(tx berth.MetaTx) error { return tx.CreateUpload(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.Update(lazy, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("gone")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed deferred Update returned %v", err)
	}
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("durable")) })
	view(t, s, func(tx berth.MetaTx) error {
		if got, err := tx.GetUpload(ctx, "r", u.ID); err != nil || got.ID != u.ID {
			t.Errorf("deferred upload: %+v %v", got, err)
		}
		_, err := tx.GetRepository(ctx, "gone")
		wantCode(t, err, berth.ENotFound)
		_, err = tx.GetRepository(ctx, "durable")
		return err
	})
}

// testReadsApart: a View whose reads stand apart reads what is committed,
// again and again (its statements reuse what the store prepared), and
// cannot write.
func testReadsApart(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	m := mkManifest("r", 1, nil, nil, "")
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.PutManifest(ctx, m); err != nil {
			return err
		}
		return tx.PutTag(ctx, "r", "latest", m.Digest, t0)
	})
	apart := berth.ReadsApart(ctx)
	for i := 0; i < 3; i++ {
		err := s.View(apart, func(tx berth.MetaTx) error {
			got, err := tx.GetTaggedManifest(ctx, "r", "latest")
			if err != nil {
				return err
			}
			if got.Digest != m.Digest {
				t.Errorf("tagged manifest %s, want %s", got.Digest, m.Digest)
			}
			_, err = tx.GetTaggedManifest(ctx, "r", "absent")
			wantCode(t, err, berth.ENotFound)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.View(apart, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("w")) })
	if err == nil {
		t.Fatal("a write in a View whose reads stand apart succeeded")
	}
	wantCode(t, s.View(ctx, func(tx berth.MetaTx) error { _, err := tx.GetRepository(ctx, "w"); return err }), berth.ENotFound)
}

// testReadsApartSeeCommits: a lookup that starts after an Update returned
// sees that Update, whatever a store keeps in memory: a tag moved, a
// manifest deleted, a pull time recorded, while readers keep asking.
func testReadsApartSeeCommits(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("r")) })
	const n = 60
	update(t, s, func(tx berth.MetaTx) error {
		for i := 1; i <= n; i++ {
			if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
				return err
			}
		}
		if err := tx.TouchPulled(ctx, "r", digest(1), t0.Add(time.Second)); err != nil {
			return err
		}
		return tx.PutTag(ctx, "r", "moving", digest(1), t0)
	})
	apart := berth.ReadsApart(ctx)
	var committed atomic.Int64 // the last i whose Updates have returned
	committed.Store(1)
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				want := committed.Load()
				err := s.View(apart, func(tx berth.MetaTx) error {
					m, err := tx.GetTaggedManifest(ctx, "r", "moving")
					if err != nil {
						return err
					}
					if m.Size < want {
						return fmt.Errorf("tag read as %s after the Update moving it to %s returned", m.Digest, digest(int(want)))
					}
					if pulled := t0.Add(time.Duration(m.Size) * time.Second); !m.LastPulledAt.Equal(pulled) {
						return fmt.Errorf("manifest %s read with pull time %v, not the %v recorded with its tag", m.Digest, m.LastPulledAt, pulled)
					}
					if _, err := tx.GetManifest(ctx, "r", digest(int(want)-1)); want > 1 && !berth.IsCode(err, berth.ENotFound) {
						return fmt.Errorf("manifest %s read after the Update deleting it returned (%v)", digest(int(want)-1), err)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 2; i <= n; i++ {
		update(t, s, func(tx berth.MetaTx) error {
			if err := tx.TouchPulled(ctx, "r", digest(i), t0.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
			return tx.PutTag(ctx, "r", "moving", digest(i), t0)
		})
		update(t, s, func(tx berth.MetaTx) error { return tx.DeleteManifest(ctx, "r", digest(i-1)) })
		committed.Store(int64(i))
		select {
		case err := <-errs:
			close(stop)
			wg.Wait()
			t.Fatal(err)
		case <-time.After(2 * time.Millisecond): // let the readers read between commits
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}
