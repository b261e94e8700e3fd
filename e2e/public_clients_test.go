package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// TestPublicAWSCLI is the aws ecr-public put-image page against berth:
// layers uploaded with the CLI, put-image from a file (its output shape as
// the page shows it), a retag with the manifest read from the public
// endpoint (ECR Public has no BatchGetImage), a push by digest,
// --cli-input-json with a flag overriding it, --generate-cli-skeleton,
// --image-manifest-media-type for a manifest without a mediaType, then
// describe-images, describe-image-tags and describe-registries.
func TestPublicAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	e, _ := startPublic(t)
	dir := t.TempDir()
	cli := awsCLI(t, awsBin, e, dir, "ecr-public")
	run := func(args ...string) []byte { t.Helper(); return cli(append(args, "--region", "us-east-1")...) }
	var v map[string]any
	decode := func(b []byte) map[string]any {
		t.Helper()
		v = nil
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		return v
	}
	repo := "seed/app"
	out := decode(run("create-repository", "--repository-name", repo, "--catalog-data", "description=seed,architectures=x86-64,operatingSystems=Linux"))
	if r := out["repository"].(map[string]any); r["repositoryUri"] != strings.TrimPrefix(e.srv.PublicURL(), "http://")+"/"+publicAlias+"/"+repo {
		t.Errorf("create-repository: %v", r)
	}
	upload := func(name string, data []byte) string {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
		id := decode(run("initiate-layer-upload", "--repository-name", repo, "--registry-id", publicAlias))["uploadId"].(string)
		run("upload-layer-part", "--repository-name", repo, "--upload-id", id, "--part-first-byte", "0",
			"--part-last-byte", strconv.Itoa(len(data)-1), "--layer-part-blob", "fileb://"+name)
		return decode(run("complete-layer-upload", "--repository-name", repo, "--upload-id", id, "--layer-digests", digestOf(data)))["layerDigest"].(string)
	}
	blobs := imageBlobs("cli-public", 1)
	upload("config.json", blobs[0])
	upload("layer.bin", blobs[1])
	manifest := imageOf("cli-public", 1).oci(nil)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o600)
	digest := digestOf([]byte(manifest))

	img := decode(run("put-image", "--repository-name", repo, "--image-manifest", "file://manifest.json", "--image-tag", "v1"))["image"].(map[string]any)
	id := img["imageId"].(map[string]any)
	if img["registryId"] != ownAccount || img["repositoryName"] != repo || id["imageDigest"] != digest || id["imageTag"] != "v1" ||
		img["imageManifest"] != manifest || img["imageManifestMediaType"] != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("put-image output: %v", img)
	}

	// Retag: the manifest's exact bytes from the public endpoint, anonymously.
	pub := e.srv.PublicURL()
	resp := must[*http.Response](t)(http.Get(pub + "/token/?scope=aws"))
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req := must[*http.Request](t)(http.NewRequest(http.MethodGet, pub+"/v2/"+publicAlias+"/"+repo+"/manifests/v1", nil))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp = must[*http.Response](t)(http.DefaultClient.Do(req))
	fetched, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(fetched) != manifest {
		t.Fatalf("the manifest from the public endpoint: %d %s", resp.StatusCode, fetched)
	}
	os.WriteFile(filepath.Join(dir, "fetched.json"), fetched, 0o600)
	img = decode(run("put-image", "--registry-id", ownAccount, "--repository-name", repo, "--image-manifest", "file://fetched.json", "--image-tag", "v2"))["image"].(map[string]any)
	if img["imageId"].(map[string]any)["imageDigest"] != digest {
		t.Errorf("retag: %v", img)
	}
	// The same manifest by digest alone exists already, as on ECR.
	cmd := exec.Command(awsBin, "ecr-public", "put-image", "--repository-name", repo, "--image-manifest", manifest, "--image-digest", digest,
		"--endpoint-url", e.url, "--region", "us-east-1")
	cmd.Env = awsEnv(e, dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "An error occurred (ImageAlreadyExistsException) when calling the PutImage operation") {
		t.Errorf("the same image again by digest: %v %s", err, out)
	}
	// Another by digest, inline, no tag.
	other := imageOf("cli-public", 1).oci(map[string]any{"annotations": map[string]string{"by": "digest"}})
	img = decode(run("put-image", "--repository-name", repo, "--image-manifest", other, "--image-digest", digestOf([]byte(other))))["image"].(map[string]any)
	if id := img["imageId"].(map[string]any); id["imageDigest"] != digestOf([]byte(other)) || id["imageTag"] != nil {
		t.Errorf("push by digest: %v", img)
	}
	// --cli-input-json, a flag overriding it.
	input, _ := json.Marshal(map[string]any{"repositoryName": repo, "imageManifest": manifest, "imageTag": "from-json"})
	os.WriteFile(filepath.Join(dir, "input.json"), input, 0o600)
	img = decode(run("put-image", "--cli-input-json", "file://input.json", "--image-tag", "from-flag"))["image"].(map[string]any)
	if img["imageId"].(map[string]any)["imageTag"] != "from-flag" {
		t.Errorf("--cli-input-json with --image-tag: %v", img)
	}
	skeleton := decode(run("put-image", "--generate-cli-skeleton"))
	for _, k := range []string{"registryId", "repositoryName", "imageManifest", "imageManifestMediaType", "imageTag", "imageDigest"} {
		if _, ok := skeleton[k]; !ok {
			t.Errorf("the skeleton lacks %s: %v", k, skeleton)
		}
	}
	// A manifest without a mediaType member, its type given by the flag.
	var bare map[string]any
	json.Unmarshal([]byte(manifest), &bare)
	delete(bare, "mediaType")
	bareBytes, _ := json.Marshal(bare)
	os.WriteFile(filepath.Join(dir, "bare.json"), bareBytes, 0o600)
	img = decode(run("put-image", "--repository-name", repo, "--image-manifest", "file://bare.json", "--image-tag", "bare",
		"--image-manifest-media-type", "application/vnd.oci.image.manifest.v1+json"))["image"].(map[string]any)
	if img["imageManifestMediaType"] != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("--image-manifest-media-type: %v", img)
	}

	details := decode(run("describe-images", "--repository-name", repo))["imageDetails"].([]any)
	if len(details) != 3 {
		t.Errorf("describe-images: %v", details)
	}
	tags := decode(run("describe-image-tags", "--repository-name", repo))["imageTagDetails"].([]any)
	if len(tags) != 4 {
		t.Errorf("describe-image-tags: %d tags, want 4 (v1, v2, from-flag, bare): %v", len(tags), tags)
	}
	regs := decode(run("describe-registries"))["registries"].([]any)
	if r := regs[0].(map[string]any); r["registryId"] != ownAccount || r["aliases"].([]any)[0].(map[string]any)["name"] != publicAlias {
		t.Errorf("describe-registries: %v", r)
	}
}

// TestPublicPodman pushes with podman logged in with the ecr-public
// password and pulls anonymously into empty storage, as public.ecr.aws is
// used.
func TestPublicPodman(t *testing.T) {
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (scripts/test installs Debian's podman)")
	}
	e, pub := startPublic(t)
	must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("podman/app")}))
	host := strings.TrimPrefix(e.srv.PublicURL(), "http://")
	dir := t.TempDir()
	podman := podmanIn(t, bin, dir)
	tok := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	password := strings.TrimPrefix(string(must[[]byte](t)(base64.StdEncoding.DecodeString(*tok.AuthorizationData.AuthorizationToken))), "AWS:")
	podman(password, "login", "--username", "AWS", "--password-stdin", "--tls-verify=false", host)
	ref := host + "/" + publicAlias + "/podman/app:v1"
	podman("", "import", rootfsTar(t, dir, "rootfs", "hello from the public registry"), ref)
	digestFile := filepath.Join(dir, "digest")
	podman("", "push", "--tls-verify=false", "--digestfile", digestFile, ref)
	pushed := must[[]byte](t)(os.ReadFile(digestFile))
	// Anonymous, into empty storage.
	podman("", "logout", "--all")
	anonDir := t.TempDir()
	os.WriteFile(filepath.Join(anonDir, "auth.json"), []byte("{}"), 0o600)
	anon := podmanIn(t, bin, anonDir)
	anon("", "pull", "--tls-verify=false", ref)
	var inspected []struct{ Digest string }
	if err := json.Unmarshal([]byte(anon("", "image", "inspect", ref)), &inspected); err != nil || len(inspected) != 1 || inspected[0].Digest != string(pushed) {
		t.Fatalf("pulled anonymously: %+v (%v), want %s", inspected, err, pushed)
	}
	images := must[*ecrpublic.DescribeImagesOutput](t)(pub.DescribeImages(ctx, &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("podman/app")}))
	if len(images.ImageDetails) != 1 || *images.ImageDetails[0].ImageDigest != string(pushed) {
		t.Errorf("DescribeImages after the podman push: %+v", images.ImageDetails)
	}
}

// TestPublicSkopeo copies an image to the public endpoint with skopeo and
// the ecr-public password, and back out with no credentials at all; the
// manifest comes back byte for byte.
func TestPublicSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo not installed (scripts/test installs it from Debian)")
	}
	e, pub := startPublic(t)
	must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("skopeo/app")}))
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	img := must[v1.Image](t)(random.Image(4096, 2))
	p := must[layout.Path](t)(layout.Write(src, empty.Index))
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(skopeo, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo %v: %v\n%s", args, err, out)
		}
	}
	tok := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	creds := string(must[[]byte](t)(base64.StdEncoding.DecodeString(*tok.AuthorizationData.AuthorizationToken)))
	ref := "docker://" + strings.TrimPrefix(e.srv.PublicURL(), "http://") + "/" + publicAlias + "/skopeo/app:v1"
	run("copy", "--dest-tls-verify=false", "--dest-creds", creds, "--preserve-digests", "oci:"+src, ref)
	out := filepath.Join(dir, "out")
	run("copy", "--src-tls-verify=false", "--src-no-creds", ref, "dir:"+out)
	raw, _ := img.RawManifest()
	if got, err := os.ReadFile(filepath.Join(out, "manifest.json")); err != nil || string(got) != string(raw) {
		t.Fatalf("the manifest differs after the round trip (%v)", err)
	}
}
