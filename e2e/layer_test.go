package e2e

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (e *env) initiate(repo string) string {
	e.t.Helper()
	return *must[*ecr.InitiateLayerUploadOutput](e.t)(e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: &repo})).UploadId
}

func (e *env) part(repo, id string, first int64, data []byte) (*ecr.UploadLayerPartOutput, error) {
	return e.ecr.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: &repo, UploadId: &id,
		PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(first + int64(len(data)) - 1), LayerPartBlob: data})
}

func (e *env) complete(repo, id, digest string) (*ecr.CompleteLayerUploadOutput, error) {
	return e.ecr.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: &repo, UploadId: &id, LayerDigests: []string{digest}})
}

func TestLayerUpload(t *testing.T) {
	e := start(t)
	e.createRepo("layers")
	const mib = 1 << 20

	t.Run("multipart upload and download", func(t *testing.T) {
		up := must[*ecr.InitiateLayerUploadOutput](t)(e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("layers")}))
		if *up.PartSize != 10*mib || len(*up.UploadId) != 36 {
			t.Fatalf("initiate %+v", up)
		}
		data := randomBytes(23*mib + 17)
		id := *up.UploadId
		for off := 0; off < len(data); off += 10 * mib {
			end := min(off+10*mib, len(data))
			out := must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, int64(off), data[off:end]))
			if *out.LastByteReceived != int64(end-1) || *out.UploadId != id || *out.RegistryId != testRegistryID {
				t.Fatalf("part output %+v", out)
			}
		}
		out := must[*ecr.CompleteLayerUploadOutput](t)(e.complete("layers", id, digestOf(data)))
		if *out.LayerDigest != digestOf(data) {
			t.Fatalf("digest %s", *out.LayerDigest)
		}
		check := must[*ecr.BatchCheckLayerAvailabilityOutput](t)(e.ecr.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{
			RepositoryName: aws.String("layers"), LayerDigests: []string{digestOf(data), digestOf([]byte("absent")), "nonsense"}}))
		if len(check.Layers) != 1 || check.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable || *check.Layers[0].LayerSize != int64(len(data)) {
			t.Fatalf("layers %+v", check.Layers)
		}
		if len(check.Failures) != 2 || check.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest || check.Failures[1].FailureCode != types.LayerFailureCodeInvalidLayerDigest {
			t.Fatalf("failures %+v", check.Failures)
		}

		// Not referenced by an image yet: no download.
		_, err := e.ecr.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("layers"), LayerDigest: aws.String(digestOf(data))})
		wantError(t, err, "LayerInaccessibleException", 400)
		_, err = e.ecr.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("layers"), LayerDigest: aws.String(digestOf([]byte("absent")))})
		wantError(t, err, "LayersNotFoundException", 400)

		cfg := []byte(`{"os":"linux"}`)
		img := image{config: descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: e.pushBlob("layers", cfg), Size: len(cfg)},
			layers: []descriptor{{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: digestOf(data), Size: len(data)}}}
		must[*ecr.PutImageOutput](t)(e.putImage("layers", img.docker(), "big"))
		u := must[*ecr.GetDownloadUrlForLayerOutput](t)(e.ecr.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("layers"), LayerDigest: aws.String(digestOf(data))}))
		if *u.LayerDigest != digestOf(data) {
			t.Fatalf("download url %+v", u)
		}
		resp, body := e.raw(must[*http.Request](t)(http.NewRequest("GET", *u.DownloadUrl, nil)))
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Fatalf("download: status %d, %d bytes", resp.StatusCode, len(body))
		}
		req := must[*http.Request](t)(http.NewRequest("GET", *u.DownloadUrl, nil))
		req.Header.Set("Range", "bytes=10-19")
		resp, body = e.raw(req)
		if resp.StatusCode != 206 || !bytes.Equal(body, data[10:20]) {
			t.Fatalf("range: status %d", resp.StatusCode)
		}
		if scaleOut() {
			// A presigned object-storage URL, as ECR returns; the store
			// checks its signature and expiry.
			if strings.HasPrefix(*u.DownloadUrl, e.url) || !strings.Contains(*u.DownloadUrl, "X-Amz-Signature=") {
				t.Fatalf("not a presigned S3 URL: %s", *u.DownloadUrl)
			}
			return
		}
		if !strings.HasPrefix(*u.DownloadUrl, e.url) {
			t.Fatalf("download url %s is not berth's", *u.DownloadUrl)
		}
		tampered := strings.Replace(*u.DownloadUrl, "signature=", "signature=x", 1)
		if resp, _ := e.raw(must[*http.Request](t)(http.NewRequest("GET", tampered, nil))); resp.StatusCode != 403 {
			t.Fatalf("tampered URL: status %d", resp.StatusCode)
		}
		other := strings.Replace(*u.DownloadUrl, "/layers?", "/other?", 1)
		if resp, _ := e.raw(must[*http.Request](t)(http.NewRequest("GET", other, nil))); resp.StatusCode != 403 {
			t.Fatalf("URL for another repository: status %d", resp.StatusCode)
		}
		e.clock.Advance(61 * 60e9)
		if resp, _ := e.raw(must[*http.Request](t)(http.NewRequest("GET", *u.DownloadUrl, nil))); resp.StatusCode != 403 {
			t.Fatalf("expired URL: status %d", resp.StatusCode)
		}
		e.clock.Advance(-61 * 60e9)
	})

	t.Run("part not consecutive", func(t *testing.T) {
		id := e.initiate("layers")
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, 0, randomBytes(5*mib)))
		_, err := e.part("layers", id, 5*mib+1, randomBytes(10))
		api := wantError(t, err, "InvalidLayerPartException", 400)
		var ilp *types.InvalidLayerPartException
		if !errors.As(err, &ilp) || *ilp.LastValidByteReceived != 5*mib-1 || *ilp.UploadId != id || *ilp.RepositoryName != "layers" || *ilp.RegistryId != testRegistryID {
			t.Fatalf("exception members %+v (%s)", ilp, api.ErrorMessage())
		}
		_, err = e.part("layers", id, 0, randomBytes(10))
		wantError(t, err, "InvalidLayerPartException", 400)
		// A range that does not match the bytes sent.
		_, err = e.ecr.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String("layers"), UploadId: &id,
			PartFirstByte: aws.Int64(5 * mib), PartLastByte: aws.Int64(5*mib + 99), LayerPartBlob: randomBytes(10)})
		wantError(t, err, "InvalidLayerPartException", 400)
		// After refusals, the upload goes on from lastValidByteReceived+1.
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, 5*mib, []byte("tail")))
	})
	t.Run("part too large", func(t *testing.T) {
		id := e.initiate("layers")
		_, err := e.part("layers", id, 0, randomBytes(20*mib+1))
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("digest mismatch", func(t *testing.T) {
		id := e.initiate("layers")
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, 0, []byte("hello")))
		_, err := e.complete("layers", id, digestOf([]byte("other")))
		wantError(t, err, "InvalidLayerException", 400)
		_, err = e.complete("layers", id, "not-a-digest")
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("empty upload", func(t *testing.T) {
		id := e.initiate("layers")
		_, err := e.complete("layers", id, digestOf(nil))
		wantError(t, err, "EmptyUploadException", 400)
	})
	t.Run("part too small", func(t *testing.T) {
		id := e.initiate("layers")
		a, b := randomBytes(1*mib), randomBytes(1*mib)
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, 0, a))
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, int64(len(a)), b))
		_, err := e.complete("layers", id, digestOf(append(a, b...)))
		wantError(t, err, "LayerPartTooSmallException", 400)
	})
	t.Run("layer already exists", func(t *testing.T) {
		data := []byte("duplicate layer")
		e.pushBlob("layers", data)
		id := e.initiate("layers")
		must[*ecr.UploadLayerPartOutput](t)(e.part("layers", id, 0, data))
		_, err := e.complete("layers", id, digestOf(data))
		wantError(t, err, "LayerAlreadyExistsException", 400)
		_, err = e.complete("layers", id, digestOf(data))
		wantError(t, err, "UploadNotFoundException", 400)
	})
	t.Run("upload not found", func(t *testing.T) {
		id := "00000000-0000-0000-0000-000000000000"
		_, err := e.part("layers", id, 0, []byte("x"))
		wantError(t, err, "UploadNotFoundException", 400)
		_, err = e.complete("layers", id, digestOf([]byte("x")))
		wantError(t, err, "UploadNotFoundException", 400)
		// The model gives uploadId a UUID pattern: another shape is refused
		// before any lookup.
		_, err = e.part("layers", "not-a-uuid", 0, []byte("x"))
		wantError(t, err, "InvalidParameterException", 400)
		_, err = e.complete("layers", "not-a-uuid", digestOf([]byte("x")))
		wantError(t, err, "InvalidParameterException", 400)
		e.createRepo("elsewhere")
		id = e.initiate("layers")
		_, err = e.part("elsewhere", id, 0, []byte("x"))
		wantError(t, err, "UploadNotFoundException", 400)
	})
	t.Run("repository not found", func(t *testing.T) {
		_, err := e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("nope")})
		wantError(t, err, "RepositoryNotFoundException", 400)
		_, err = e.ecr.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("nope"), LayerDigests: []string{digestOf(nil)}})
		wantError(t, err, "RepositoryNotFoundException", 400)
	})
}

// TestUploadSurvivesRestart stops berth in the middle of an upload and
// finishes the upload on a new process over the same data directory.
func TestUploadSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := startIn(t, dir)
	e.createRepo("restart")
	data := randomBytes(11 << 20)
	id := e.initiate("restart")
	must[*ecr.UploadLayerPartOutput](t)(e.part("restart", id, 0, data[:6<<20]))
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := startIn(t, dir)
	must[*ecr.UploadLayerPartOutput](t)(e2.part("restart", id, 6<<20, data[6<<20:]))
	out := must[*ecr.CompleteLayerUploadOutput](t)(e2.complete("restart", id, digestOf(data)))
	if *out.LayerDigest != digestOf(data) {
		t.Fatal("digest")
	}
	img := image{config: descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: digestOf(data), Size: len(data)}, layers: []descriptor{}}
	must[*ecr.PutImageOutput](t)(e2.putImage("restart", img.docker(), "v1"))
	u := must[*ecr.GetDownloadUrlForLayerOutput](t)(e2.ecr.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("restart"), LayerDigest: aws.String(digestOf(data))}))
	resp, err := http.Get(*u.DownloadUrl)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ")
	}
}
