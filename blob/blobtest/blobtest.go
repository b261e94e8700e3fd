// Package blobtest is the conformance suite every BlobStore must pass.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"

	"github.com/berth-registry/berth"
)

var ctx = context.Background()

// Run runs the suite against a fresh store from open for each test.
func Run(t *testing.T, open func(t *testing.T) berth.BlobStore) {
	t.Run("UploadAndRead", func(t *testing.T) { testUploadAndRead(t, open(t)) })
	t.Run("ResumeAfterLostWrite", func(t *testing.T) { testResume(t, open(t)) })
	t.Run("EmptyBlob", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("MissingAndDelete", func(t *testing.T) { testMissing(t, open(t)) })
	t.Run("DuplicateCommit", func(t *testing.T) { testDuplicate(t, open(t)) })
	t.Run("Walk", func(t *testing.T) { testWalk(t, open(t)) })
}

// commit commits u as blob digest and returns its key.
func commit(t *testing.T, s berth.BlobStore, u *berth.Upload, digest string, size int64) string {
	t.Helper()
	key, err := s.CommitUpload(ctx, u, digest, size)
	if err != nil {
		t.Fatal(err)
	}
	if d, up := berth.ObjectKeyUpload(key); d != digest || up != u.ID {
		t.Fatalf("key %q does not name digest %s and upload %s", key, digest, u.ID)
	}
	return key
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func upload(id string) *berth.Upload { return &berth.Upload{ID: id, Repository: "r"} }

// write appends chunks to u as the registry does, checking the counts.
func write(t *testing.T, s berth.BlobStore, u *berth.Upload, data []byte, chunks ...int) {
	t.Helper()
	off := u.Size
	for _, c := range chunks {
		n, err := s.WriteUpload(ctx, u, off, bytes.NewReader(data[off:off+int64(c)]))
		if err != nil || n != int64(c) {
			t.Fatalf("WriteUpload at %d: %d, %v", off, n, err)
		}
		off += n
		u.Size = off
	}
}

func readAll(t *testing.T, s berth.BlobStore, key string) []byte {
	t.Helper()
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testUploadAndRead(t *testing.T, s berth.BlobStore) {
	const mib = 1 << 20
	data := random(21*mib + 3)
	u := upload("u-read")
	// Uneven chunks, some smaller and some larger than any part size.
	write(t, s, u, data, 1*mib, 7*mib, 9*mib+1, 4*mib+2)
	// The staged bytes read back before the commit.
	f, err := s.OpenUpload(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	staged, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(staged, data) {
		t.Fatalf("staged %d bytes differ", len(staged))
	}
	d := commit(t, s, u, digestOf(data), int64(len(data)))
	if size, err := s.Stat(ctx, d); err != nil || size != int64(len(data)) {
		t.Fatalf("Stat %d %v", size, err)
	}
	if !bytes.Equal(readAll(t, s, d), data) {
		t.Fatal("blob differs")
	}
	r, _ := s.Open(ctx, d)
	defer r.Close()
	if end, err := r.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek end %d %v", end, err)
	}
	r.Seek(10*mib, io.SeekStart)
	part := make([]byte, 100)
	if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[10*mib:10*mib+100]) {
		t.Fatalf("read after seek: %v", err)
	}
	// The staging object is gone.
	if err := s.DeleteUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// testResume writes, loses the metadata of one write (as a crash between
// the write and its commit would), and writes again from the old state.
func testResume(t *testing.T, s berth.BlobStore) {
	data := random(12 << 20)
	u := upload("u-resume")
	write(t, s, u, data, 3<<20)
	saved := *u
	write(t, s, u, data, 6<<20) // its metadata is "lost"
	*u = saved
	write(t, s, u, data, 6<<20, 3<<20)
	d := commit(t, s, u, digestOf(data), int64(len(data)))
	if !bytes.Equal(readAll(t, s, d), data) {
		t.Fatal("resumed blob differs")
	}
}

func testEmpty(t *testing.T, s berth.BlobStore) {
	d := commit(t, s, upload("u-empty"), digestOf(nil), 0)
	if size, err := s.Stat(ctx, d); err != nil || size != 0 {
		t.Fatalf("Stat %d %v", size, err)
	}
	if got := readAll(t, s, d); len(got) != 0 {
		t.Fatalf("%d bytes", len(got))
	}
}

func testMissing(t *testing.T, s berth.BlobStore) {
	d := berth.ObjectKey(digestOf([]byte("absent")), "u-absent")
	if _, err := s.Stat(ctx, d); !berth.IsCode(err, berth.ENotFound) {
		t.Fatalf("Stat: %v", err)
	}
	if _, err := s.Open(ctx, d); !berth.IsCode(err, berth.ENotFound) {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Delete(ctx, d); err != nil {
		t.Fatalf("Delete of a missing blob: %v", err)
	}
	if err := s.DeleteUpload(ctx, upload("never-started")); err != nil {
		t.Fatalf("DeleteUpload of a missing upload: %v", err)
	}
	data := []byte("to delete")
	u := upload("u-del")
	write(t, s, u, data, len(data))
	key := commit(t, s, u, digestOf(data), int64(len(data)))
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, key); !berth.IsCode(err, berth.ENotFound) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	for _, bad := range []string{"", "sha256", "sha256:ab", "sha256:../../etc", "sha256:abcd.x/y", "sha256:abcd.."} {
		if _, err := s.Stat(ctx, bad); !berth.IsCode(err, berth.EInvalidParameter) {
			t.Errorf("Stat(%q): %v, want EInvalidParameter", bad, err)
		}
	}
}

// testDuplicate commits the same bytes twice: each commit has its own key,
// deleting one leaves the other, and committing again (a retry whose
// caller did not hear the first answer) returns the same key.
func testDuplicate(t *testing.T, s berth.BlobStore) {
	data := []byte("same bytes twice")
	var keys []string
	for _, id := range []string{"u-dup1", "u-dup2"} {
		u := upload(id)
		write(t, s, u, data, len(data))
		keys = append(keys, commit(t, s, u, digestOf(data), int64(len(data))))
		if again := commit(t, s, u, digestOf(data), int64(len(data))); again != keys[len(keys)-1] {
			t.Fatalf("a second commit of %s gave key %s, then %s", id, keys[len(keys)-1], again)
		}
	}
	if keys[0] == keys[1] {
		t.Fatalf("two uploads share key %s", keys[0])
	}
	if err := s.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, s, keys[1]), data) {
		t.Fatal("differs")
	}
}

// testWalk finds every committed blob and every staging object.
func testWalk(t *testing.T, s berth.BlobStore) {
	data := random(1 << 10)
	u := upload("u-walk")
	write(t, s, u, data, len(data))
	key := commit(t, s, u, digestOf(data), int64(len(data)))
	staged := upload("u-staged")
	write(t, s, staged, data, 100)
	found := map[string]int64{}
	err := s.Walk(ctx, func(o berth.StoredObject) error {
		if (o.Key == "") == (o.Upload == "") {
			t.Errorf("object %+v names neither or both of a key and an upload", o)
		}
		if o.Modified.IsZero() {
			t.Errorf("object %+v has no time", o)
		}
		found[o.Key+"|"+o.Upload] += o.Size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := found[key+"|"]; !ok || n != int64(len(data)) {
		t.Errorf("Walk: blob %s: %d bytes, found %v (of %v)", key, n, ok, found)
	}
	if _, ok := found["|u-staged"]; !ok {
		t.Errorf("Walk: no staging object of u-staged in %v", found)
	}
	if len(found) != 2 {
		t.Errorf("Walk found %d objects, want 2: %v", len(found), found)
	}
}
