package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// newPublicVerbRunner is newVerbRunner against a berth that serves the
// public registry endpoint too, with ECR Public's client.
func newPublicVerbRunner(t *testing.T) (*env, *ecrpublic.Client, *verbRunner) {
	t.Helper()
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	e, pub := startPublic(t)
	c := newCLIRunner(t, e)
	v := &verbRunner{cliRunner: c, bin: bin, dockerConfig: filepath.Join(c.dir, "docker")}
	c.env = append(c.env, "DOCKER_CONFIG="+v.dockerConfig)
	return e, pub, v
}

// publicManifest GETs a manifest from the public endpoint anonymously, as
// a client without credentials does: the anonymous token, then the
// manifest with every type accepted.
func publicManifest(t *testing.T, e *env, repo, reference string) (*http.Response, []byte) {
	t.Helper()
	base := e.srv.PublicURL()
	resp := must[*http.Response](t)(http.Get(base + "/token/"))
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req := must[*http.Request](t)(http.NewRequest(http.MethodGet, base+"/v2/"+publicAlias+"/"+repo+"/manifests/"+reference, nil))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "+
		"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
	resp = must[*http.Response](t)(http.DefaultClient.Do(req))
	defer resp.Body.Close()
	return resp, must[[]byte](t)(io.ReadAll(resp.Body))
}

// TestCLIPublicVerbs drives the everyday verbs over ECR Public and the
// public registry endpoint: login --public writes the docker config's
// entry for the endpoint's host (from DescribeRegistries), which a client
// then pushes with; push --public with ECR Public's token; pull --public
// with no credentials at all; retag --public puts the byte-identical
// manifest read from the endpoint under new tags; ls --public lists ECR
// Public's repositories and images, its JSON the same as berth
// ecr-public's.
func TestCLIPublicVerbs(t *testing.T) {
	e, pub, v := newPublicVerbRunner(t)
	host := strings.TrimPrefix(e.srv.PublicURL(), "http://")
	for _, r := range []string{"cli/app", "cli/other"} {
		must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String(r)}))
	}
	e.createRepo("cli/private")

	// login --public, then a client pushing with the docker config (an
	// anonymous push is refused).
	if out := v.mustVerb("login", "--public"); out != "Login Succeeded\n" {
		t.Fatalf("login --public printed %q", out)
	}
	var cfg struct{ Auths map[string]map[string]string }
	json.Unmarshal(must[[]byte](t)(os.ReadFile(filepath.Join(v.dockerConfig, "config.json"))), &cfg)
	auth := must[[]byte](t)(base64.StdEncoding.DecodeString(cfg.Auths[host]["auth"]))
	if !strings.HasPrefix(string(auth), "AWS:") || len(cfg.Auths) != 1 {
		t.Fatalf("the docker config's auths after login --public: %v", cfg.Auths)
	}
	t.Setenv("DOCKER_CONFIG", v.dockerConfig)
	ref := must[name.Reference](t)(name.ParseReference(host+"/"+publicAlias+"/cli/app:from-login", name.Insecure))
	img := must[v1.Image](t)(random.Image(1024, 2))
	if err := remote.Write(ref, img); err == nil {
		t.Fatal("an anonymous push to the public endpoint was accepted")
	}
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		t.Fatalf("a push with the docker config login --public wrote: %v", err)
	}
	password := strings.TrimSuffix(v.mustVerb("login", "--public", "--print"), "\n")
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: password})); err != nil {
		t.Errorf("login --public --print's password does not push: %v", err)
	}
	v.mustVerb("login", "--public", "--registry", "public.example:8443")
	json.Unmarshal(must[[]byte](t)(os.ReadFile(filepath.Join(v.dockerConfig, "config.json"))), &cfg)
	if cfg.Auths["public.example:8443"]["auth"] == "" || cfg.Auths[host]["auth"] == "" {
		t.Errorf("auths after login --public --registry: %v", cfg.Auths)
	}

	// push --public of an OCI layout; pull --public with no credentials
	// and an API that does not answer: a pull makes no call.
	pushed := must[v1.Image](t)(random.Image(2048, 2))
	digest := must[v1.Hash](t)(pushed.Digest())
	src := filepath.Join(v.dir, "src")
	if err := must[layout.Path](t)(layout.Write(src, empty.Index)).AppendImage(pushed); err != nil {
		t.Fatal(err)
	}
	pushRef := host + "/" + publicAlias + "/cli/app:pushed"
	if out := v.mustVerb("push", "--public", src, pushRef); out != pushRef+" "+digest.String()+"\n" {
		t.Fatalf("push --public printed %q", out)
	}
	dst := filepath.Join(v.dir, "dst")
	cmd := exec.Command(v.bin, "pull", "--public", pushRef, dst, "--endpoint-url", "http://127.0.0.1:1")
	cmd.Env = []string{"HOME=" + v.dir, "PATH=" + os.Getenv("PATH"), "AWS_CONFIG_FILE=" + filepath.Join(v.dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(v.dir, "none")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stdout.String() != pushRef+" "+digest.String()+"\n" {
		t.Fatalf("pull --public without credentials: %v, %q, %s", err, stdout.String(), stderr.String())
	}
	im := must[*v1.IndexManifest](t)(must[v1.ImageIndex](t)(must[layout.Path](t)(layout.FromPath(dst)).ImageIndex()).IndexManifest())
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digest {
		t.Errorf("the pulled layout: %+v", im.Manifests)
	}

	// retag --public: a manifest spelled with spacing of its own, which
	// a re-encoding would lose.
	for _, b := range imageBlobs("public-retag", 2) {
		pushPublicBlob(t, pub, "cli/app", b)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(imageOf("public-retag", 2).oci(nil)), "", "   ")
	manifest := pretty.String() + "\n"
	mdigest := digestOf([]byte(manifest))
	must[*ecrpublic.PutImageOutput](t)(pub.PutImage(ctx, &ecrpublic.PutImageInput{RepositoryName: aws.String("cli/app"), ImageManifest: &manifest, ImageTag: aws.String("v1")}))
	out := v.mustVerb("retag", "--public", "cli/app:v1", "prod", "v1", "2024.01")
	if want := "cli/app:prod " + mdigest + "\ncli/app:v1 " + mdigest + "\ncli/app:2024.01 " + mdigest + "\n"; out != want {
		t.Fatalf("retag --public printed %q, want %q", out, want)
	}
	for _, tag := range []string{"prod", "2024.01"} {
		resp, body := publicManifest(t, e, "cli/app", tag)
		if resp.StatusCode != 200 || string(body) != manifest || resp.Header.Get("Docker-Content-Digest") != mdigest ||
			resp.Header.Get("Content-Type") != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("%s from the public endpoint: %d %s %s\n%s", tag, resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Content-Type"), body)
		}
	}
	// By digest; and a manifest without a mediaType member (podman's),
	// which PutImage takes only with the media type retag passes on.
	v.mustVerb("retag", "--public", "cli/app@"+mdigest, "by-digest")
	bare := strings.Replace(imageOf("public-retag", 2).oci(nil), `"mediaType":"application/vnd.oci.image.manifest.v1+json",`, "", 1)
	must[*ecrpublic.PutImageOutput](t)(pub.PutImage(ctx, &ecrpublic.PutImageInput{RepositoryName: aws.String("cli/app"), ImageManifest: &bare,
		ImageManifestMediaType: aws.String("application/vnd.oci.image.manifest.v1+json"), ImageTag: aws.String("bare")}))
	if out := v.mustVerb("retag", "--public", "cli/app:bare", "bare-again"); out != "cli/app:bare-again "+digestOf([]byte(bare))+"\n" {
		t.Errorf("retag --public of a manifest without mediaType printed %q", out)
	}
	if resp, body := publicManifest(t, e, "cli/app", "bare-again"); string(body) != bare {
		t.Errorf("bare-again: %d %s", resp.StatusCode, body)
	}
	// ECR Public has no tag immutability: a tag on another image moves.
	v.mustVerb("retag", "--public", "cli/app:bare", "prod")
	if _, body := publicManifest(t, e, "cli/app", "prod"); string(body) != bare {
		t.Errorf("prod did not move to the other image: %s", body)
	}
	tags := must[*ecrpublic.DescribeImageTagsOutput](t)(pub.DescribeImageTags(ctx, &ecrpublic.DescribeImageTagsInput{RepositoryName: aws.String("cli/app")}))
	byTag := map[string]string{}
	for _, d := range tags.ImageTagDetails {
		byTag[*d.ImageTag] = *d.ImageDetail.ImageDigest
	}
	for tag, want := range map[string]string{"v1": mdigest, "2024.01": mdigest, "by-digest": mdigest, "bare-again": digestOf([]byte(bare)), "prod": digestOf([]byte(bare))} {
		if byTag[tag] != want {
			t.Errorf("DescribeImageTags: %s is on %s, want %s", tag, byTag[tag], want)
		}
	}
	_, stderr2, code := v.verb("retag", "--public", "cli/app:missing", "x")
	if code != 255 || !strings.Contains(stderr2, host+"/"+publicAlias+"/cli/app:missing") || !strings.Contains(stderr2, "MANIFEST_UNKNOWN") {
		t.Errorf("retag --public of a missing tag: exit %d, %q", code, stderr2)
	}
	_, stderr2, code = v.verb("retag", "--public", "cli/private:v1", "x")
	if code != 254 || !strings.HasPrefix(stderr2, "\nAn error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation:") {
		t.Errorf("retag --public of a private repository: exit %d, %q", code, stderr2)
	}

	// ls --public: ECR Public's repositories, not the private one.
	lines := strings.Split(strings.TrimSuffix(v.mustVerb("ls", "--public"), "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME URI CREATED" {
		t.Fatalf("ls --public printed %q", lines)
	}
	for i, r := range []string{"cli/app", "cli/other"} {
		if f := strings.Fields(lines[i+1]); len(f) != 3 || f[0] != r || f[1] != host+"/"+publicAlias+"/"+r {
			t.Errorf("ls --public line %q", lines[i+1])
		}
	}
	if a, b := v.mustVerb("ls", "--public", "--output", "json"), v.okService("ecr-public", "describe-repositories"); a != b {
		t.Errorf("ls --public --output json\n%s\nberth ecr-public describe-repositories\n%s", a, b)
	}
	if a, b := v.mustVerb("ls", "--public", "cli/app", "--output", "json"), v.okService("ecr-public", "describe-images", "--repository-name", "cli/app"); a != b {
		t.Errorf("ls --public cli/app --output json\n%s\nberth ecr-public describe-images\n%s", a, b)
	}
	lines = strings.Split(strings.TrimSuffix(v.mustVerb("ls", "--public", "cli/app"), "\n"), "\n")
	if len(lines) != 5 || strings.Join(strings.Fields(lines[0]), " ") != "DIGEST TAGS SIZE PUSHED" {
		t.Errorf("ls --public cli/app printed %q", lines)
	}
	if out := v.mustVerb("ls"); strings.Contains(out, "cli/app") || !strings.Contains(out, "cli/private") {
		t.Errorf("ls (private) printed %q", out)
	}
	_, stderr2, code = v.verb("ls", "--public", "cli/none")
	if code != 254 || !strings.Contains(stderr2, "(RepositoryNotFoundException) when calling the DescribeImages operation") {
		t.Errorf("ls --public of a missing repository: exit %d, %q", code, stderr2)
	}

	// The API at AWS_ENDPOINT_URL_ECR, as berth env exports it: berth
	// serves ECR Public on the same address.
	cmd = exec.Command(v.bin, "ls", "--public", "--output", "json")
	cmd.Env = append(append([]string{}, v.env...), "AWS_ENDPOINT_URL_ECR="+e.url, "AWS_ENDPOINT_URL_ECR_PUBLIC=")
	if got, err := cmd.Output(); err != nil || string(got) != v.okService("ecr-public", "describe-repositories") {
		t.Errorf("ls --public with AWS_ENDPOINT_URL_ECR: %v\n%s", err, got)
	}

	for _, verb := range []string{"retag", "ls", "login", "push", "pull"} {
		if out := v.mustVerb(verb, "--help"); !strings.Contains(out, "--public") {
			t.Errorf("berth %s --help does not document --public:\n%s", verb, out)
		}
	}
}

// okService runs berth SERVICE args... and wants it to succeed.
func (v *verbRunner) okService(service string, args ...string) string {
	v.t.Helper()
	out, errOut, code := v.runService(v.bin, service, args...)
	if code != 0 {
		v.t.Fatalf("berth %s %s: exit %d\n%s", service, strings.Join(args, " "), code, errOut)
	}
	return out
}

// TestCLIPublicLoginAccess: ECR Public's token needs
// sts:GetServiceBearerToken as well, and login --public fails with the
// service's refusal (254) without it; a reader without
// ecr-public:DescribeRegistries names the host with --registry.
func TestCLIPublicLoginAccess(t *testing.T) {
	e, _, v := newPublicVerbRunner(t)
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, "")}
	as := func(u *user) {
		v.env = append(v.env, "AWS_ACCESS_KEY_ID="+u.id, "AWS_SECRET_ACCESS_KEY="+u.key)
	}
	ci := a.newUser(t, a.iam, "ci", nil, map[string]string{"token": allow(`"ecr-public:GetAuthorizationToken"`, "*")})
	as(ci)
	_, stderr, code := v.verb("login", "--public")
	if want := "\nAn error occurred (AccessDeniedException) when calling the GetAuthorizationToken operation: " +
		noAllow(ci.arn, "sts:GetServiceBearerToken", "*", "identity") + "\n"; code != 254 || stderr != want {
		t.Errorf("login --public without sts:GetServiceBearerToken: exit %d, %q, want %q", code, stderr, want)
	}
	tokenOnly := a.newUser(t, a.iam, "token", nil, map[string]string{"token": allow(`["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"]`, "*")})
	as(tokenOnly)
	if _, stderr, code := v.verb("login", "--public"); code != 254 || !strings.Contains(stderr, "when calling the DescribeRegistries operation") {
		t.Errorf("login --public without ecr-public:DescribeRegistries: exit %d, %q", code, stderr)
	}
	if out := v.mustVerb("login", "--public", "--registry", strings.TrimPrefix(e.srv.PublicURL(), "http://")); out != "Login Succeeded\n" {
		t.Errorf("login --public --registry printed %q", out)
	}
}
