package e2e

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/blob/s3"
	"github.com/berth-registry/berth/registry"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// blobStore opens the blob store a test server uses, beside it.
func blobStore(t *testing.T, dir, blobs string) berth.BlobStore {
	t.Helper()
	if blobs == "filesystem" {
		s, err := filesystem.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	c, err := s3.ParseURL(blobs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := s3.Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stored lists what the blob store holds (a directory walk, or an S3
// listing): committed objects by key, with their sizes, and the ids of
// uploads with staging objects.
type storedObjects struct {
	keys    map[string]int64
	uploads map[string]bool
	bytes   int64
}

func stored(t *testing.T, dir, blobs string) storedObjects {
	t.Helper()
	s := storedObjects{keys: map[string]int64{}, uploads: map[string]bool{}}
	err := blobStore(t, dir, blobs).Walk(ctx, func(o berth.StoredObject) error {
		s.bytes += o.Size
		if o.Upload != "" {
			s.uploads[o.Upload] = true
		} else {
			s.keys[o.Key] = o.Size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// metaDB opens the metadata a test server uses, for reading beside it.
func metaDB(t *testing.T, dir, metadata string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if metadata == "sqlite" {
		db, err = sql.Open("sqlite", "file:"+url.PathEscape(filepath.Join(dir, "berth.db"))+"?mode=ro&_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("pgx", metadata)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkOwnership checks, once garbage collection has run to quiescence,
// that every object in storage is owned by exactly one blob record, that
// every record's object is there, and that nothing is left staged or
// queued.
func checkOwnership(t *testing.T, dir, metadata, blobs string) storedObjects {
	t.Helper()
	db := metaDB(t, dir, metadata)
	rows, err := db.Query(`SELECT object_key, size FROM blob_objects`)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		rows.Scan(&k, &n)
		recorded[k] = n
	}
	rows.Close()
	var queued, uploads, dangling int
	db.QueryRow(`SELECT count(*) FROM storage_deletions`).Scan(&queued)
	db.QueryRow(`SELECT count(*) FROM uploads`).Scan(&uploads)
	db.QueryRow(`SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM blob_objects o WHERE o.digest = b.digest)`).Scan(&dangling)
	s := stored(t, dir, blobs)
	for k, n := range s.keys {
		if m, ok := recorded[k]; !ok || m != n {
			t.Errorf("object %s (%d bytes) is owned by no record (recorded: %v, %d bytes)", k, n, ok, m)
		}
	}
	for k := range recorded {
		if _, ok := s.keys[k]; !ok {
			t.Errorf("blob record names object %s, which storage lacks", k)
		}
	}
	if len(s.uploads) > 0 || queued > 0 || uploads > 0 || dangling > 0 {
		t.Errorf("after collection: %d staged uploads in storage, %d deletions queued, %d uploads recorded, %d repository links without a record",
			len(s.uploads), queued, uploads, dangling)
	}
	return s
}

// pullVerified pulls an image by digest through the ECR API and checks
// the manifest's bytes and every blob's content against their digests.
func pullVerified(t *testing.T, c *ecr.Client, repo, digest string) error {
	_, err := pullCount(c, repo, digest)
	return err
}

// pullCount is pullVerified, counting the blobs it verified.
func pullCount(c *ecr.Client, repo, digest string) (int, error) {
	n := 0
	out, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: &repo, ImageIds: []types.ImageIdentifier{{ImageDigest: &digest}}})
	if err != nil {
		return 0, err
	}
	if len(out.Images) != 1 || digestOf([]byte(*out.Images[0].ImageManifest)) != digest {
		return 0, fmt.Errorf("image %s: %d images, failures %v", digest, len(out.Images), out.Failures)
	}
	var m struct {
		Config    *descriptor
		Layers    []descriptor
		Manifests []descriptor
	}
	json.Unmarshal([]byte(*out.Images[0].ImageManifest), &m)
	if m.Config != nil {
		m.Layers = append(m.Layers, *m.Config)
	}
	for _, b := range m.Layers {
		u, err := c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: &repo, LayerDigest: &b.Digest})
		if err != nil {
			return n, fmt.Errorf("image %s: blob %s: %w", digest, b.Digest, err)
		}
		resp, err := http.Get(*u.DownloadUrl)
		if err != nil {
			return n, err
		}
		h := sha256.New()
		io.Copy(h, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || fmt.Sprintf("sha256:%x", h.Sum(nil)) != b.Digest {
			return n, fmt.Errorf("image %s: blob %s: status %d, the content does not match", digest, b.Digest, resp.StatusCode)
		}
		n++
	}
	for _, child := range m.Manifests {
		m, err := pullCount(c, repo, child.Digest)
		if n += m; err != nil {
			return n, err
		}
	}
	return n, nil
}

// clockSigner signs requests at the test clock's time, for tests that move
// the server's clock by hours: the SDK signs at the real time, which the
// server would then find expired.
type clockSigner struct {
	e          *env
	id, secret string
}

func (s clockSigner) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.Header.Del("Authorization")
	req.Header.Del("X-Amz-Date")
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(req.Context(), aws.Credentials{AccessKeyID: s.id, SecretAccessKey: s.secret}, req, hex.EncodeToString(sum[:]), "ecr", testRegion, s.e.clock.Now())
	if err != nil {
		return nil, err
	}
	return modelChecked{t: s.e.t, next: http.DefaultTransport}.RoundTrip(req)
}

// clocked makes e's ECR client sign at the test clock's time.
func (e *env) clocked() *env {
	e.ecr = ecr.NewFromConfig(aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, ""),
		Retryer:    func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient: &http.Client{Transport: clockSigner{e, e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey}}},
		func(o *ecr.Options) { o.BaseEndpoint = aws.String(e.url) })
	return e
}

func (e *env) gc(t *testing.T) registry.GCReport {
	t.Helper()
	rep, err := e.srv.CollectGarbage(ctx, registry.GCOptions{Reconcile: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestGCSpace: images pushed, deleted (one by one, and a whole
// repository), and an upload abandoned. Nothing goes before the grace
// period; after it, storage holds exactly the blobs of the image kept,
// which still pulls whole, and a deleted image pushed again uploads its
// layers again and pulls whole.
func TestGCSpace(t *testing.T) {
	e := start(t).clocked()
	cfg := e.srv.Config
	e.createRepo("gc-a")
	e.createRepo("gc-b")
	keep := e.pushImage("gc-a", "keep", 2)
	keepDigest := digestOf([]byte(keep.docker()))
	must[*ecr.PutImageOutput](t)(e.putImage("gc-a", keep.docker(), "keep"))
	keepBytes := stored(t, e.dir, cfg.Blobs).bytes

	const n = 12
	var deleted []string
	for i := 0; i < n; i++ {
		repo := []string{"gc-a", "gc-b"}[i%2]
		img := e.pushImage(repo, fmt.Sprint("gone-", i), 3)
		must[*ecr.PutImageOutput](t)(e.putImage(repo, img.docker(), fmt.Sprint("v", i)))
		if repo == "gc-a" {
			deleted = append(deleted, digestOf([]byte(img.docker())))
		}
	}
	abandoned := e.initiate("gc-a")
	must[*ecr.UploadLayerPartOutput](t)(e.part("gc-a", abandoned, 0, randomBytes(3000)))
	full := stored(t, e.dir, cfg.Blobs)
	if full.bytes <= keepBytes {
		t.Fatalf("pushing stored nothing: %d bytes, %d before", full.bytes, keepBytes)
	}
	for _, d := range deleted {
		out := must[*ecr.BatchDeleteImageOutput](t)(e.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("gc-a"),
			ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(d)}}}))
		if len(out.Failures) > 0 {
			t.Fatalf("delete %s: %v", d, out.Failures[0])
		}
	}
	must[*ecr.DeleteRepositoryOutput](t)(e.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("gc-b"), Force: true}))

	// Within the grace period nothing goes.
	e.clock.Advance(time.Hour)
	if rep := e.gc(t); rep.BlobsDeleted != 0 || rep.UploadsExpired != 0 || rep.ObjectsDeleted != 0 {
		t.Fatalf("within the grace period: %+v", rep)
	}
	if now := stored(t, e.dir, cfg.Blobs); now.bytes != full.bytes {
		t.Fatalf("within the grace period the store went from %d to %d bytes", full.bytes, now.bytes)
	}
	e.clock.Advance(24 * time.Hour)
	rep := e.gc(t)
	if want := n * 4; rep.BlobsDeleted != want || rep.UploadsExpired != 1 || rep.Kept != 3 || rep.ObjectsDeleted != want+1 {
		t.Fatalf("after the grace period: %+v; want %d blobs deleted, 1 upload expired, the kept image's 3 blobs kept, %d objects deleted", rep, want, want+1)
	}
	after := checkOwnership(t, e.dir, cfg.Metadata, cfg.Blobs)
	if after.bytes != keepBytes || len(after.keys) != 3 {
		t.Fatalf("after collection the store holds %d bytes in %d objects; the kept image's blobs are %d bytes in 3", after.bytes, len(after.keys), keepBytes)
	}
	t.Logf("space: %d bytes stored after pushing %d images; %d after deleting %d and collecting (the kept image's %d): %d blobs, %d bytes freed",
		full.bytes, n+1, after.bytes, n, keepBytes, rep.BlobsDeleted, rep.BytesFreed)
	if err := pullVerified(t, e.ecr, "gc-a", keepDigest); err != nil {
		t.Fatal(err)
	}
	// A second sweep has nothing to do; the metrics count the first.
	if rep := e.gc(t); rep.BlobsDeleted != 0 || rep.ObjectsDeleted != 0 || rep.Reviewed != 0 {
		t.Fatalf("second sweep: %+v", rep)
	}
	resp, body := e.raw(must[*http.Request](t)(http.NewRequest("GET", e.url+"/metrics", nil)))
	if resp.StatusCode != 200 || !regexpMatch(fmt.Sprintf(`(?m)^berth_gc_freed_bytes_total %d$`, rep.BytesFreed), body) || !regexpMatch(`(?m)^berth_storage_blobs 3$`, body) {
		t.Fatalf("metrics do not show the sweep:\n%s", grepLines(body, "berth_gc_", "berth_storage_"))
	}

	// Pushed again: the layers are gone, so the client uploads them again.
	again := e.pushImageChecked(t, "gc-a", "gone-0", 3)
	must[*ecr.PutImageOutput](t)(e.putImage("gc-a", again.docker(), "again"))
	if err := pullVerified(t, e.ecr, "gc-a", digestOf([]byte(again.docker()))); err != nil {
		t.Fatal(err)
	}
}

func grepLines(b []byte, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// pushImageChecked is pushImage that first asks BatchCheckLayerAvailability,
// as clients do, and requires every layer to be missing (collected).
func (e *env) pushImageChecked(t *testing.T, repo, seed string, n int) image {
	t.Helper()
	var ds []string
	for i := 0; i < n; i++ {
		ds = append(ds, digestOf([]byte(fmt.Sprintf("layer %d of %s", i, seed))))
	}
	out := must[*ecr.BatchCheckLayerAvailabilityOutput](t)(e.ecr.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: &repo, LayerDigests: ds}))
	if len(out.Failures) != n {
		t.Fatalf("layers of a collected image: %d missing, want %d", len(out.Failures), n)
	}
	return e.pushImage(repo, seed, n)
}

// TestGCConfirmation: a blob a client was told exists (an upload completed,
// AVAILABLE) outlives the grace period counted from that answer, and a
// manifest may reference it; one nobody asked about for longer than the
// grace period goes, and a manifest that references it then is refused
// cleanly (LayersNotFoundException), never accepted over missing bytes.
func TestGCConfirmation(t *testing.T) {
	e := start(t).clocked()
	e.createRepo("gc")
	img := e.pushImage("gc", "confirmed", 2)
	e.clock.Advance(23 * time.Hour)
	ds := []string{img.config.Digest}
	for _, l := range img.layers {
		ds = append(ds, l.Digest)
	}
	out := must[*ecr.BatchCheckLayerAvailabilityOutput](t)(e.ecr.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("gc"), LayerDigests: ds}))
	if len(out.Layers) != 3 || len(out.Failures) != 0 {
		t.Fatalf("check: %+v", out)
	}
	// 25 hours after the upload, 2 after the answer.
	e.clock.Advance(2 * time.Hour)
	if rep := e.gc(t); rep.BlobsDeleted != 0 {
		t.Fatalf("blobs confirmed 2 hours ago were collected: %+v", rep)
	}
	must[*ecr.PutImageOutput](t)(e.putImage("gc", img.docker(), "confirmed"))
	e.clock.Advance(25 * time.Hour)
	if rep := e.gc(t); rep.BlobsDeleted != 0 || rep.Kept != 3 {
		t.Fatalf("referenced blobs: %+v", rep)
	}
	if err := pullVerified(t, e.ecr, "gc", digestOf([]byte(img.docker()))); err != nil {
		t.Fatal(err)
	}

	late := e.pushImage("gc", "late", 1)
	e.clock.Advance(25 * time.Hour)
	if rep := e.gc(t); rep.BlobsDeleted != 2 {
		t.Fatalf("unconfirmed blobs past the grace period: %+v", rep)
	}
	_, err := e.putImage("gc", late.docker(), "late")
	wantError(t, err, "LayersNotFoundException", 400)
	late = e.pushImage("gc", "late", 1)
	must[*ecr.PutImageOutput](t)(e.putImage("gc", late.docker(), "late"))
	if err := pullVerified(t, e.ecr, "gc", digestOf([]byte(late.docker()))); err != nil {
		t.Fatal(err)
	}
}
