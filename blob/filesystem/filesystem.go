// Package filesystem is a BlobStore on a local directory: committed blobs
// under blobs/<algorithm>/<first two hex>/<hex>, staging objects of uploads
// under uploads/<id>. Every write is fsynced, and so is every directory a
// rename touches, before a call returns.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/berth-registry/berth"
	"golang.org/x/sys/unix"
)

var _ berth.BlobStore = (*Store)(nil)

// Store is a filesystem BlobStore.
type Store struct {
	root string
	bufs sync.Pool
}

// Open returns a store rooted at dir, creating its directories.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"blobs", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	s := &Store{root: dir}
	s.bufs.New = func() any { b := make([]byte, 1<<20); return &b }
	return s, nil
}

func (s *Store) blobPath(digest string) (string, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || len(hex) < 3 || strings.ContainsAny(digest, `/\.`) {
		return "", berth.Errorf(berth.EInvalidParameter, "invalid digest %q", digest)
	}
	return filepath.Join(s.root, "blobs", alg, hex[:2], hex), nil
}

func (s *Store) uploadPath(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\.`) {
		return "", berth.Errorf(berth.EInvalidParameter, "invalid upload id %q", id)
	}
	return filepath.Join(s.root, "uploads", id), nil
}

func notFound(err error, what string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &berth.Error{Code: berth.ENotFound, Message: what + " not found", Err: err}
	}
	return err
}

// Ping reports whether the store's directory is there.
func (s *Store) Ping(ctx context.Context) error {
	_, err := os.Stat(filepath.Join(s.root, "blobs"))
	return err
}

// Stat implements berth.BlobStore.
func (s *Store) Stat(ctx context.Context, digest string) (int64, error) {
	p, err := s.blobPath(digest)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound(err, "blob "+digest)
	}
	return fi.Size(), nil
}

// Open implements berth.BlobStore; the reader is an *os.File.
func (s *Store) Open(ctx context.Context, digest string) (berth.BlobReader, error) {
	p, err := s.blobPath(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err, "blob "+digest)
	}
	return f, nil
}

// WriteUpload implements berth.BlobStore.
func (s *Store) WriteUpload(ctx context.Context, u *berth.Upload, offset int64, r io.Reader) (int64, error) {
	p, err := s.uploadPath(u.ID)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// A crash after a write but before its metadata committed leaves bytes
	// past offset; they are not part of the upload.
	if err := f.Truncate(offset); err != nil {
		return 0, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	buf := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(buf)
	n, err := io.CopyBuffer(&writeBehind{f: f, off: offset}, onlyReader{r}, *buf)
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	return n, f.Close()
}

// onlyReader hides WriteTo so CopyBuffer uses our large buffer.
type onlyReader struct{ io.Reader }

// writeBehind writes to a file and asks the kernel to start writing each
// few MiB to disk at once (sync_file_range), so that the fsync at the end
// finds little left to do: disk and network work at the same time.
type writeBehind struct {
	f        *os.File
	off      int64 // file offset of the next write
	unsynced int64
}

const writeBehindEvery = 2 << 20

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	w.unsynced += int64(n)
	if w.unsynced >= writeBehindEvery {
		// Best effort: a failure here only means the final fsync does it.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.off-w.unsynced, w.unsynced, unix.SYNC_FILE_RANGE_WRITE)
		w.unsynced = 0
	}
	return n, err
}

// OpenUpload implements berth.BlobStore.
func (s *Store) OpenUpload(ctx context.Context, u *berth.Upload) (io.ReadCloser, error) {
	p, err := s.uploadPath(u.ID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err, "upload "+u.ID)
	}
	return f, nil
}

// CommitUpload implements berth.BlobStore.
func (s *Store) CommitUpload(ctx context.Context, u *berth.Upload, digest string, size int64) error {
	src, err := s.uploadPath(u.ID)
	if err != nil {
		return err
	}
	dst, err := s.blobPath(digest)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dst); err == nil && fi.Size() == size {
		return s.DeleteUpload(ctx, u) // content-addressed: already there
	}
	// WriteUpload made the bytes durable; only bytes past size (a write
	// whose metadata never committed), or a never-written empty blob,
	// need the file touched again.
	if fi, err := os.Stat(src); err != nil || fi.Size() != size {
		flags := os.O_WRONLY
		if size == 0 {
			flags |= os.O_CREATE
		}
		f, err := os.OpenFile(src, flags, 0o640)
		if err != nil {
			return notFound(err, "upload "+u.ID)
		}
		err = f.Truncate(size)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	// The new name must survive a crash; the staging directory losing
	// its entry needs no fsync (a stale staging file is only garbage).
	return syncDir(dir)
}

// DeleteUpload implements berth.BlobStore.
func (s *Store) DeleteUpload(ctx context.Context, u *berth.Upload) error {
	p, err := s.uploadPath(u.ID)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Delete implements berth.BlobStore.
func (s *Store) Delete(ctx context.Context, digest string) error {
	p, err := s.blobPath(digest)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
