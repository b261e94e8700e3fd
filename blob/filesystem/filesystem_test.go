package filesystem

import (
	"bytes"
	"context"
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
