package berth

import (
	"context"
	"io"
	"os"
	"time"
)

// BlobStore stores content-addressed, immutable blobs and the staging
// objects of uploads in progress. It knows digests and bytes, never
// repositories or tags. Errors carry ENotFound where noted, EInternal
// otherwise.
type BlobStore interface {
	// Stat returns the size of a committed blob; ENotFound.
	Stat(ctx context.Context, digest string) (int64, error)
	// Open opens a committed blob for reading; ENotFound.
	Open(ctx context.Context, digest string) (BlobReader, error)
	// WriteUpload writes r to the staging object of u starting at offset,
	// discarding anything stored past offset, and returns the bytes written.
	// They are durable when it returns. It may update u.BackendState.
	WriteUpload(ctx context.Context, u *Upload, offset int64, r io.Reader) (int64, error)
	// OpenUpload reads u's staging object from its start; ENotFound.
	OpenUpload(ctx context.Context, u *Upload) (io.ReadCloser, error)
	// CommitUpload makes the first size bytes of u's staging object the blob
	// digest, durably, and removes the staging object. A zero-byte upload
	// may have no staging object.
	CommitUpload(ctx context.Context, u *Upload, digest string, size int64) error
	// DeleteUpload discards u's staging object; a missing one is not an error.
	DeleteUpload(ctx context.Context, u *Upload) error
	// Delete removes a committed blob; a missing one is not an error.
	Delete(ctx context.Context, digest string) error
}

// BlobURLer is the optional ability of a BlobStore to hand out time-limited
// URLs from which clients download a blob directly (S3 presigned URLs).
// ok is false when the store is configured to serve bytes itself.
type BlobURLer interface {
	BlobURL(ctx context.Context, digest string, expiry time.Duration) (url string, ok bool, err error)
}

// BlobReader reads a committed blob.
type BlobReader interface {
	io.ReadSeekCloser
}

// BlobFile is the optional ability of a BlobReader whose bytes are one
// local file, positioned where the reader is: a server may then hand the
// file to the kernel to send (sendfile) instead of copying it through a
// buffer.
type BlobFile interface {
	File() *os.File
}
