package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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
	return c.runAt(bin, c.e.url, service, args...)
}

// runAt runs bin service args... with --endpoint-url endpoint.
func (c *cliRunner) runAt(bin, endpoint, service string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(bin, append(append([]string{service}, args...), "--endpoint-url", endpoint)...)
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

// awsV1 reports whether the AWS CLI at hand is version 1, which exits
// 255 where v2 (and berth) exit 252: for a parameter refused before any
// call ("Parameter validation failed", "Error parsing parameter").
func awsV1(t *testing.T, awsBin string) bool {
	t.Helper()
	out, err := exec.Command(awsBin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v", err)
	}
	return strings.HasPrefix(string(out), "aws-cli/1.")
}

// sameExit compares the AWS CLI's and berth's exit codes for the same
// command: equal, but where berth refused a parameter (252) and AWS CLI v1
// exits 255 for it.
func sameExit(v1 bool, awsCode, berthCode int, berthStderr string) bool {
	param := strings.HasPrefix(berthStderr, "\nParameter validation failed:") || strings.HasPrefix(berthStderr, "\nError parsing parameter") ||
		strings.Contains(berthStderr, "\n\nParameter validation failed:")
	if param && v1 {
		return awsCode == 255 && berthCode == 252
	}
	return awsCode == berthCode
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
	awsBin, bin := awsAndBerth(t)
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

	// Nested shorthand into berth, by each CLI: the same repositories,
	// tags and catalog data.
	norm := func(s, name string) string {
		return createdAt.ReplaceAllString(strings.ReplaceAll(s, name, "NAME"), `"createdAt": T`)
	}
	for _, args := range [][]string{
		{"ecr", "create-repository", "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION",
			"--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest", "filterType=WILDCARD,filter='dev-*'",
			"--encryption-configuration", "encryptionType=AES256", "--image-scanning-configuration", "scanOnPush=true",
			"--tags", `Key=team,Value="a,b"`, "Key = env , Value = 'x=y'"},
		{"ecr-public", "create-repository", "--catalog-data",
			`description=A hello\, world image,architectures=x86-64,ARM 64,operatingSystems=[Linux],usageText="podman pull x"`, "--tags", "Key=k,Value=v"},
	} {
		var outs []string
		for _, run := range []struct{ bin, name string }{{awsBin, "nested/by-aws"}, {bin, "nested/by-berth"}} {
			out, errOut, code := c.runService(run.bin, args[0], append(append([]string{}, args[1:]...), "--repository-name", run.name)...)
			if code != 0 {
				t.Fatalf("%s %s: exit %d\n%s", run.bin, strings.Join(args, " "), code, errOut)
			}
			arn := "arn:aws:ecr:" + testRegion + ":" + testRegistryID + ":repository/" + run.name
			if args[0] == "ecr-public" {
				arn = "arn:aws:ecr-public::" + testRegistryID + ":repository/" + run.name
			}
			tags, errOut, code := c.runService(bin, args[0], "list-tags-for-resource", "--resource-arn", arn)
			if code != 0 {
				t.Fatalf("list-tags-for-resource %s: %s", arn, errOut)
			}
			outs = append(outs, norm(out+tags, run.name))
		}
		if outs[0] != outs[1] {
			t.Errorf("%s into berth\nby aws:\n%s\nby berth:\n%s", strings.Join(args, " "), outs[0], outs[1])
		}
	}
}

// recorder is an ECR that answers {} to everything and keeps what it was
// sent: X-Amz-Target and the body.
type recorder struct {
	mu       sync.Mutex
	requests []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, req.Header.Get("X-Amz-Target")+" "+string(b))
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	io.WriteString(w, "{}")
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.requests
	r.requests = nil
	return got
}

// newRecorderRunner is a cliRunner for a recorder, with credentials of no
// berth.
func newRecorderRunner(t *testing.T) (*cliRunner, *recorder, string) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	c := &cliRunner{t: t, dir: dir, env: append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDRECORDER", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION="+testRegion, "AWS_REGION="+testRegion, "AWS_CONFIG_FILE="+filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")}
	return c, rec, srv.URL
}

// TestCLIShorthandMatchesAWSCLI sends the same command lines, with nested
// shorthand (structures in structures, lists of structures as arguments
// of their own, quoted values with commas, escaped commas, whitespace,
// key@=file://), through the AWS CLI and berth to a server that keeps
// the requests, and wants the same requests byte for byte (the members in
// the same order, the JSON spelled as Python's json.dumps), and the same
// output.
func TestCLIShorthandMatchesAWSCLI(t *testing.T) {
	awsBin, bin := awsAndBerth(t)
	c, rec, url := newRecorderRunner(t)
	os.WriteFile(filepath.Join(c.dir, "about.md"), []byte("# About\n\nIt's \"quoted\", with commas.\n"), 0o600)
	for _, args := range [][]string{
		{"ecr", "create-repository", "--repository-name", "team/app", "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION",
			"--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest", "filterType=WILDCARD,filter='dev-*'",
			"--encryption-configuration", "encryptionType=KMS,kmsKey=arn:aws:kms:us-east-1:123456789012:key/k",
			"--image-scanning-configuration", "scanOnPush=TRUE", "--tags", `Key=team,Value="a,b"`, "Key = env , Value = 'x=y'", `Key=c,Value=one\,two`},
		{"ecr", "put-image-tag-mutability", "--repository-name", "team/app", "--image-tag-mutability", "MUTABLE_WITH_EXCLUSION",
			"--image-tag-mutability-exclusion-filters", `[{"filterType": "WILDCARD", "filter": "release-*"}]`},
		{"ecr", "create-repository-creation-template", "--prefix", "team", "--applied-for", "CREATE_ON_PUSH", "REPLICATION",
			"--encryption-configuration", "encryptionType=AES256", "--resource-tags", "Key=a,Value=b", "Key=c,Value=",
			"--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=v*", "--description", "d, e"},
		{"ecr", "describe-images", "--repository-name", "team/app", "--image-ids", "imageTag=a", "imageDigest=sha256:1,imageTag=b",
			"--filter", "tagStatus=TAGGED,imageStatus=ACTIVE", "--max-results", "5"},
		{"ecr", "batch-get-image", "--repository-name", "team/app", "--image-ids", `{"imageTag": "é"}`, `{"imageDigest": "sha256:1"}`,
			"--accepted-media-types", "application/vnd.oci.image.manifest.v1+json"},
		{"ecr", "list-images", "--repository-name", "team/app", "--filter", "tagStatus=UNTAGGED", "--page-size", "3"},
		{"ecr-public", "create-repository", "--repository-name", "hello", "--catalog-data",
			`description=A hello\, world image,architectures=x86-64,ARM 64,operatingSystems=[Linux],aboutText@=file://about.md,usageText="podman pull x"`,
			"--tags", "Key=k,Value=v"},
		{"ecr-public", "put-repository-catalog-data", "--repository-name", "hello", "--catalog-data", "description=d,architectures=ARM,logoImageBlob=abc"},
		{"ecr-public", "batch-delete-image", "--repository-name", "hello", "--image-ids", "imageTag=v1", "imageDigest=sha256:1"},
	} {
		aOut, aErr, aCode := c.runAt(awsBin, url, args[0], args[1:]...)
		aSent := rec.take()
		bOut, bErr, bCode := c.runAt(bin, url, args[0], args[1:]...)
		bSent := rec.take()
		if strings.Join(aSent, "\n") != strings.Join(bSent, "\n") || len(bSent) == 0 || aOut != bOut || aErr != bErr || aCode != bCode {
			t.Errorf("%s:\naws (exit %d) sent\n%s\n%s%s\nberth (exit %d) sent\n%s\n%s%s", strings.Join(args, " "),
				aCode, strings.Join(aSent, "\n"), aOut, aErr, bCode, strings.Join(bSent, "\n"), bOut, bErr)
		}
	}
}

// TestCLIValidationMatchesAWSCLI runs command lines the AWS CLI refuses
// before any call, botocore's validation (required members, types, the
// model's minimum lengths and values) or its parsing of a value, and wants
// the same stderr byte for byte from berth, no request sent by either, and
// v2's exit code: 252 (v1 exits 255).
func TestCLIValidationMatchesAWSCLI(t *testing.T) {
	awsBin, bin := awsAndBerth(t)
	v1 := awsV1(t, awsBin)
	c, rec, url := newRecorderRunner(t)
	for _, tc := range []struct {
		args []string
		// location is what a shorthand syntax error points at: AWS CLI
		// 1.45 prints "{self._error_location()}" in its place, a string
		// it forgot to format; berth prints the location.
		location string
	}{
		{args: []string{"ecr", "describe-repositories", "--repository-names", "a", "b", ""}},
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--max-results", "0", "--no-paginate"}},
		{args: []string{"ecr", "describe-repositories", "--page-size", "0"}},
		{args: []string{"ecr", "describe-images", "--cli-input-json", `{"maxResults": true, "repositoryName": 5, "x": {"a": [1]}}`}},
		{args: []string{"ecr", "describe-images", "--cli-input-json", `{"maxResults": false, "repositoryName": null, "imageIds": {"a": 1}}`}},
		{args: []string{"ecr", "put-image", "--cli-input-json", `{"imageManifest": ""}`}},
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--image-ids", `[{"imageTag": {"a": 1, "b": [2.50]}}]`}},
		{args: []string{"ecr", "create-repository", "--repository-name", "a", "--image-scanning-configuration", "scanOnPush=yes,extra=1", "--tags", "Key=a", "Key=b,Value=[c,d]"}},
		{args: []string{"ecr", "upload-layer-part", "--repository-name", "ab", "--upload-id", "u", "--part-first-byte", "-1", "--part-last-byte", "0", "--layer-part-blob", "x"}},
		{args: []string{"ecr-public", "create-repository", "--repository-name", "a", "--catalog-data", `{"architectures": ["x", ""], "logoImageBlob": []}`}},
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--filter", `{"tagStatus": "TAGGED",}`}},
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--filter", "[1]"}},
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--cli-input-json", "{\"repositoryName\":\n 1 2}"}},
		{args: []string{"ecr", "create-repository", "--repository-name", "ab", "--image-scanning-configuration", "scanOnPush=true,scanOnPush=false"}},
		{args: []string{"ecr", "create-repository", "--repository-name", "ab", "--image-scanning-configuration", "scanOnPush==true"},
			location: "scanOnPush==true\n           ^"},
		{args: []string{"ecr", "create-repository", "--repository-name", "ab", "--tags", "Key=a,Value=[b,c"},
			location: "Key=a,Value=[b,c\n                ^"},
		{args: []string{"ecr", "create-repository", "--repository-name", "ab", "--tags", "Key='it\\'s,Value=x"},
			location: "Key='it\\'s,Value=x\n         ^"},
		// Python's own exceptions, which the AWS CLI does not catch: 255
		// from both.
		{args: []string{"ecr", "describe-images", "--repository-name", "ab", "--max-results", "x1"}},
		{args: []string{"ecr", "create-repository", "--repository-name", "ab", "--image-scanning-configuration", "scanOnPush=[true]"}},
		{args: []string{"ecr", "put-image", "--cli-input-json", "[1]"}},
	} {
		aOut, aErr, aCode := c.runAt(awsBin, url, tc.args[0], tc.args[1:]...)
		bOut, bErr, bCode := c.runAt(bin, url, tc.args[0], tc.args[1:]...)
		if tc.location != "" {
			if !strings.Contains(aErr, "{self._error_location()}") {
				t.Errorf("%s: the AWS CLI printed a location; berth's test expects 1.45's placeholder: %q", strings.Join(tc.args, " "), aErr)
			}
			aErr = strings.Replace(aErr, "{self._error_location()}", tc.location, 1)
		}
		if sent := rec.take(); len(sent) != 0 {
			t.Errorf("%s: sent %v", strings.Join(tc.args, " "), sent)
		}
		if aOut != bOut || aErr != bErr || !sameExit(v1, aCode, bCode, bErr) || bCode == 0 {
			t.Errorf("%s:\naws (exit %d):\n%s%s\nberth (exit %d):\n%s%s", strings.Join(tc.args, " "), aCode, aOut, aErr, bCode, bOut, bErr)
		}
	}
}

// awsAndBerth is the AWS CLI on PATH (or a skip) and berth built, for the
// tests that compare the two.
func awsAndBerth(t *testing.T) (awsBin, bin string) {
	t.Helper()
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	if bin, err = buildBerth(); err != nil {
		t.Fatal(err)
	}
	return awsBin, bin
}
