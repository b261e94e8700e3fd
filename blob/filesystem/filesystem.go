// Package filesystem is a BlobStore on a local directory: committed blobs
// under blobs/<algorithm>/<first two hex>/<hex>.<upload id> (blobs stored
// before object keys had generations: without the suffix), staging objects
// of uploads under uploads/<id>. Every write is fsynced, and so is every directory a
// rename touches, before a call returns.
//
// Uploads are written with O_DIRECT where the filesystem allows it: the
// bytes go from the upload's buffers to the disk without passing through
// the page cache, so a push costs no page-cache memory and does not evict
// the blobs that pulls keep hot. Blobs are read through the page cache,
// and a blob's file is there for the server to send with sendfile
// (berth.BlobFile).
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
	"sync/atomic"
	"syscall"

	"github.com/berth-registry/berth"
	"golang.org/x/sys/unix"
)

var (
	_ berth.BlobStore = (*Store)(nil)
	_ berth.BlobFile  = (*blobFile)(nil)
)

// Store is a filesystem BlobStore.
type Store struct {
	root   string
	direct atomic.Bool // O_DIRECT has not been refused
	// warmers bounds the blobs being read into the page cache at once.
	warmers chan struct{}
}

// Open returns a store rooted at dir, creating its directories.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"blobs", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	s := &Store{root: dir, warmers: make(chan struct{}, warmersMax)}
	s.direct.Store(true)
	return s, nil
}

func (s *Store) blobPath(key string) (string, error) {
	alg, hex, upload, err := berth.ParseObjectKey(key)
	if err != nil {
		return "", err
	}
	name := hex
	if upload != "" {
		name += "." + upload
	}
	return filepath.Join(s.root, "blobs", alg, hex[:2], name), nil
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
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	p, err := s.blobPath(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound(err, "blob "+key)
	}
	return fi.Size(), nil
}

// Open implements berth.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (berth.BlobReader, error) {
	p, err := s.blobPath(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err, "blob "+key)
	}
	return &blobFile{f: f}, nil
}

// blobFile is a committed blob's file. Servers send it with sendfile
// (berth.BlobFile), which has the kernel's own read-ahead; Read serves
// what reads a few bytes first (net/http's sniffing) and other readers.
type blobFile struct{ f *os.File }

func (b *blobFile) Read(p []byte) (int, error)                   { return b.f.Read(p) }
func (b *blobFile) Seek(offset int64, whence int) (int64, error) { return b.f.Seek(offset, whence) }
func (b *blobFile) Close() error                                 { return b.f.Close() }

// File implements berth.BlobFile.
func (b *blobFile) File() *os.File { return b.f }

// full turns a write refused for want of space into EInsufficientStorage.
func full(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &berth.Error{Code: berth.EInsufficientStorage, Message: berth.StorageFullMessage, Err: err}
	}
	return err
}

// WriteUpload implements berth.BlobStore. A full disk is EInsufficientStorage.
func (s *Store) WriteUpload(ctx context.Context, u *berth.Upload, offset int64, r io.Reader) (int64, error) {
	n, err := s.writeUpload(u, offset, r)
	return n, full(err)
}

func (s *Store) writeUpload(u *berth.Upload, offset int64, r io.Reader) (int64, error) {
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
	// past offset; they are not part of the upload. Fewer bytes than
	// offset means the staged bytes were lost: the upload cannot go on.
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() < offset {
		return 0, fmt.Errorf("upload %s: %d bytes staged, %d recorded: the staged bytes were lost", u.ID, fi.Size(), offset)
	}
	if err := f.Truncate(offset); err != nil {
		return 0, err
	}
	// Filesystems without O_DIRECT (tmpfs, some network ones) refuse it:
	// then every write goes through the page cache.
	var direct *os.File
	if s.direct.Load() {
		if d, err := os.OpenFile(p, os.O_WRONLY|unix.O_DIRECT, 0); err == nil {
			defer d.Close()
			direct = d
		} else {
			s.direct.Store(false)
		}
	}
	n, err := io.Copy(&fileSink{f: f, direct: direct, directOK: &s.direct, off: offset}, r)
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	return n, f.Close()
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

// CommitUpload implements berth.BlobStore: the staging file is renamed to
// its key. A full disk is EInsufficientStorage.
func (s *Store) CommitUpload(ctx context.Context, u *berth.Upload, digest string, size int64) (string, error) {
	key := berth.ObjectKey(digest, u.ID)
	return key, full(s.commitUpload(u, key, size))
}

func (s *Store) commitUpload(u *berth.Upload, key string, size int64) error {
	src, err := s.uploadPath(u.ID)
	if err != nil {
		return err
	}
	dst, err := s.blobPath(key)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dst); err == nil && fi.Size() == size {
		return nil // committed before, by a call whose caller did not hear
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
	if err := syncDir(dir); err != nil {
		return err
	}
	s.warm(dst, size)
	return nil
}

// Warming: the bytes of an upload went to the disk around the page cache
// (O_DIRECT), so the first pull after a push, the pull a CI pipeline makes
// on its next job, would read them back from the disk at the pace of the
// kernel's read-ahead. Once a blob is committed (durable already), berth
// asks the kernel to read it into the cache (POSIX_FADV_WILLNEED), in the
// background so the push's answer does not wait: the pull then finds it
// cached, as it would on a registry that writes through the cache, while
// the push kept O_DIRECT's speed. Only blobs up to warmMax, and warmers
// at most at once: a flood of pushes does not turn into a flood of reads.
const (
	warmMax     = 1 << 30
	warmersMax  = 2
	warmMinimum = 1 << 20 // smaller blobs come back fast enough cold
)

func (s *Store) warm(path string, size int64) {
	if !s.direct.Load() || size < warmMinimum || size > warmMax {
		return // written through the cache, or not worth it
	}
	select {
	case s.warmers <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-s.warmers }()
		f, err := os.Open(path)
		if err != nil {
			return // deleted meanwhile: nothing to warm
		}
		defer f.Close()
		// WILLNEED asks for the whole blob at once (a deep queue, the
		// disk's full pace); reading it through then only waits for
		// what is still in flight, so the warmer ends when the blob is
		// cached and its slot frees only then.
		unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_WILLNEED)
		buf := warmBufs.Get().(*[]byte)
		defer warmBufs.Put(buf)
		for {
			if _, err := f.Read(*buf); err != nil {
				return
			}
		}
	}()
}

var warmBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

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
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.blobPath(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk implements berth.BlobStore.
func (s *Store) Walk(ctx context.Context, fn func(berth.StoredObject) error) error {
	blobs := filepath.Join(s.root, "blobs")
	err := filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(blobs, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 3 {
			return nil // not one of ours
		}
		hex, upload, _ := strings.Cut(parts[2], ".")
		key := berth.ObjectKey(parts[0]+":"+hex, upload)
		if _, _, _, err := berth.ParseObjectKey(key); err != nil {
			return nil
		}
		return s.walked(fn, berth.StoredObject{Key: key}, d)
	})
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(s.root, "uploads"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := s.walked(fn, berth.StoredObject{Upload: e.Name()}, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) walked(fn func(berth.StoredObject) error, o berth.StoredObject, d fs.DirEntry) error {
	fi, err := d.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	o.Size, o.Modified = fi.Size(), fi.ModTime()
	return fn(o)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
