// Package e2e holds black-box tests: a real berth on a loopback port, driven
// by real clients (aws-sdk-go-v2, the AWS CLI, plain HTTP).
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/berth-registry/berth/blob/s3"
	"github.com/berth-registry/berth/meta/postgres/pgtest"
	"github.com/berth-registry/berth/server"
)

const (
	testRegistryID = "123456789012"
	testRegion     = "us-east-1"
)

// clock is a settable clock shared by a test and its server.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// env is one running berth and a client for it.
type env struct {
	t     *testing.T
	srv   *server.Server
	url   string
	ecr   *ecr.Client
	clock *clock
	dir   string
}

// testLog sends the server's log to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

func start(t *testing.T) *env {
	t.Helper()
	return startIn(t, t.TempDir())
}

type serverConfig = server.Config

func startIn(t *testing.T, dir string) *env {
	t.Helper()
	return startConfigured(t, dir, nil)
}

// startWith starts berth with a changed configuration.
func startWith(t *testing.T, change func(*serverConfig)) *env {
	t.Helper()
	return startConfigured(t, t.TempDir(), change)
}

func startConfigured(t *testing.T, dir string, change func(*serverConfig)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{}, dir: dir}
	e.srv = server.New(io.Discard, io.Discard)
	e.srv.Now = e.clock.Now
	e.srv.Config = server.Config{Addr: "127.0.0.1:0", DataDir: dir, RegistryID: testRegistryID, Region: testRegion}
	e.srv.Config.Metadata, e.srv.Config.Blobs = backends(t, dir)
	e.srv.Config.Migrate, e.srv.Config.Console = true, true
	if change != nil {
		change(&e.srv.Config)
	}
	if err := e.srv.Run(context.Background()); err != nil {
		t.Fatalf("starting berth: %v", err)
	}
	t.Cleanup(func() { e.srv.Close() })
	e.url = e.srv.URL()
	e.ecr = e.client(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	return e
}

func (e *env) client(id, secret string) *ecr.Client {
	return ecr.NewFromConfig(aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:  &http.Client{Transport: modelChecked{t: e.t, next: http.DefaultTransport}},
	}, func(o *ecr.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// wantError checks that err is the named AWS error with the HTTP status.
func wantError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if api.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, api.ErrorCode(), api.ErrorMessage())
	}
	if api.ErrorMessage() == "" {
		t.Errorf("%s has no message", code)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
	return api
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var ctx = context.Background()

func (e *env) createRepo(name string, opts ...func(*ecr.CreateRepositoryInput)) {
	e.t.Helper()
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
	for _, o := range opts {
		o(in)
	}
	if _, err := e.ecr.CreateRepository(ctx, in); err != nil {
		e.t.Fatalf("CreateRepository %s: %v", name, err)
	}
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// pushBlob uploads data as a layer through the ECR layer-upload calls.
func (e *env) pushBlob(repo string, data []byte) string {
	e.t.Helper()
	up := must[*ecr.InitiateLayerUploadOutput](e.t)(e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: &repo}))
	part := int(*up.PartSize)
	for off := 0; off < len(data); off += part {
		end := min(off+part, len(data))
		must[*ecr.UploadLayerPartOutput](e.t)(e.ecr.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{
			RepositoryName: &repo, UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)), LayerPartBlob: data[off:end],
		}))
	}
	out := must[*ecr.CompleteLayerUploadOutput](e.t)(e.ecr.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{
		RepositoryName: &repo, UploadId: up.UploadId, LayerDigests: []string{digestOf(data)},
	}))
	return *out.LayerDigest
}

type descriptor struct {
	MediaType    string `json:"mediaType"`
	Digest       string `json:"digest"`
	Size         int    `json:"size"`
	ArtifactType string `json:"artifactType,omitempty"`
}

// image is a pushed config and layers, ready to make manifests of.
type image struct {
	config descriptor
	layers []descriptor
}

// imageBlobs are a config and n small layers, unique to seed.
func imageBlobs(seed string, n int) [][]byte {
	blobs := [][]byte{[]byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","seed":%q}`, seed))}
	for i := 0; i < n; i++ {
		blobs = append(blobs, []byte(fmt.Sprintf("layer %d of %s", i, seed)))
	}
	return blobs
}

// imageOf is the image of imageBlobs(seed, n), not pushed.
func imageOf(seed string, n int) image {
	blobs := imageBlobs(seed, n)
	img := image{config: descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: digestOf(blobs[0]), Size: len(blobs[0])}}
	for _, l := range blobs[1:] {
		img.layers = append(img.layers, descriptor{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: digestOf(l), Size: len(l)})
	}
	return img
}

// pushImage uploads a config and n small layers, unique to seed.
func (e *env) pushImage(repo, seed string, n int) image {
	e.t.Helper()
	for _, b := range imageBlobs(seed, n) {
		e.pushBlob(repo, b)
	}
	return imageOf(seed, n)
}

func (img image) docker() string {
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": img.config, "layers": img.layers})
	return string(b)
}

func (img image) oci(extra map[string]any) string {
	cfg := img.config
	cfg.MediaType = "application/vnd.oci.image.config.v1+json"
	var layers []descriptor
	for _, l := range img.layers {
		l.MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
		layers = append(layers, l)
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func index(mediaType string, children ...string) string {
	var ms []descriptor
	for _, c := range children {
		var m struct{ MediaType string }
		json.Unmarshal([]byte(c), &m)
		ms = append(ms, descriptor{MediaType: m.MediaType, Digest: digestOf([]byte(c)), Size: len(c)})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaType, "manifests": ms})
	return string(b)
}

func (e *env) putImage(repo, manifest, tag string) (*ecr.PutImageOutput, error) {
	in := &ecr.PutImageInput{RepositoryName: &repo, ImageManifest: &manifest}
	if tag != "" {
		in.ImageTag = &tag
	}
	return e.ecr.PutImage(ctx, in)
}

func (e *env) tagsOf(repo, digest string) []string {
	e.t.Helper()
	out := must[*ecr.DescribeImagesOutput](e.t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{
		RepositoryName: &repo, ImageIds: []types.ImageIdentifier{{ImageDigest: &digest}}}))
	return out.ImageDetails[0].ImageTags
}

// raw sends an unsigned-or-hand-built request to the server.
func (e *env) raw(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func regexpMatch(pattern string, b []byte) bool { return regexp.MustCompile(pattern).Match(b) }

// scaleOut reports whether the end-to-end tests run on PostgreSQL and S3
// (scripts/test runs them once on each backend family).
func scaleOut() bool { return os.Getenv("BERTH_E2E_BACKEND") == "scaleout" }

var (
	backendMu   sync.Mutex
	backendDirs = map[string][2]string{}
)

// backends returns the metadata and blob settings for a data directory:
// the embedded default, or in scale-out mode a fresh PostgreSQL database
// and S3 prefix per directory, so a restart over the same directory finds
// its data again.
func backends(t *testing.T, dir string) (string, string) {
	if !scaleOut() {
		return "sqlite", "filesystem"
	}
	backendMu.Lock()
	defer backendMu.Unlock()
	if b, ok := backendDirs[dir]; ok {
		return b[0], b[1]
	}
	raw := os.Getenv("BERTH_TEST_S3")
	if raw == "" {
		t.Fatal("BERTH_E2E_BACKEND=scaleout needs BERTH_TEST_S3")
	}
	c, err := s3.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.CreateBucket(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/e2e-" + filepath.Base(filepath.Dir(dir)) + "-" + filepath.Base(dir)
	b := [2]string{pgtest.FreshDatabase(t), u.String()}
	backendDirs[dir] = b
	return b[0], b[1]
}
