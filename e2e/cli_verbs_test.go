package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// verbRunner runs berth's everyday verbs (retag, ls, login, push, pull)
// against one berth, with a docker config of its own.
type verbRunner struct {
	*cliRunner
	bin, dockerConfig string
}

func newVerbRunner(t *testing.T) (*env, *verbRunner) {
	t.Helper()
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	e := start(t)
	c := newCLIRunner(t, e)
	v := &verbRunner{cliRunner: c, bin: bin, dockerConfig: filepath.Join(c.dir, "docker")}
	c.env = append(c.env, "DOCKER_CONFIG="+v.dockerConfig)
	return e, v
}

// verb runs berth VERB args... --endpoint-url URL.
func (v *verbRunner) verb(args ...string) (string, string, int) {
	v.t.Helper()
	cmd := exec.Command(v.bin, append(args, "--endpoint-url", v.e.url)...)
	cmd.Dir, cmd.Env = v.dir, v.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		v.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (v *verbRunner) mustVerb(args ...string) string {
	v.t.Helper()
	out, errOut, code := v.verb(args...)
	if code != 0 {
		v.t.Fatalf("berth %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// TestCLIVerbsRetag retags an image and wants the new tags on the same
// digest with the byte-identical manifest, even one spelled with spacing
// of its own that a re-encoding would lose.
func TestCLIVerbsRetag(t *testing.T) {
	e, v := newVerbRunner(t)
	e.createRepo("verbs/app")
	img := e.pushImage("verbs/app", "retag", 2)
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(img.oci(nil)), "", "    ")
	manifest := pretty.String() + "\n"
	digest := digestOf([]byte(manifest))
	if _, err := e.putImage("verbs/app", manifest, "v1"); err != nil {
		t.Fatal(err)
	}
	out := v.mustVerb("retag", "verbs/app:v1", "prod", "v1", "2024.01")
	if want := "verbs/app:prod " + digest + "\nverbs/app:v1 " + digest + "\nverbs/app:2024.01 " + digest + "\n"; out != want {
		t.Fatalf("retag printed %q, want %q", out, want)
	}
	got := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: strp("verbs/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: strp("prod")}, {ImageTag: strp("2024.01")}}}))
	if len(got.Images) != 2 || len(got.Failures) != 0 {
		t.Fatalf("BatchGetImage: %d images, failures %v", len(got.Images), got.Failures)
	}
	for _, im := range got.Images {
		if *im.ImageId.ImageDigest != digest || *im.ImageManifest != manifest || *im.ImageManifestMediaType != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("%s: digest %s, manifest %q", *im.ImageId.ImageTag, *im.ImageId.ImageDigest, *im.ImageManifest)
		}
	}
	if tags := e.tagsOf("verbs/app", digest); len(tags) != 3 {
		t.Errorf("tags %v", tags)
	}
	// By digest, too.
	v.mustVerb("retag", "verbs/app@"+digest, "by-digest")
	if tags := e.tagsOf("verbs/app", digest); len(tags) != 4 {
		t.Errorf("tags after retag by digest %v", tags)
	}

	stdout, stderr, code := v.verb("retag", "verbs/app:missing", "x")
	if code != 254 || stdout != "" || !strings.HasPrefix(stderr, "\nAn error occurred (ImageNotFound) when calling the BatchGetImage operation:") {
		t.Errorf("a missing tag: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	e.createRepo("verbs/locked", func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = types.ImageTagMutabilityImmutable })
	e.pushImage("verbs/locked", "retag", 2)
	e.putImage("verbs/locked", manifest, "v1")
	e.putImage("verbs/locked", img.docker(), "taken")
	_, stderr, code = v.verb("retag", "verbs/locked:v1", "taken")
	if want := "\nAn error occurred (ImageTagAlreadyExistsException) when calling the PutImage operation: " +
		"The image tag 'taken' already exists in the 'verbs/locked' repository and cannot be overwritten because the tag is immutable.\n"; code != 254 || stderr != want {
		t.Errorf("an immutable tag: exit %d, stderr %q, want %q", code, stderr, want)
	}
	if _, stderr, code := v.verb("retag", "verbs/app:v1"); code != 252 || !strings.Contains(stderr, "the following arguments are required: NEW_TAG") {
		t.Errorf("no new tag: exit %d, %q", code, stderr)
	}
}

// TestCLIVerbsLs lists the repositories and a repository's images, and
// wants --output json to be what berth ecr prints for the same call.
func TestCLIVerbsLs(t *testing.T) {
	e, v := newVerbRunner(t)
	for _, r := range []string{"verbs/b", "verbs/a"} {
		e.createRepo(r)
	}
	img := e.pushImage("verbs/a", "ls", 1)
	manifest := img.docker()
	e.putImage("verbs/a", manifest, "v1")
	e.putImage("verbs/a", manifest, "latest")
	other := e.pushImage("verbs/a", "ls-other", 1)
	e.putImage("verbs/a", other.oci(nil), "")

	lines := strings.Split(strings.TrimSuffix(v.mustVerb("ls"), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME URI CREATED" {
		t.Fatalf("ls printed %q", lines)
	}
	for i, r := range []string{"verbs/a", "verbs/b"} {
		f := strings.Fields(lines[i+1])
		if len(f) != 3 || f[0] != r || f[1] != e.host()+"/"+r || !regexpMatch(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, []byte(f[2])) {
			t.Errorf("ls line %q", lines[i+1])
		}
	}

	lines = strings.Split(strings.TrimSuffix(v.mustVerb("ls", "verbs/a"), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "DIGEST TAGS SIZE PUSHED" {
		t.Fatalf("ls verbs/a printed %q", lines)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("ls verbs/a line %q", l)
		}
		rows[f[0]] = f[1]
	}
	if rows[digestOf([]byte(manifest))] != "latest,v1" || rows[digestOf([]byte(other.oci(nil)))] != "<none>" {
		t.Errorf("ls verbs/a rows %v", rows)
	}

	if a, b := v.mustVerb("ls", "--output", "json"), v.ok(v.bin, "describe-repositories"); a != b {
		t.Errorf("ls --output json\n%s\nberth ecr describe-repositories\n%s", a, b)
	}
	if a, b := v.mustVerb("ls", "verbs/a", "--output", "json"), v.ok(v.bin, "describe-images", "--repository-name", "verbs/a"); a != b {
		t.Errorf("ls verbs/a --output json\n%s\nberth ecr describe-images\n%s", a, b)
	}
	if _, stderr, code := v.verb("ls", "verbs/none"); code != 254 || !strings.Contains(stderr, "(RepositoryNotFoundException) when calling the DescribeImages operation") {
		t.Errorf("ls of a missing repository: exit %d, %q", code, stderr)
	}
}

// TestCLIVerbsLogin logs in, then pulls with go-containerregistry's
// default keychain reading the docker config berth login wrote.
func TestCLIVerbsLogin(t *testing.T) {
	e, v := newVerbRunner(t)
	e.createRepo("verbs/login")
	ref := must[name.Reference](t)(name.ParseReference(e.ref("verbs/login:v1"), name.Insecure))
	img := must[v1.Image](t)(random.Image(512, 1))
	if err := remote.Write(ref, img, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", v.dockerConfig)
	if _, err := remote.Image(ref, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err == nil {
		t.Fatal("pulled before logging in")
	}
	os.MkdirAll(v.dockerConfig, 0o700)
	os.WriteFile(filepath.Join(v.dockerConfig, "config.json"), []byte(`{"auths":{"elsewhere.example":{"auth":"eDp5"}}}`), 0o600)
	if out := v.mustVerb("login"); out != "Login Succeeded\n" {
		t.Fatalf("login printed %q", out)
	}
	fi := must[os.FileInfo](t)(os.Stat(filepath.Join(v.dockerConfig, "config.json")))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v", fi.Mode())
	}
	var cfg struct{ Auths map[string]map[string]string }
	json.Unmarshal(must[[]byte](t)(os.ReadFile(filepath.Join(v.dockerConfig, "config.json"))), &cfg)
	if cfg.Auths["elsewhere.example"]["auth"] != "eDp5" || cfg.Auths[e.host()]["auth"] == "" {
		t.Errorf("config auths %v", cfg.Auths)
	}
	got, err := remote.Image(ref, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		t.Fatalf("pulling with the docker config: %v", err)
	}
	if must[v1.Hash](t)(got.Digest()) != must[v1.Hash](t)(img.Digest()) {
		t.Errorf("pulled another image")
	}

	password := strings.TrimSuffix(v.mustVerb("login", "--print"), "\n")
	if _, err := remote.Image(ref, remote.WithAuth(&authn.Basic{Username: "AWS", Password: password})); err != nil {
		t.Errorf("pulling with login --print's password: %v", err)
	}
	v.mustVerb("login", "--registry", "registry.example:8443")
	json.Unmarshal(must[[]byte](t)(os.ReadFile(filepath.Join(v.dockerConfig, "config.json"))), &cfg)
	if cfg.Auths["registry.example:8443"]["auth"] == "" || cfg.Auths[e.host()]["auth"] == "" {
		t.Errorf("config auths after --registry %v", cfg.Auths)
	}
}

// TestCLIVerbsPushPull pushes an OCI layout and a docker-archive, pulls
// them back into both, and wants the same image each way.
func TestCLIVerbsPushPull(t *testing.T) {
	e, v := newVerbRunner(t)
	e.createRepo("verbs/pp")
	img := must[v1.Image](t)(random.Image(2048, 2))
	digest := must[v1.Hash](t)(img.Digest())
	src := filepath.Join(v.dir, "src")
	p := must[layout.Path](t)(layout.Write(src, empty.Index))
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ref := e.ref("verbs/pp:v1")
	if out := v.mustVerb("push", src, ref, "--insecure"); out != ref+" "+digest.String()+"\n" {
		t.Fatalf("push printed %q", out)
	}
	remoteRef := must[name.Reference](t)(name.ParseReference(ref, name.Insecure))
	if d := must[*remote.Descriptor](t)(remote.Get(remoteRef, e.remoteOpts()...)); d.Digest != digest {
		t.Fatalf("berth has %s, want %s", d.Digest, digest)
	}

	// Into a new layout, and again into the same one: one image.
	dst := filepath.Join(v.dir, "dst")
	for range 2 {
		if out := v.mustVerb("pull", ref, dst); out != ref+" "+digest.String()+"\n" {
			t.Fatalf("pull printed %q", out)
		}
	}
	ii := must[v1.ImageIndex](t)(must[layout.Path](t)(layout.FromPath(dst)).ImageIndex())
	im := must[*v1.IndexManifest](t)(ii.IndexManifest())
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digest || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1" {
		t.Fatalf("the pulled layout's index %+v", im.Manifests)
	}
	pulled := must[v1.Image](t)(ii.Image(digest))
	layers := must[[]v1.Layer](t)(pulled.Layers())
	if len(layers) != 2 {
		t.Fatalf("%d layers", len(layers))
	}

	// A docker-archive: the same config and layers.
	tarPath := filepath.Join(v.dir, "app.tar")
	v.mustVerb("pull", ref, tarPath)
	fromTar := must[v1.Image](t)(tarball.ImageFromPath(tarPath, nil))
	if must[v1.Hash](t)(fromTar.ConfigName()) != must[v1.Hash](t)(img.ConfigName()) {
		t.Fatalf("the tarball's config differs")
	}
	ref2 := e.ref("verbs/pp:from-tar")
	v.mustVerb("push", tarPath, ref2)
	back := must[v1.Image](t)(remote.Image(must[name.Reference](t)(name.ParseReference(ref2, name.Insecure)), e.remoteOpts()...))
	wantDiffs := diffIDs(t, img)
	if got := diffIDs(t, back); strings.Join(got, ",") != strings.Join(wantDiffs, ",") || must[v1.Hash](t)(back.ConfigName()) != must[v1.Hash](t)(img.ConfigName()) {
		t.Errorf("the image pushed from the tarball: diff ids %v, want %v", got, wantDiffs)
	}

	if _, stderr, code := v.verb("push", filepath.Join(v.dir, "nowhere"), ref); code != 252 || !strings.Contains(stderr, "nowhere") {
		t.Errorf("push of a missing source: exit %d, %q", code, stderr)
	}
	if _, stderr, code := v.verb("pull", e.ref("verbs/pp:absent"), filepath.Join(v.dir, "x")); code == 0 || !strings.Contains(stderr, "verbs/pp:absent") {
		t.Errorf("pull of a missing tag: exit %d, %q", code, stderr)
	}
}

func diffIDs(t *testing.T, img v1.Image) []string {
	t.Helper()
	var ids []string
	for _, l := range must[[]v1.Layer](t)(img.Layers()) {
		ids = append(ids, must[v1.Hash](t)(l.DiffID()).String())
	}
	return ids
}

func strp(s string) *string { return &s }
