package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cliRunner runs berth's own CLI (and the AWS CLI) against one berth.
type cliRunner struct {
	t   *testing.T
	e   *env
	dir string
	env []string
}

func newCLIRunner(t *testing.T, e *env) *cliRunner {
	dir := t.TempDir()
	return &cliRunner{t: t, e: e, dir: dir, env: append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+e.srv.Credential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Credential.SecretAccessKey,
		"AWS_DEFAULT_REGION="+testRegion, "AWS_REGION="+testRegion, "AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")}
}

// run runs bin ecr args... with --endpoint-url, returning stdout, stderr
// and the exit code.
func (c *cliRunner) run(bin string, args ...string) (string, string, int) {
	c.t.Helper()
	return c.runService(bin, "ecr", args...)
}

// runService runs bin service args... (ecr or ecr-public) with
// --endpoint-url.
func (c *cliRunner) runService(bin, service string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(bin, append(append([]string{service}, args...), "--endpoint-url", c.e.url)...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			c.t.Fatalf("%s: %v", bin, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// ok runs a command that must succeed.
func (c *cliRunner) ok(bin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(bin, args...)
	if code != 0 {
		c.t.Fatalf("%s ecr %s: exit %d\n%s", filepath.Base(bin), strings.Join(args, " "), code, errOut)
	}
	return out
}

func jsonField(t *testing.T, s string, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %s", s)
	}
	v, _ := m[key].(string)
	return v
}

// cliSeed uploads a config and a layer through the layer calls and writes
// manifest.json for them, returning the manifest.
func (c *cliRunner) cliSeed(bin, repo string) string {
	upload := func(name string, data []byte) string {
		os.WriteFile(filepath.Join(c.dir, name), data, 0o600)
		id := jsonField(c.t, c.ok(bin, "initiate-layer-upload", "--repository-name", repo), "uploadId")
		c.ok(bin, "upload-layer-part", "--repository-name", repo, "--upload-id", id, "--part-first-byte", "0",
			"--part-last-byte", strconv.Itoa(len(data)-1), "--layer-part-blob", "fileb://"+name)
		return jsonField(c.t, c.ok(bin, "complete-layer-upload", "--repository-name", repo, "--upload-id", id, "--layer-digests", digestOf(data)), "layerDigest")
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("hello from berth ecr")
	cfgDigest, layerDigest := upload("config.json", cfg), upload("layer.tar.gz", layer)
	if cfgDigest != digestOf(cfg) || layerDigest != digestOf(layer) {
		c.t.Fatalf("complete-layer-upload digests %s %s", cfgDigest, layerDigest)
	}
	manifest := `{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": ` + strconv.Itoa(len(cfg)) + `, "digest": "` + cfgDigest + `"},
   "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": ` + strconv.Itoa(len(layer)) + `, "digest": "` + layerDigest + `"}]
}
`
	os.WriteFile(filepath.Join(c.dir, "manifest.json"), []byte(manifest), 0o600)
	return manifest
}

// TestCLISeedFlow drives berth ecr through the seed workflow: a layer
// uploaded part by part from a file, put-image from a file, read back,
// queried, and the AWS CLI's error (exit 254) for a tag an IMMUTABLE
// repository already has.
func TestCLISeedFlow(t *testing.T) {
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	e := start(t)
	c := newCLIRunner(t, e)
	out := c.ok(bin, "create-repository", "--repository-name", "cli/app", "--image-tag-mutability", "IMMUTABLE", "--image-scanning-configuration", "scanOnPush=true")
	if !strings.Contains(out, `"imageTagMutability": "IMMUTABLE"`) || !strings.Contains(out, `"scanOnPush": true`) {
		t.Fatalf("create-repository printed %s", out)
	}
	manifest := c.cliSeed(bin, "cli/app")
	out = c.ok(bin, "put-image", "--repository-name", "cli/app", "--image-manifest", "file://manifest.json", "--image-tag", "v1")
	if !strings.Contains(out, `"imageDigest": "`+digestOf([]byte(manifest))+`"`) {
		t.Fatalf("put-image printed %s", out)
	}
	out = c.ok(bin, "batch-get-image", "--repository-name", "cli/app", "--image-ids", "imageTag=v1", "--query", "images[0].imageManifest", "--output", "text")
	if out != manifest+"\n" {
		t.Fatalf("batch-get-image manifest %q, want %q", out, manifest)
	}
	out = c.ok(bin, "describe-images", "--repository-name", "cli/app", "--query", "imageDetails[0].[imageDigest, imageTags[0], imageSizeInBytes]")
	want := "[\n    \"" + digestOf([]byte(manifest)) + "\",\n    \"v1\",\n    " + strconv.Itoa(len(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)+len("hello from berth ecr")) + "\n]\n"
	if out != want {
		t.Fatalf("describe-images --query printed\n%s\nwant\n%s", out, want)
	}

	stdout, stderr, code := c.run(bin, "put-image", "--repository-name", "cli/app", "--image-manifest", "file://manifest.json", "--image-tag", "v1")
	if code != 254 || stdout != "" {
		t.Fatalf("put-image of an existing tag: exit %d, stdout %q", code, stdout)
	}
	if want := "\nAn error occurred (ImageTagAlreadyExistsException) when calling the PutImage operation: " +
		"The image tag 'v1' already exists in the 'cli/app' repository and cannot be overwritten because the tag is immutable.\n"; stderr != want {
		t.Fatalf("stderr %q\nwant   %q", stderr, want)
	}
	if _, stderr, code := c.run(bin, "put-image", "--repository-name", "cli/app"); code != 252 || !strings.Contains(stderr, "the following arguments are required: --image-manifest") {
		t.Fatalf("missing parameter: exit %d, %s", code, stderr)
	}
	c.env = append(c.env, "AWS_SECRET_ACCESS_KEY=wrong")
	if _, stderr, code := c.run(bin, "describe-repositories"); code != 254 || !strings.Contains(stderr, "when calling the DescribeRepositories operation") {
		t.Fatalf("wrong secret: exit %d, %s", code, stderr)
	}
}

// TestCLIMatchesAWSCLI runs the same calls through the AWS CLI and berth
// ecr against one berth and wants the same output.
func TestCLIMatchesAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	e := start(t)
	c := newCLIRunner(t, e)
	createdAt := regexp.MustCompile(`"createdAt": [0-9.]+`)
	// Two repositories, as one cannot be created twice: they differ only
	// in their names and creation times.
	a := c.ok(awsBin, "create-repository", "--repository-name", "cmp/aws", "--image-tag-mutability", "IMMUTABLE")
	b := c.ok(bin, "create-repository", "--repository-name", "cmp/berth", "--image-tag-mutability", "IMMUTABLE")
	if norm := func(s, name string) string {
		return createdAt.ReplaceAllString(strings.ReplaceAll(s, name, "NAME"), `"createdAt": T`)
	}; norm(a, "cmp/aws") != norm(b, "cmp/berth") {
		t.Errorf("create-repository\naws:\n%s\nberth:\n%s", a, b)
	}
	c.cliSeed(bin, "cmp/berth")
	// put-image once each, with its own tag.
	a = c.ok(awsBin, "put-image", "--repository-name", "cmp/berth", "--image-manifest", "file://manifest.json", "--image-tag", "by-aws")
	b = c.ok(bin, "put-image", "--repository-name", "cmp/berth", "--image-manifest", "file://manifest.json", "--image-tag", "by-berth")
	if strings.ReplaceAll(a, "by-aws", "TAG") != strings.ReplaceAll(b, "by-berth", "TAG") {
		t.Errorf("put-image\naws:\n%s\nberth:\n%s", a, b)
	}
	for _, args := range [][]string{
		{"describe-repositories"},
		{"describe-repositories", "--output", "text"},
		{"describe-repositories", "--query", "repositories[].[repositoryName, imageTagMutability]", "--output", "text"},
		{"batch-get-image", "--repository-name", "cmp/berth", "--image-ids", "imageTag=by-aws", "imageTag=missing"},
		{"describe-images", "--repository-name", "cmp/berth"},
		{"describe-images", "--repository-name", "cmp/berth", "--query", "imageDetails[0]"},
		{"describe-images", "--repository-name", "cmp/berth", "--output", "text"},
		{"list-images", "--repository-name", "cmp/berth"},
		{"list-images", "--repository-name", "cmp/berth", "--filter", "tagStatus=UNTAGGED"},
		{"put-image", "--repository-name", "cmp/berth", "--image-manifest", "file://manifest.json", "--image-tag", "by-aws"},
		{"list-images", "--repository-name", "no-such-repository"},
		{"put-image", "--generate-cli-skeleton", "input"},
		{"describe-repositories", "--output", "table"},
		{"describe-images", "--repository-name", "cmp/berth", "--output", "table"},
		{"batch-get-image", "--repository-name", "cmp/berth", "--image-ids", "imageTag=by-aws", "imageTag=missing", "--output", "table"},
		{"list-images", "--repository-name", "no-such-repository", "--output", "table"},
	} {
		aOut, aErr, aCode := c.run(awsBin, args...)
		bOut, bErr, bCode := c.run(bin, args...)
		if aOut != bOut || aErr != bErr || (aCode == 0) != (bCode == 0) {
			t.Errorf("ecr %s:\naws (exit %d):\n%s%s\nberth (exit %d):\n%s%s", strings.Join(args, " "), aCode, aOut, aErr, bCode, bOut, bErr)
		}
	}
}
