// Package s3 is a BlobStore on S3-compatible object storage (AWS S3,
// MinIO, Ceph RGW): committed blobs under <prefix>/blobs/<algorithm>/<hex>;
// an upload in progress is a multipart upload on <prefix>/uploads/<id>
// plus, for bytes not yet filling a part, a small tail object. The state
// (multipart id, parts, tail) lives in the upload's metadata, so any
// replica can continue an upload.
package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/berth-registry/berth"
)

var _ berth.BlobStore = (*Store)(nil)
var _ berth.BlobURLer = (*Store)(nil)

// partBufs keeps the part-sized buffers of uploads for the next ones: each
// write to an upload needs one, and allocating 8 MiB a write left the heap
// holding several hundred MiB of garbage under concurrent pushes.
var partBufs = sync.Pool{New: func() any { b := make([]byte, 0, PartSize); return &b }}

func getPartBuf() []byte { return (*partBufs.Get().(*[]byte))[:0] }

// putPartBuf returns a buffer from getPartBuf, once nothing reads it.
func putPartBuf(b []byte) {
	if cap(b) == PartSize {
		b = b[:0]
		partBufs.Put(&b)
	}
}

// PartSize is the size of every multipart part but the last: above S3's
// 5 MiB minimum, and the most memory one write holds.
const PartSize = 8 << 20

// Config locates the bucket.
type Config struct {
	Bucket, Prefix string
	// Endpoint is a custom S3 endpoint (MinIO, Ceph); "" means AWS.
	Endpoint string
	Region   string
	// PathStyle addresses buckets as endpoint/bucket (needed by MinIO).
	PathStyle bool
	// Redirect makes blob downloads redirect to presigned URLs.
	Redirect bool
}

// ParseURL reads s3://bucket/prefix?endpoint=…&region=…&path-style=…&redirect=….
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("blobs %q: must be s3://bucket[/prefix][?endpoint=URL&region=R]", raw)
	}
	q := u.Query()
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), Endpoint: q.Get("endpoint"), Region: q.Get("region"), Redirect: true}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	c.PathStyle = c.Endpoint != ""
	for key, dst := range map[string]*bool{"path-style": &c.PathStyle, "redirect": &c.Redirect} {
		if v := q.Get(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("blobs %q: %s must be true or false", raw, key)
			}
			*dst = b
		}
	}
	return c, nil
}

// Store is an S3 BlobStore.
type Store struct {
	c      Config
	client *s3.Client
	sign   *s3.PresignClient
	urls   urlCache
	now    func() time.Time // tests move it
}

// Open returns a store for c, with credentials from the standard AWS
// chain of this process (environment, shared files, instance roles), and
// checks that the bucket answers.
func Open(ctx context.Context, c Config) (*Store, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Region))
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// MinIO and others send no response checksums; do not log each time.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	s := &Store{c: c, client: client, sign: s3.NewPresignClient(client), now: time.Now}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &c.Bucket}); err != nil {
		return nil, fmt.Errorf("s3: bucket %s at %s does not answer: %w", c.Bucket, orAWS(c.Endpoint), err)
	}
	return s, nil
}

func orAWS(e string) string {
	if e == "" {
		return "AWS"
	}
	return e
}

func (s *Store) key(parts ...string) string {
	k := strings.Join(parts, "/")
	if s.c.Prefix != "" {
		k = s.c.Prefix + "/" + k
	}
	return k
}

// blobKey is the S3 key of an object key: blobs/<algorithm>/<hex>.<upload>
// (blobs stored before object keys had generations: without the suffix).
func (s *Store) blobKey(key string) (string, error) {
	alg, hex, upload, err := berth.ParseObjectKey(key)
	if err != nil {
		return "", err
	}
	if upload != "" {
		hex += "." + upload
	}
	return s.key("blobs", alg, hex), nil
}

func isNotFound(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchUpload", "404":
			return true
		}
	}
	var nf *types.NotFound
	var nk *types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nk)
}

func translate(err error, what string) error {
	if err != nil && isNotFound(err) {
		return &berth.Error{Code: berth.ENotFound, Message: what + " not found", Err: err}
	}
	return err
}

// Ping reports whether the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.c.Bucket})
	return err
}

// Stat implements berth.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	k, err := s.blobKey(key)
	if err != nil {
		return 0, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.c.Bucket, Key: &k})
	if err != nil {
		return 0, translate(err, "blob "+key)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open implements berth.BlobStore: a reader that fetches ranges lazily,
// so http.ServeContent's seeks cost no transfer.
func (s *Store) Open(ctx context.Context, key string) (berth.BlobReader, error) {
	size, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	k, _ := s.blobKey(key)
	return &reader{ctx: ctx, s: s, key: k, size: size}, nil
}

// BlobURL implements berth.BlobURLer with a presigned GET.
func (s *Store) BlobURL(ctx context.Context, key string, expiry time.Duration) (string, bool, error) {
	if !s.c.Redirect {
		return "", false, nil
	}
	k, err := s.blobKey(key)
	if err != nil {
		return "", false, err
	}
	now := s.now()
	if u, ok := s.urls.get(k, expiry, now); ok {
		return u, true, nil
	}
	req, err := s.sign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.c.Bucket, Key: &k}, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", false, err
	}
	s.urls.put(k, expiry, now, req.URL)
	return req.URL, true, nil
}

// urlCache keeps presigned URLs to hand out again for a short while:
// signing one through the SDK costs more than the rest of a redirect
// answer (a blob GET on S3), and a busy blob is asked for many times a
// second. A URL is given out again only while at least 95 % of its
// lifetime is left, so one handed out lives at most a twentieth longer
// after it was first asked for than a fresh one would.
type urlCache struct {
	mu sync.Mutex
	m  map[urlKey]signedURL
}

type urlKey struct {
	key    string
	expiry time.Duration
}

type signedURL struct {
	url string
	at  time.Time
}

// maxCachedURLs bounds the cache: past it, it starts over.
const maxCachedURLs = 4096

func (c *urlCache) get(key string, expiry time.Duration, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[urlKey{key, expiry}]
	if !ok || now.Before(u.at) || now.Sub(u.at) >= expiry/20 {
		return "", false
	}
	return u.url, true
}

func (c *urlCache) put(key string, expiry time.Duration, at time.Time, url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedURLs {
		c.m = make(map[urlKey]signedURL)
	}
	c.m[urlKey{key, expiry}] = signedURL{url, at}
}

// Delete implements berth.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.blobKey(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.c.Bucket, Key: &k})
	if isNotFound(err) {
		return nil
	}
	return err
}

type reader struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
	off  int64
	body io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{Bucket: &r.s.c.Bucket, Key: &r.key, Range: aws.String(fmt.Sprintf("bytes=%d-", r.off))})
		if err != nil {
			return 0, err
		}
		r.body = out.Body
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, errors.New("s3: negative seek")
	}
	if offset != r.off && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.off = offset
	return offset, nil
}

func (r *reader) Close() error {
	if r.body != nil {
		return r.body.Close()
	}
	return nil
}

// uploadState is an upload's S3 side, kept in Upload.BackendState.
type uploadState struct {
	MultipartID string `json:"mpu,omitempty"`
	Parts       []part `json:"parts,omitempty"`
	// TailKey holds the bytes after the last part (fewer than PartSize).
	TailKey  string `json:"tailKey,omitempty"`
	TailSize int64  `json:"tailSize,omitempty"`
}

type part struct {
	Number int32  `json:"n"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

func loadState(u *berth.Upload) (uploadState, error) {
	var st uploadState
	if u.BackendState == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(u.BackendState), &st); err != nil {
		return st, fmt.Errorf("s3: upload %s has unreadable state: %w", u.ID, err)
	}
	return st, nil
}

func saveState(u *berth.Upload, st uploadState) {
	b, _ := json.Marshal(st)
	u.BackendState = string(b)
}

func (st *uploadState) partBytes() int64 {
	var n int64
	for _, p := range st.Parts {
		n += p.Size
	}
	return n
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// WriteUpload implements berth.BlobStore: whole parts go to the multipart
// upload as soon as they fill; the rest becomes the new tail object.
func (s *Store) WriteUpload(ctx context.Context, u *berth.Upload, offset int64, r io.Reader) (int64, error) {
	st, err := loadState(u)
	if err != nil {
		return 0, err
	}
	if st.partBytes()+st.TailSize != offset {
		return 0, fmt.Errorf("s3: upload %s holds %d bytes, not %d", u.ID, st.partBytes()+st.TailSize, offset)
	}
	buf := getPartBuf()
	defer putPartBuf(buf)
	if st.TailSize > 0 {
		if buf, err = s.readTail(ctx, &st, buf); err != nil {
			return 0, err
		}
	}
	var n int64
	for {
		m, rerr := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		n += int64(m)
		if len(buf) == PartSize {
			if err := s.uploadPart(ctx, u, &st, buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	// The old tail stays until the upload ends: if this write's metadata
	// never commits, the upload resumes from the old state, tail included.
	st.TailKey, st.TailSize = "", 0
	if len(buf) > 0 {
		st.TailKey = s.key("uploads", u.ID, "tail-"+randomSuffix())
		if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.c.Bucket, Key: &st.TailKey, Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf)))}); err != nil {
			return n, fmt.Errorf("s3: writing the tail of upload %s: %w", u.ID, err)
		}
		st.TailSize = int64(len(buf))
	}
	saveState(u, st)
	return n, nil
}

func (s *Store) readTail(ctx context.Context, st *uploadState, buf []byte) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.c.Bucket, Key: &st.TailKey})
	if err != nil {
		return buf, fmt.Errorf("s3: reading the tail of an upload: %w", err)
	}
	defer out.Body.Close()
	m, err := io.ReadFull(out.Body, buf[:st.TailSize])
	if err != nil {
		return buf, fmt.Errorf("s3: reading the tail of an upload: %w", err)
	}
	return buf[:m], nil
}

func (s *Store) uploadPart(ctx context.Context, u *berth.Upload, st *uploadState, data []byte) error {
	k := s.key("uploads", u.ID)
	if st.MultipartID == "" {
		out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.c.Bucket, Key: &k})
		if err != nil {
			return fmt.Errorf("s3: starting the multipart upload of %s: %w", u.ID, err)
		}
		st.MultipartID = aws.ToString(out.UploadId)
	}
	// Part numbers follow from offsets, so a part re-sent after a crash
	// replaces the one it repeats.
	num := int32(len(st.Parts) + 1)
	if num > 10000 {
		return berth.Errorf(berth.ELimitExceeded, "the blob is larger than S3's 10,000 parts of %d bytes", PartSize)
	}
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.c.Bucket, Key: &k, UploadId: &st.MultipartID,
		PartNumber: aws.Int32(num), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return fmt.Errorf("s3: uploading part %d of %s: %w", num, u.ID, err)
	}
	st.Parts = append(st.Parts, part{Number: num, ETag: aws.ToString(out.ETag), Size: int64(len(data))})
	return nil
}

// finalize turns the upload into one object at uploads/<id> and returns
// its key. It is idempotent: a finished object is found and reused.
func (s *Store) finalize(ctx context.Context, u *berth.Upload) (string, error) {
	st, err := loadState(u)
	if err != nil {
		return "", err
	}
	k := s.key("uploads", u.ID)
	if _, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.c.Bucket, Key: &k}); err == nil {
		return k, nil
	}
	if st.MultipartID == "" { // no whole part: the tail is everything
		buf := getPartBuf()
		defer putPartBuf(buf)
		if st.TailSize > 0 {
			if buf, err = s.readTail(ctx, &st, buf); err != nil {
				return "", err
			}
		}
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.c.Bucket, Key: &k, Body: bytes.NewReader(buf), ContentLength: aws.Int64(int64(len(buf)))})
		return k, err
	}
	if st.TailSize > 0 {
		pb := getPartBuf()
		defer putPartBuf(pb)
		buf, err := s.readTail(ctx, &st, pb)
		if err != nil {
			return "", err
		}
		if err := s.uploadPart(ctx, u, &st, buf); err != nil {
			return "", err
		}
	}
	var parts []types.CompletedPart
	for _, p := range st.Parts {
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.c.Bucket, Key: &k, UploadId: &st.MultipartID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return "", fmt.Errorf("s3: completing upload %s: %w", u.ID, err)
	}
	return k, nil
}

// OpenUpload implements berth.BlobStore. It finalises the multipart
// upload, since S3 cannot read parts before that; it is only used to
// complete an upload.
func (s *Store) OpenUpload(ctx context.Context, u *berth.Upload) (io.ReadCloser, error) {
	k, err := s.finalize(ctx, u)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.c.Bucket, Key: &k})
	if err != nil {
		return nil, translate(err, "upload "+u.ID)
	}
	return out.Body, nil
}

// CommitUpload implements berth.BlobStore: finalise, then copy to the
// blob's key (S3 has no rename) and remove the staging objects.
func (s *Store) CommitUpload(ctx context.Context, u *berth.Upload, digest string, size int64) (string, error) {
	key := berth.ObjectKey(digest, u.ID)
	dst, err := s.blobKey(key)
	if err != nil {
		return "", err
	}
	if head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.c.Bucket, Key: &dst}); err == nil && aws.ToInt64(head.ContentLength) == size {
		return key, s.DeleteUpload(ctx, u) // committed by a call whose caller did not hear
	}
	src, err := s.finalize(ctx, u)
	if err != nil {
		return "", err
	}
	if err := s.copyObject(ctx, src, dst, size); err != nil {
		return "", fmt.Errorf("s3: storing blob %s: %w", digest, err)
	}
	return key, s.DeleteUpload(ctx, u)
}

// Walk implements berth.BlobStore: every object under blobs/ and uploads/.
func (s *Store) Walk(ctx context.Context, fn func(berth.StoredObject) error) error {
	for _, dir := range []string{"blobs", "uploads"} {
		prefix := s.key(dir) + "/"
		pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.c.Bucket, Prefix: &prefix})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				obj := berth.StoredObject{Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)}
				rest := strings.TrimPrefix(aws.ToString(o.Key), prefix)
				if dir == "uploads" {
					obj.Upload, _, _ = strings.Cut(rest, "/") // uploads/<id> and its tails uploads/<id>/…
				} else {
					alg, name, ok := strings.Cut(rest, "/")
					hex, upload, _ := strings.Cut(name, ".")
					obj.Key = berth.ObjectKey(alg+":"+hex, upload)
					if _, _, _, err := berth.ParseObjectKey(obj.Key); !ok || err != nil {
						continue // not one of ours
					}
				}
				if err := fn(obj); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// copyObject copies within the bucket: one CopyObject up to 5 GiB, a
// multipart copy above.
func (s *Store) copyObject(ctx context.Context, src, dst string, size int64) error {
	source := s.c.Bucket + "/" + src
	const maxCopy = 5 << 30
	if size <= maxCopy {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.c.Bucket, Key: &dst, CopySource: &source})
		return err
	}
	mpu, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.c.Bucket, Key: &dst})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	const chunk = 1 << 30
	for off, n := int64(0), int32(1); off < size; off, n = off+chunk, n+1 {
		end := min(off+chunk, size) - 1
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &s.c.Bucket, Key: &dst, UploadId: mpu.UploadId, PartNumber: aws.Int32(n),
			CopySource: &source, CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end))})
		if err != nil {
			s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.c.Bucket, Key: &dst, UploadId: mpu.UploadId})
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.CopyPartResult.ETag})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.c.Bucket, Key: &dst, UploadId: mpu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

// DeleteUpload implements berth.BlobStore.
func (s *Store) DeleteUpload(ctx context.Context, u *berth.Upload) error {
	st, err := loadState(u)
	if err != nil {
		return err
	}
	k := s.key("uploads", u.ID)
	if st.MultipartID != "" {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.c.Bucket, Key: &k, UploadId: &st.MultipartID})
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.c.Bucket, Key: &k}); err != nil && !isNotFound(err) {
		return err
	}
	// Every tail the upload ever had, including those of writes that
	// never committed.
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.c.Bucket, Prefix: aws.String(k + "/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.c.Bucket, Key: o.Key}); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// CreateBucket creates the configured bucket if it does not exist, for
// first setups and tests; berth itself only uses existing buckets.
func CreateBucket(ctx context.Context, c Config) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Region))
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
	})
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &c.Bucket}); err == nil {
		return nil
	}
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &c.Bucket})
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) {
		return nil
	}
	return err
}

// PutFile stores a whole file as name beside the blobs (under the prefix):
// how a backup keeps its metadata snapshot in a bucket.
func (s *Store) PutFile(ctx context.Context, name string, r io.ReadSeeker, size int64) error {
	k := s.key(name)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.c.Bucket, Key: &k, Body: r, ContentLength: aws.Int64(size)})
	return err
}

// GetFile reads a file PutFile stored; ENotFound if there is none.
func (s *Store) GetFile(ctx context.Context, name string) (io.ReadCloser, error) {
	k := s.key(name)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.c.Bucket, Key: &k})
	if err != nil {
		return nil, translate(err, name)
	}
	return out.Body, nil
}
