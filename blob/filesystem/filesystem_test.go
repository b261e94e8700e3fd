package filesystem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/blobtest"
)

func TestBlobStore(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) berth.BlobStore {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLostStagedBytes: when the staged file holds fewer bytes than the
// upload records (lost in a crash), the next write refuses to go on
// rather than filling the gap with zeros.
func TestLostStagedBytes(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u := &berth.Upload{ID: "u-lost", Repository: "r"}
	data := bytes.Repeat([]byte("berth"), 1<<18) // 1.25 MiB: direct blocks and a buffered tail
	if n, err := s.WriteUpload(ctx, u, 0, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("first write: %d, %v", n, err)
	}
	if !s.direct.Load() {
		t.Log("this filesystem refused O_DIRECT; the page-cache path was tested")
	}
	p, _ := s.uploadPath(u.ID)
	if err := os.Truncate(p, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteUpload(ctx, u, int64(len(data)), strings.NewReader("more")); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("write after lost bytes: %v", err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() != 1000 {
		t.Fatalf("the staged file changed: %v %v", fi.Size(), err)
	}
}

// TestBlobFileSeeks: a blob's reader returns its bytes whatever the order
// of seeks and reads (http.ServeContent seeks to sniff sizes and to serve
// ranges), in reads that span several MiB.
func TestBlobFileSeeks(t *testing.T) {
	const readAheadWindow = 8 << 20
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := make([]byte, 3*readAheadWindow+12345)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	u := &berth.Upload{ID: "u-seek", Repository: "r"}
	if _, err := s.WriteUpload(ctx, u, 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	key, err := s.CommitUpload(ctx, u, d, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek to end: %d %v", end, err)
	}
	for _, off := range []int64{0, 5, readAheadWindow - 3, 2*readAheadWindow + 1, 17, int64(len(data)) - 10} {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, min(int64(readAheadWindow+99), int64(len(data))-off))
		if _, err := io.ReadFull(f, got); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, data[off:off+int64(len(got))]) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("whole blob: %d bytes, %v", len(all), err)
	}
}
