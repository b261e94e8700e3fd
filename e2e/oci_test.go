package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// loginPassword is what 'aws ecr get-login-password' prints.
func (e *env) loginPassword() string {
	e.t.Helper()
	out := must[*ecr.GetAuthorizationTokenOutput](e.t)(e.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	raw := must[[]byte](e.t)(base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken))
	return strings.TrimPrefix(string(raw), "AWS:")
}

func (e *env) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(e.url, "http://"), "https://")
}

func (e *env) ref(repo string) string { return e.host() + "/" + repo }

func (e *env) remoteOpts() []remote.Option {
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: "AWS", Password: e.loginPassword()})}
}

// TestConformance runs the OCI distribution-spec conformance suite against
// berth with auth on, every API and data set it has (including upload
// cancel and ?tag= parameters), and requires zero failures. On S3 it runs
// twice: with blob downloads redirected to presigned URLs (the object
// store then sends the final response, without Docker-Content-Digest, so
// that optional check is off) and with berth streaming the bytes.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := filepath.Join(t.TempDir(), "conformance")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/opencontainers/distribution-spec/conformance").CombinedOutput(); err != nil {
		t.Fatalf("building the conformance suite: %v\n%s", err, out)
	}
	variants := []struct {
		name         string
		redirect     bool
		digestHeader bool
	}{{"streamed", false, true}}
	if scaleOut() {
		variants = append(variants, struct {
			name         string
			redirect     bool
			digestHeader bool
		}{"redirected", true, false})
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			e := startWith(t, func(c *serverConfig) {
				c.CreateOnPush = true
				if scaleOut() {
					c.Blobs += "&redirect=" + strconv.FormatBool(v.redirect)
				}
			})
			runConformance(t, bin, e, "OCI_API_BLOBS_DIGEST_HEADER="+strconv.FormatBool(v.digestHeader))
		})
	}
	// The public registry endpoint, with the ecr-public login (its
	// repositories made first: ECR Public creates none on push).
	t.Run("public", func(t *testing.T) {
		e, pub := startPublic(t)
		for _, r := range []string{"conformance/repo1", "conformance/repo2"} {
			must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String(r)}))
		}
		tok := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
		password := strings.TrimPrefix(string(must[[]byte](t)(base64.StdEncoding.DecodeString(*tok.AuthorizationData.AuthorizationToken))), "AWS:")
		runConformanceAt(t, bin, strings.TrimPrefix(e.srv.PublicURL(), "http://"), password, publicAlias+"/conformance", "OCI_API_BLOBS_DIGEST_HEADER=true")
	})
}

func runConformance(t *testing.T, bin string, e *env, extra ...string) {
	runConformanceAt(t, bin, e.host(), e.loginPassword(), "conformance", extra...)
}

// runConformanceAt runs the suite against a registry at host, logged in as
// user AWS with password, in repositories <prefix>/repo1 and repo2.
func runConformanceAt(t *testing.T, bin, host, password, prefix string, extra ...string) {
	results := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = results
	cmd.Env = append(append(os.Environ(),
		"OCI_REGISTRY="+host, "OCI_TLS=disabled", "OCI_USERNAME=AWS", "OCI_PASSWORD="+password,
		"OCI_REPO1="+prefix+"/repo1", "OCI_REPO2="+prefix+"/repo2", "OCI_RESULTS_DIR="+results,
		"OCI_API_BLOBS_UPLOAD_CANCEL=true", "OCI_API_MANIFESTS_TAG_PARAM=true", "OCI_API_MANIFESTS_DIGEST_HEADER=true"), extra...)
	out, err := cmd.CombinedOutput()
	summary := out
	if i := bytes.Index(out, []byte("OCI Conformance Result")); i >= 0 {
		summary = out[i:]
	}
	t.Logf("conformance summary:\n%s", summary)
	if err != nil || !bytes.Contains(out, []byte("OCI Conformance Result: Pass")) || !regexpMatch(`FAIL\.+:\s+0\n`, out) || !regexpMatch(`Error\.+:\s+0\n`, out) {
		junit, _ := os.ReadFile(filepath.Join(results, "junit.xml"))
		for _, m := range regexp.MustCompile(`(?s)<testcase name="([^"]*)"[^>]*status="failure">\s*<system-out>(.*?)</system-out>`).FindAllSubmatch(junit, 10) {
			t.Logf("FAILED %s: %s", m[1], m[2])
		}
		t.Fatalf("conformance failed: %v", err)
	}
}

func TestGGCRMultiPlatform(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	idx, err := random.Index(1024, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref := must[name.Reference](t)(name.ParseReference(e.ref("team/multi:v1"), name.Insecure))
	if err := remote.WriteIndex(ref, idx, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	got, err := remote.Index(ref, e.remoteOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, _ := idx.Digest()
	gotDigest, _ := got.Digest()
	wantRaw, _ := idx.RawManifest()
	gotRaw, _ := got.RawManifest()
	if wantDigest != gotDigest || !bytes.Equal(wantRaw, gotRaw) {
		t.Fatalf("index round trip: %s != %s", gotDigest, wantDigest)
	}
	checkLayers(t, got)
	im, _ := got.IndexManifest()
	// The same image through the ECR API: the index and its three children.
	det := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/multi")}))
	if len(det.ImageDetails) != 4 {
		t.Fatalf("%d images", len(det.ImageDetails))
	}
	bg := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("team/multi"), ImageIds: ids("v1")}))
	if *bg.Images[0].ImageManifest != string(wantRaw) || *bg.Images[0].ImageId.ImageDigest != wantDigest.String() ||
		*bg.Images[0].ImageManifestMediaType != string(im.MediaType) {
		t.Fatalf("BatchGetImage differs from what was pushed")
	}
}

func TestCrossAPI(t *testing.T) {
	e := start(t)
	e.createRepo("cross", func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = types.ImageTagMutabilityImmutable })
	// ECR PutImage, then an OCI pull.
	img := e.pushImage("cross", "ecr", 2)
	m := img.docker()
	must[*ecr.PutImageOutput](t)(e.putImage("cross", m, "from-ecr"))
	ref := must[name.Reference](t)(name.ParseReference(e.ref("cross:from-ecr"), name.Insecure))
	desc, err := remote.Get(ref, e.remoteOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	if string(desc.Manifest) != m || desc.Digest.String() != digestOf([]byte(m)) || string(desc.MediaType) != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Fatalf("OCI pull of an ECR image: %s %s", desc.Digest, desc.MediaType)
	}
	pulled, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	if layers, _ := pulled.Layers(); len(layers) != 2 {
		t.Fatalf("%d layers", len(layers))
	}
	// OCI push, then ECR reads.
	rimg, _ := random.Image(2048, 2)
	ociRef := must[name.Reference](t)(name.ParseReference(e.ref("cross:from-oci"), name.Insecure))
	if err := remote.Write(ociRef, rimg, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	rd, _ := rimg.Digest()
	raw, _ := rimg.RawManifest()
	det := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("cross"), ImageIds: ids("from-oci")})).ImageDetails[0]
	rm, _ := rimg.Manifest()
	var size int64 = rm.Config.Size
	for _, l := range rm.Layers {
		size += l.Size
	}
	if *det.ImageDigest != rd.String() || *det.ImageSizeInBytes != size {
		t.Fatalf("DescribeImages of an OCI push: %s size %d, want %s %d", *det.ImageDigest, *det.ImageSizeInBytes, rd, size)
	}
	if got := out0(t, e, "cross", "from-oci"); got != string(raw) {
		t.Fatal("BatchGetImage bytes differ from the pushed manifest")
	}
	// Immutable: refused on both paths, with the same meaning.
	other, _ := random.Image(100, 1)
	err = remote.Write(must[name.Reference](t)(name.ParseReference(e.ref("cross:from-ecr"), name.Insecure)), other, e.remoteOpts()...)
	var terr *transport.Error
	if !asTransportError(err, &terr) || terr.StatusCode != 400 || len(terr.Errors) == 0 || terr.Errors[0].Code != "TAG_INVALID" ||
		!strings.Contains(terr.Errors[0].Message, "immutable") {
		t.Fatalf("OCI push over an immutable tag: %v", err)
	}
	_, err = e.putImage("cross", string(raw), "from-ecr")
	wantError(t, err, "ImageTagAlreadyExistsException", 400)
	// Re-pushing identical content through OCI is not an error on a mutable repository.
	e.createRepo("cross-mutable")
	mref := must[name.Reference](t)(name.ParseReference(e.ref("cross-mutable:v1"), name.Insecure))
	for i := 0; i < 2; i++ {
		if err := remote.Write(mref, rimg, e.remoteOpts()...); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	// A missing repository is NAME_UNKNOWN without create-on-push, and
	// the message says how to have it.
	err = remote.Write(must[name.Reference](t)(name.ParseReference(e.ref("absent:v1"), name.Insecure)), rimg, e.remoteOpts()...)
	if !asTransportError(err, &terr) || terr.Errors[0].Code != "NAME_UNKNOWN" ||
		!strings.Contains(terr.Errors[0].Message, "aws ecr create-repository --repository-name absent") || !strings.Contains(terr.Errors[0].Message, "--create-on-push") {
		t.Fatalf("push to a missing repository: %v", err)
	}
}

func TestOCIProtocolDetails(t *testing.T) {
	e := start(t)
	e.createRepo("proto")
	pw := e.loginPassword()
	do := func(method, path string, body []byte, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req := must[*http.Request](t)(http.NewRequest(method, e.url+path, bytes.NewReader(body)))
		req.SetBasicAuth("AWS", pw)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return e.raw(req)
	}
	resp, _ := do("POST", "/v2/proto/blobs/uploads/", nil)
	if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-0" {
		t.Fatalf("start: %d %v", resp.StatusCode, resp.Header)
	}
	loc := resp.Header.Get("Location")
	resp, _ = do("PATCH", loc, []byte("hello "), "Content-Range", "0-5", "Content-Type", "application/octet-stream")
	if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-5" {
		t.Fatalf("patch: %d %v", resp.StatusCode, resp.Header)
	}
	// Out of order: 416 and where the upload stands.
	resp, _ = do("PATCH", loc, []byte("world"), "Content-Range", "7-11")
	if resp.StatusCode != 416 || resp.Header.Get("Range") != "0-5" || resp.Header.Get("Location") == "" {
		t.Fatalf("out of order: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do("GET", loc, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-5" {
		t.Fatalf("status: %d %v", resp.StatusCode, resp.Header)
	}
	data := []byte("hello world")
	resp, _ = do("PUT", loc+"?digest="+digestOf([]byte("wrong")), []byte("world"), "Content-Range", "6-10")
	if resp.StatusCode != 400 {
		t.Fatalf("bad digest: %d", resp.StatusCode)
	}
	resp, _ = do("PUT", loc+"?digest="+digestOf(data), nil)
	if resp.StatusCode != 201 || resp.Header.Get("Docker-Content-Digest") != digestOf(data) {
		t.Fatalf("finish: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := do("GET", "/v2/proto/blobs/"+digestOf(data), nil, "Range", "bytes=6-")
	if resp.StatusCode != 206 || string(body) != "world" {
		t.Fatalf("range get: %d %q", resp.StatusCode, body)
	}
	// Tags list pagination with Link.
	img := e.pushImage("proto", "tags", 1).docker()
	for i := 0; i < 5; i++ {
		must[*ecr.PutImageOutput](t)(e.putImage("proto", img, fmt.Sprintf("t%d", i)))
	}
	resp, body = do("GET", "/v2/proto/tags/list?n=2", nil)
	if resp.StatusCode != 200 || string(bytes.TrimSpace(body)) != `{"name":"proto","tags":["t0","t1"]}` || !strings.Contains(resp.Header.Get("Link"), "last=t1") {
		t.Fatalf("tags page: %d %s %v", resp.StatusCode, body, resp.Header.Get("Link"))
	}
	resp, body = do("GET", "/v2/proto/tags/list?n=2&last=t3", nil)
	if string(bytes.TrimSpace(body)) != `{"name":"proto","tags":["t4"]}` || resp.Header.Get("Link") != "" {
		t.Fatalf("last tags page: %s %v", body, resp.Header.Get("Link"))
	}
	resp, _ = do("GET", "/v2/proto/tags/list?n=-1", nil)
	if resp.StatusCode != 400 {
		t.Fatalf("bad n: %d", resp.StatusCode)
	}
	resp, body = do("GET", "/v2/_catalog?n=10", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"proto"`)) {
		t.Fatalf("catalog: %d %s", resp.StatusCode, body)
	}
	// Bad names and unknown repositories.
	if resp, _ := do("GET", "/v2/Bad/tags/list", nil); resp.StatusCode != 400 {
		t.Fatalf("bad name: %d", resp.StatusCode)
	}
	if resp, body := do("GET", "/v2/absent/tags/list", nil); resp.StatusCode != 404 || !bytes.Contains(body, []byte("NAME_UNKNOWN")) {
		t.Fatalf("absent: %d %s", resp.StatusCode, body)
	}
	if resp, body := do("PUT", "/v2/proto/manifests/v9", []byte("{not json"), "Content-Type", "application/vnd.oci.image.manifest.v1+json"); resp.StatusCode != 400 || !bytes.Contains(body, []byte("MANIFEST_INVALID")) {
		t.Fatalf("invalid manifest: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do("HEAD", "/v2/proto/manifests/absent", nil); resp.StatusCode != 404 {
		t.Fatalf("head absent: %d", resp.StatusCode)
	}
}

func asTransportError(err error, target **transport.Error) bool {
	if err == nil {
		return false
	}
	te, ok := err.(*transport.Error)
	if !ok {
		for u := err; u != nil; {
			if x, ok := u.(*transport.Error); ok {
				te, ok = x, true
				break
			}
			uw, ok := u.(interface{ Unwrap() error })
			if !ok {
				break
			}
			u = uw.Unwrap()
		}
	}
	*target = te
	return te != nil
}

// checkLayers pulls every layer of every image of an index and checks its
// bytes against its digest.
func checkLayers(t *testing.T, idx v1.ImageIndex) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(rc)
			rc.Close()
			if ld, _ := l.Digest(); digestOf(buf.Bytes()) != ld.String() {
				t.Fatalf("layer %s: content differs from its digest", ld)
			}
		}
	}
}
