package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

// storeBlob records a stored blob of digest d and links repo to it, as a
// completed upload does.
func storeBlob(tx berth.MetaTx, repo, d string, size int64) error {
	err := tx.PutBlobObject(ctx, &berth.BlobObject{Digest: d, Key: berth.ObjectKey(d, "u-"+d[len(d)-6:]), Size: size, CreatedAt: t0})
	if err != nil && !berth.IsCode(err, berth.EConflict) {
		return err
	}
	return tx.PutBlob(ctx, repo, berth.Blob{Digest: d, Size: size}, t0)
}

// testBlobObjects: the registry-wide record of stored blobs and its
// review times.
func testBlobObjects(t *testing.T, s berth.MetaStore) {
	hour := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	update(t, s, func(tx berth.MetaTx) error {
		for _, r := range []string{"a", "b"} {
			if err := tx.CreateRepository(ctx, repo(r)); err != nil {
				return err
			}
		}
		for i := 1; i <= 4; i++ {
			if err := storeBlob(tx, "a", digest(i), int64(10*i)); err != nil {
				return err
			}
		}
		if err := tx.PutBlob(ctx, "b", berth.Blob{Digest: digest(1), Size: 10}, t0); err != nil {
			return err
		}
		return tx.PutManifest(ctx, mkManifest("b", 50, []string{digest(1)}, nil, ""))
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error {
		return tx.PutBlobObject(ctx, &berth.BlobObject{Digest: digest(1), Key: "sha256:x.other", CreatedAt: t0})
	}), berth.EConflict)
	view(t, s, func(tx berth.MetaTx) error {
		o, err := tx.GetBlobObject(ctx, digest(2))
		if err != nil || o.Size != 20 || o.Key != berth.ObjectKey(digest(2), "u-000002") || !o.Review.IsZero() || !o.CreatedAt.Equal(t0) {
			t.Errorf("GetBlobObject: %+v %v", o, err)
		}
		b, err := tx.GetBlob(ctx, "a", digest(2))
		if err != nil || b.Key != o.Key {
			t.Errorf("GetBlob: %+v %v, want key %s", b, err, o.Key)
		}
		_, err = tx.GetBlobObject(ctx, digest(99))
		wantCode(t, err, berth.ENotFound)
		for d, want := range map[string]bool{digest(1): true, digest(2): false} {
			if used, err := tx.BlobInUse(ctx, d); err != nil || used != want {
				t.Errorf("BlobInUse(%s) = %v %v, want %v", d, used, err, want)
			}
		}
		return nil
	})
	// Reviews only move later.
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.ReviewBlobs(ctx, []string{digest(2), digest(3), digest(99)}, hour(5)); err != nil {
			return err
		}
		if err := tx.ReviewBlobs(ctx, []string{digest(2)}, hour(3)); err != nil {
			return err
		}
		if err := tx.ReviewManifestBlobs(ctx, "b", digest(50), hour(2)); err != nil {
			return err
		}
		return tx.ReviewRepositoryBlobs(ctx, "a", hour(4)) // 1 and 4 to 4h, 2 and 3 stay at 5h
	})
	view(t, s, func(tx berth.MetaTx) error {
		for i, want := range map[int]time.Time{1: hour(4), 2: hour(5), 3: hour(5), 4: hour(4)} {
			if o, err := tx.GetBlobObject(ctx, digest(i)); err != nil || !o.Review.Equal(want) {
				t.Errorf("blob %d: review %v (%v), want %v", i, o.Review, err, want)
			}
		}
		due, err := tx.DueBlobs(ctx, hour(4), 10)
		if err != nil || fmt.Sprint(due) != fmt.Sprint([]string{digest(1), digest(4)}) {
			t.Errorf("DueBlobs at 4h: %v %v", due, err)
		}
		due, err = tx.DueBlobs(ctx, hour(6), 3)
		if err != nil || len(due) != 3 {
			t.Errorf("DueBlobs at 6h, 3 at most: %v %v", due, err)
		}
		st, err := tx.StorageStats(ctx, hour(4))
		if err != nil || st.Blobs != 4 || st.Bytes != 100 || st.Reviews != 4 || st.DueReviews != 2 {
			t.Errorf("StorageStats %+v %v", st, err)
		}
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.ClearBlobReview(ctx, digest(1)); err != nil {
			return err
		}
		if _, err := tx.LockBlobObject(ctx, digest(1)); err != nil {
			return err
		}
		return tx.DeleteBlobObject(ctx, digest(1))
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteBlobObject(ctx, digest(1)) }), berth.ENotFound)
	view(t, s, func(tx berth.MetaTx) error {
		for _, r := range []string{"a", "b"} {
			_, err := tx.GetBlob(ctx, r, digest(1))
			wantCode(t, err, berth.ENotFound) // every link went with it
		}
		due, err := tx.DueBlobs(ctx, hour(100), 10)
		if err != nil || len(due) != 3 {
			t.Errorf("DueBlobs after the delete: %v %v", due, err)
		}
		return nil
	})
}

// testDeletionQueue: the outbox of storage deletions.
func testDeletionQueue(t *testing.T, s berth.MetaStore) {
	later := t0.Add(time.Minute)
	update(t, s, func(tx berth.MetaTx) error {
		for _, d := range []berth.Deletion{
			{Key: "sha256:aaa.u1", NotBefore: t0},
			{Key: "sha256:aaa.u1", NotBefore: later}, // queued twice: once
			{Key: berth.UploadDeletionKey("u2"), UploadState: "state", NotBefore: t0},
			{Key: "sha256:bbb.u3", NotBefore: later},
		} {
			if err := tx.QueueDeletion(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	var claimed []berth.Deletion
	update(t, s, func(tx berth.MetaTx) (err error) {
		claimed, err = tx.ClaimDeletions(ctx, t0, t0.Add(time.Hour), 10)
		return err
	})
	if len(claimed) != 2 || claimed[1].Key != "upload/u2" || claimed[1].UploadState != "state" || claimed[0].Attempts != 0 {
		t.Fatalf("claimed %+v", claimed)
	}
	update(t, s, func(tx berth.MetaTx) (err error) {
		// Claimed ones are hidden until the lease ends.
		again, err := tx.ClaimDeletions(ctx, later, later, 10)
		if err == nil && (len(again) != 1 || again[0].Key != "sha256:bbb.u3") {
			t.Errorf("claimed during the lease: %+v", again)
		}
		return err
	})
	update(t, s, func(tx berth.MetaTx) error { return tx.DeleteDeletion(ctx, "upload/u2") })
	view(t, s, func(tx berth.MetaTx) error {
		again, err := tx.ClaimDeletions(ctx, t0.Add(2*time.Hour), t0, 10)
		if err != nil || len(again) != 2 || again[1].Key != "sha256:aaa.u1" || again[1].Attempts != 1 || again[0].Key != "sha256:bbb.u3" {
			t.Errorf("after the lease: %+v %v", again, err)
		}
		st, err := tx.StorageStats(ctx, t0)
		if err != nil || st.Deletions != 2 {
			t.Errorf("StorageStats %+v %v", st, err)
		}
		return nil
	})
}

// testStaleUploads: uploads idle since before a time, and who owns an
// object.
func testStaleUploads(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		for i, id := range []string{"old", "busy", "new"} {
			at := t0.Add(time.Duration(i) * time.Hour)
			if err := tx.CreateUpload(ctx, &berth.Upload{ID: id, Repository: "r", CreatedAt: t0, UpdatedAt: at, BackendState: id + "-state"}); err != nil {
				return err
			}
		}
		if err := tx.PutBlobObject(ctx, &berth.BlobObject{Digest: digest(1), Key: "sha256:k.u9", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.QueueDeletion(ctx, berth.Deletion{Key: "sha256:q.u8", NotBefore: t0})
	})
	// A part arrives: the upload is busy again.
	update(t, s, func(tx berth.MetaTx) error {
		u, err := tx.GetUpload(ctx, "r", "busy")
		if err != nil {
			return err
		}
		if !u.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("UpdatedAt %v", u.UpdatedAt)
		}
		prev := u.Size
		u.Size, u.UpdatedAt = 5, t0.Add(10*time.Hour)
		return tx.UpdateUpload(ctx, u, prev)
	})
	view(t, s, func(tx berth.MetaTx) error {
		stale, err := tx.StaleUploads(ctx, t0.Add(3*time.Hour), 10)
		if err != nil || len(stale) != 2 || stale[0].ID != "old" || stale[1].ID != "new" || stale[0].BackendState != "old-state" || stale[0].Repository != "r" {
			t.Errorf("StaleUploads %+v %v", stale, err)
		}
		for _, c := range []struct {
			key, upload string
			want        bool
		}{
			{"sha256:k.u9", "u9", true}, {"sha256:q.u8", "u8", true}, {"", "busy", true},
			{"sha256:z.old", "old", true}, {"sha256:z.gone", "gone", false}, {"", "gone", false},
		} {
			if got, err := tx.ObjectOwned(ctx, c.key, c.upload); err != nil || got != c.want {
				t.Errorf("ObjectOwned(%q, %q) = %v %v, want %v", c.key, c.upload, got, err, c.want)
			}
		}
		return nil
	})
}

// testRaceCollectReference: a push referencing a blob races its
// collection, which deletes the blob unless a manifest references it.
// Either may win, never both: no manifest may reference a blob whose
// record went.
func testRaceCollectReference(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error {
		for _, r := range []string{"r", "other"} {
			if err := tx.CreateRepository(ctx, repo(r)); err != nil {
				return err
			}
		}
		return nil
	})
	errReferenced := errors.New("referenced")
	for round := 0; round < 20; round++ {
		b := digest(2000 + round)
		update(t, s, func(tx berth.MetaTx) error {
			if err := storeBlob(tx, "r", b, 1); err != nil {
				return err
			}
			if err := tx.PutBlob(ctx, "other", berth.Blob{Digest: b, Size: 1}, t0); err != nil {
				return err
			}
			return tx.ReviewBlobs(ctx, []string{b}, t0)
		})
		pushRepo := []string{"r", "other"}[round%2]
		errs := race(s, 2, func(i int, tx berth.MetaTx) error {
			if i == 0 {
				if _, err := tx.GetBlob(ctx, pushRepo, b); err != nil {
					return err
				}
				return tx.PutManifest(ctx, mkManifest(pushRepo, 3000+round, []string{b}, nil, ""))
			}
			due, err := tx.DueBlobs(ctx, t0, 10)
			if err != nil {
				return err
			}
			for _, d := range due {
				if d != b {
					continue
				}
				if _, err := tx.LockBlobObject(ctx, d); err != nil {
					return err
				}
				used, err := tx.BlobInUse(ctx, d)
				if err != nil || used {
					return errors.Join(err, errReferenced, tx.ClearBlobReview(ctx, d))
				}
				return tx.DeleteBlobObject(ctx, d)
			}
			return errReferenced // taken by nobody else: cannot happen
		})
		pushed, collected := errs[0] == nil, errs[1] == nil
		switch {
		case pushed && collected:
			t.Fatalf("round %d: the blob was collected while a manifest came to reference it", round)
		case !pushed && !berth.IsCode(errs[0], berth.ENotFound):
			t.Fatalf("round %d: push: %v", round, errs[0])
		case !collected && !errors.Is(errs[1], errReferenced):
			t.Fatalf("round %d: collect: %v", round, errs[1])
		case !pushed && !collected:
			t.Fatalf("round %d: neither won", round)
		}
	}
}

// testImageStorage: archive and restore times, and the lists filtered by
// the status they give.
func testImageStorage(t *testing.T, s berth.MetaStore) {
	hour := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	update(t, s, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo("r")); err != nil {
			return err
		}
		for i := 1; i <= 4; i++ {
			if err := tx.PutManifest(ctx, mkManifest("r", i, nil, nil, "")); err != nil {
				return err
			}
		}
		// 1 active; 2 archived; 3 restoring until 5h; 4 restored at 2h.
		if err := tx.SetImageStorage(ctx, "r", digest(2), hour(1), time.Time{}); err != nil {
			return err
		}
		if err := tx.SetImageStorage(ctx, "r", digest(3), hour(1), hour(5)); err != nil {
			return err
		}
		return tx.SetImageStorage(ctx, "r", digest(4), hour(1), hour(2))
	})
	wantCode(t, s.Update(ctx, func(tx berth.MetaTx) error { return tx.SetImageStorage(ctx, "r", digest(9), hour(1), time.Time{}) }), berth.ENotFound)
	view(t, s, func(tx berth.MetaTx) error {
		m, err := tx.GetManifest(ctx, "r", digest(3))
		if err != nil || !m.ArchivedAt.Equal(hour(1)) || !m.RestoredAt.Equal(hour(5)) || m.Status(hour(3)) != berth.ImageActivating || m.Status(hour(6)) != berth.ImageActive {
			t.Errorf("manifest 3: %+v %v", m, err)
		}
		for status, want := range map[berth.ImageStatus][]string{
			berth.ImageActive:     {digest(1), digest(4)},
			berth.ImageArchived:   {digest(2)},
			berth.ImageActivating: {digest(3)},
			berth.ImageAny:        {digest(1), digest(2), digest(3), digest(4)},
		} {
			f := berth.ImageFilter{Status: status, Now: hour(3)}
			imgs, _, err := tx.ListImages(ctx, "r", f, berth.Page{Limit: 10})
			var got []string
			for _, img := range imgs {
				got = append(got, img.Digest)
				if status != berth.ImageAny && img.Status(hour(3)) != status {
					t.Errorf("ListImages %s: %s is %s", status, img.Digest, img.Status(hour(3)))
				}
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ListImages %s: %v %v, want %v", status, got, err, want)
			}
			refs, _, err := tx.ListImageRefs(ctx, "r", f, berth.Page{Limit: 10})
			if err != nil || len(refs) != len(want) {
				t.Errorf("ListImageRefs %s: %v %v", status, refs, err)
			}
		}
		return nil
	})
}
