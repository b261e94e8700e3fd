package berth

import (
	"context"
	"io"
	"os"
	"strings"
	"time"
)

// BlobStore stores immutable blobs and the staging objects of uploads in
// progress. It knows keys, digests and bytes, never repositories or tags.
// A committed blob lives under an object key the store chose when it was
// committed (CommitUpload), and a key is never used for other bytes, even
// after its object is deleted: a deletion in flight can only remove the
// bytes it was queued for. Errors carry ENotFound where noted, EInternal
// otherwise.
type BlobStore interface {
	// Stat returns the size of a committed blob; ENotFound.
	Stat(ctx context.Context, key string) (int64, error)
	// Open opens a committed blob for reading; ENotFound.
	Open(ctx context.Context, key string) (BlobReader, error)
	// WriteUpload writes r to the staging object of u starting at offset,
	// discarding anything stored past offset, and returns the bytes written.
	// They are durable when it returns. It may update u.BackendState.
	WriteUpload(ctx context.Context, u *Upload, offset int64, r io.Reader) (int64, error)
	// OpenUpload reads u's staging object from its start; ENotFound.
	OpenUpload(ctx context.Context, u *Upload) (io.ReadCloser, error)
	// CommitUpload makes the first size bytes of u's staging object the
	// blob digest, durably, under a new object key it returns, and removes
	// the staging object. A zero-byte upload may have no staging object.
	// The key names the upload (ObjectKeyUpload), so that an object
	// committed by an upload whose completion was never recorded can be
	// told from one still being completed.
	CommitUpload(ctx context.Context, u *Upload, digest string, size int64) (key string, err error)
	// DeleteUpload discards u's staging object; a missing one is not an error.
	DeleteUpload(ctx context.Context, u *Upload) error
	// Delete removes a committed blob; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every object the store holds, committed blobs and
	// staging objects alike, in no particular order, for reconciliation
	// with the metadata. An error from fn stops the walk and is returned.
	Walk(ctx context.Context, fn func(StoredObject) error) error
}

// StoredObject is one object Walk found.
type StoredObject struct {
	// Key is the object key of a committed blob; Upload the id of the
	// upload whose staging object (or a part of it) this is. One is set.
	Key, Upload string
	Size        int64
	Modified    time.Time
}

// ObjectKey returns the object key of a blob committed by upload (an
// upload id), or, for upload "", the key of a blob stored before keys
// had generations (the digest itself).
func ObjectKey(digest, upload string) string {
	if upload == "" {
		return digest
	}
	return digest + "." + upload
}

// ParseObjectKey checks an object key, for a store mapping it to a path:
// the algorithm and hex of its digest, and the upload that committed it.
func ParseObjectKey(key string) (alg, hex, upload string, err error) {
	d, upload := ObjectKeyUpload(key)
	alg, hex, ok := strings.Cut(d, ":")
	safe := func(s string) bool {
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '+') {
				return false
			}
		}
		return true
	}
	if !ok || alg == "" || len(hex) < 3 || !safe(alg) || !safe(hex) || !safe(upload) {
		return "", "", "", Errorf(EInvalidParameter, "invalid object key %q", key)
	}
	return alg, hex, upload, nil
}

// ObjectKeyUpload splits an object key into its digest and the upload
// that committed it ("" for a key that is a bare digest).
func ObjectKeyUpload(key string) (digest, upload string) {
	digest, upload, _ = strings.Cut(key, ".")
	return digest, upload
}

// BlobURLer is the optional ability of a BlobStore to hand out time-limited
// URLs from which clients download a blob directly (S3 presigned URLs).
// ok is false when the store is configured to serve bytes itself.
type BlobURLer interface {
	BlobURL(ctx context.Context, key string, expiry time.Duration) (url string, ok bool, err error)
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
