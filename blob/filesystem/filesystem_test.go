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
	"unsafe"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/blobtest"
	"golang.org/x/sys/unix"
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

// TestWarm: a committed blob written around the page cache is read back
// into it, so the first pull after a push finds it there.
func TestWarm(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("warm"), 4<<20/4) // 4 MiB
	u := &berth.Upload{ID: "u-warm", Repository: "r"}
	if _, err := s.WriteUpload(ctx, u, 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if !s.direct.Load() {
		t.Skip("this filesystem refused O_DIRECT: uploads go through the page cache, and nothing needs warming")
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	staged, _ := s.uploadPath(u.ID)
	if n := resident(t, staged); n == len(data)/os.Getpagesize() {
		t.Logf("the staged bytes are resident before the commit (%d pages): the filesystem caches O_DIRECT writes", n)
	}
	key, err := s.CommitUpload(ctx, u, digest, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the warmers: take every slot.
	for range warmersMax {
		s.warmers <- struct{}{}
	}
	p, _ := s.blobPath(key)
	if n, want := resident(t, p), len(data)/os.Getpagesize(); n != want {
		t.Fatalf("%d of %d pages resident after the commit", n, want)
	}
}

// resident counts the pages of a file in the page cache.
func resident(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}
