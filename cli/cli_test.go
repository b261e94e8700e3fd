package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/awsproto"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func mustService(t *testing.T, name string) *service {
	t.Helper()
	svc, err := loadService(name)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{
		"PutImage":                    "put-image",
		"imageIds":                    "image-ids",
		"GetDownloadUrlForLayer":      "get-download-url-for-layer",
		"repositoryName":              "repository-name",
		"imageManifestMediaType":      "image-manifest-media-type",
		"BatchCheckLayerAvailability": "batch-check-layer-availability",
		"ListObjectsV2":               "list-objects-v2",
		"ListARNs":                    "list-arns",
		"kmsKey":                      "kms-key",
	} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServedOperations(t *testing.T) {
	svc := mustService(t, "ecr")
	for _, op := range []string{"put-image", "batch-get-image", "describe-images", "upload-layer-part", "get-download-url-for-layer"} {
		if svc.ops[op] == nil {
			t.Errorf("ecr %s is not an operation", op)
		}
	}
	if svc.ops["start-image-scan"] != nil {
		t.Errorf("start-image-scan is offered, but berth does not serve it")
	}
	if pub := mustService(t, "ecr-public"); pub.ops["describe-image-tags"] == nil || pub.ops["list-images"] != nil {
		t.Errorf("ecr-public operations: %v", pub.opNames())
	}
}

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"schemaVersion":2}`+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "part.bin"), []byte{0, 1, 2, 0xff}, 0o600)
	os.WriteFile(filepath.Join(dir, "input.json"), []byte(`{"repositoryName":"from-file","maxResults":5}`), 0o600)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	for _, tc := range []struct {
		name string
		args []string
		want string // the input as JSON
	}{
		{"strings", []string{"put-image", "--repository-name", "app", "--image-manifest", "{}", "--image-tag", "v1"},
			`{"repositoryName": "app", "imageManifest": "{}", "imageTag": "v1"}`},
		{"inline =", []string{"put-image", "--repository-name=app", "--image-manifest={}"},
			`{"repositoryName": "app", "imageManifest": "{}"}`},
		{"file://", []string{"put-image", "--repository-name", "app", "--image-manifest", "file://" + filepath.Join(dir, "manifest.json")},
			`{"repositoryName": "app", "imageManifest": "{\"schemaVersion\":2}\n"}`},
		{"fileb:// and longs", []string{"upload-layer-part", "--repository-name", "app", "--upload-id", "u", "--part-first-byte", "0", "--part-last-byte", "3", "--layer-part-blob", "fileb://" + filepath.Join(dir, "part.bin")},
			`{"repositoryName": "app", "uploadId": "u", "partFirstByte": 0, "partLastByte": 3, "layerPartBlob": "` + b64([]byte{0, 1, 2, 0xff}) + `"}`},
		{"blob as text", []string{"upload-layer-part", "--repository-name", "app", "--upload-id", "u", "--part-first-byte", "0", "--part-last-byte", "1", "--layer-part-blob", "hi"},
			`{"repositoryName": "app", "uploadId": "u", "partFirstByte": 0, "partLastByte": 1, "layerPartBlob": "` + b64([]byte("hi")) + `"}`},
		{"list of strings", []string{"complete-layer-upload", "--repository-name", "app", "--upload-id", "u", "--layer-digests", "sha256:a", "sha256:b"},
			`{"repositoryName": "app", "uploadId": "u", "layerDigests": ["sha256:a", "sha256:b"]}`},
		{"list of shorthand structures", []string{"batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=a", "imageDigest=sha256:b,imageTag=c"},
			`{"repositoryName": "app", "imageIds": [{"imageTag": "a"}, {"imageDigest": "sha256:b", "imageTag": "c"}]}`},
		{"list as JSON", []string{"batch-get-image", "--repository-name", "app", "--image-ids", `[{"imageTag":"a"}]`},
			`{"repositoryName": "app", "imageIds": [{"imageTag": "a"}]}`},
		{"structure shorthand and bool", []string{"create-repository", "--repository-name", "app", "--image-scanning-configuration", "scanOnPush=true"},
			`{"repositoryName": "app", "imageScanningConfiguration": {"scanOnPush": true}}`},
		{"structure JSON", []string{"describe-images", "--repository-name", "app", "--filter", `{"tagStatus":"TAGGED"}`},
			`{"repositoryName": "app", "filter": {"tagStatus": "TAGGED"}}`},
		{"--force", []string{"delete-repository", "--repository-name", "app", "--force"},
			`{"repositoryName": "app", "force": true}`},
		{"--no-force", []string{"delete-repository", "--repository-name", "app", "--no-force"},
			`{"repositoryName": "app", "force": false}`},
		{"cli-input-json under flags", []string{"describe-images", "--cli-input-json", `{"repositoryName":"json","maxResults":2}`, "--repository-name", "flag"},
			`{"repositoryName": "flag", "maxResults": 2}`},
		{"cli-input-json from a file", []string{"describe-images", "--cli-input-json", "file://" + filepath.Join(dir, "input.json")},
			`{"repositoryName": "from-file", "maxResults": 5}`},
		{"globals", []string{"describe-repositories", "--endpoint-url", "http://x", "--region", "eu-west-1", "--profile", "p", "--output", "text", "--query", "a", "--no-cli-pager"},
			`{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := mustService(t, "ecr")
			inv, err := parseArgs(svc, svc.ops[tc.args[0]], tc.args[1:], func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			got := inputJSON(svc, svc.ops[tc.args[0]], inv)
			if got != tc.want {
				t.Errorf("input\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestParseArgsGlobals(t *testing.T) {
	svc := mustService(t, "ecr")
	inv, err := parseArgs(svc, svc.ops["describe-repositories"], []string{"--endpoint-url", "http://x", "--region", "eu-west-1", "--profile", "p", "--output", "text", "--query", "a"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := invocation{input: newObject(), endpoint: "http://x", region: "eu-west-1", profile: "p", output: "text", query: "a", paginate: true}
	if !reflect.DeepEqual(*inv, want) {
		t.Errorf("got %+v, want %+v", *inv, want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"put-image", "--repository-name", "app"}, "berth: error: the following arguments are required: --image-manifest\n"},
		{[]string{"put-image"}, "the following arguments are required: --repository-name, --image-manifest\n"},
		{[]string{"describe-images", "--repository-name", "app", "--bogus", "x"}, "Unknown options: --bogus\n"},
		{[]string{"describe-images", "--repository-name"}, "argument --repository-name: expected one argument"},
		{[]string{"describe-images", "--repository-name", "app", "--output", "yaml"}, "argument --output"},
		{[]string{"start-image-scan", "--repository-name", "app"}, `Invalid choice "start-image-scan"`},
		{[]string{}, "an operation is required"},
	} {
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if code := m.Run(context.Background(), "ecr", tc.args); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
		if !strings.Contains(stderr.String(), tc.want) || !strings.HasPrefix(stderr.String(), "usage: berth ecr") {
			t.Errorf("%v: stderr %q, want it to contain %q", tc.args, stderr.String(), tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q", tc.args, stdout.String())
		}
	}
}

// TestSkeleton compares --generate-cli-skeleton with what the real AWS CLI
// (1.45) prints, kept under testdata.
func TestSkeleton(t *testing.T) {
	for _, tc := range []struct{ service, op, kind string }{
		{"ecr", "put-image", "input"},
		{"ecr", "batch-get-image", "input"},
		{"ecr", "create-repository", "input"},
		{"ecr", "upload-layer-part", "input"},
		{"ecr", "describe-images", "input"},
		{"ecr", "describe-images", "output"},
		{"ecr", "describe-repositories", "output"},
		{"ecr-public", "put-image", "input"},
		// Paginated operations: their own token and limit members stay in
		// the skeleton, as the AWS CLI's.
		{"ecr", "describe-repositories", "input"},
		{"ecr", "list-images", "input"},
		{"ecr-public", "describe-image-tags", "input"},
		{"ecr-public", "create-repository", "input"},
	} {
		t.Run(tc.service+"."+tc.op+"."+tc.kind, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr}
			if code := m.Run(context.Background(), tc.service, []string{tc.op, "--generate-cli-skeleton", tc.kind}); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			golden := filepath.Join("testdata", tc.service+"."+tc.op+"."+tc.kind+".json")
			if *update {
				os.WriteFile(golden, stdout.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameSkeleton(mustService(t, tc.service), stdout.Bytes(), want); err != nil {
				t.Errorf("%v; skeleton\n%s\nwant (%s)\n%s", err, stdout.String(), golden, want)
			}
		})
	}
	// --generate-cli-skeleton alone means input, and needs no required parameter.
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: io.Discard}
	if code := m.Run(context.Background(), "ecr", []string{"put-image", "--generate-cli-skeleton"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want, _ := os.ReadFile("testdata/ecr.put-image.input.json"); sameSkeleton(mustService(t, "ecr"), stdout.Bytes(), want) != nil {
		t.Errorf("--generate-cli-skeleton alone printed %s", stdout.String())
	}
}

// sameSkeleton compares two skeletons byte for byte but where the AWS CLI
// chose another value of the same enum (it picks one at random).
func sameSkeleton(svc *service, got, want []byte) error {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	if len(g) != len(w) {
		return fmt.Errorf("%d lines, want %d", len(g), len(w))
	}
	sameEnum := func(a, b string) bool {
		for _, sh := range svc.model.Shapes {
			if slices.Contains(sh.Enum, a) && slices.Contains(sh.Enum, b) {
				return true
			}
		}
		return false
	}
	value := regexp.MustCompile(`^(\s*"[^"]*": )"([^"]*)"(,?)$`)
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		gm, wm := value.FindStringSubmatch(g[i]), value.FindStringSubmatch(w[i])
		if gm == nil || wm == nil || gm[1] != wm[1] || gm[3] != wm[3] || !sameEnum(gm[2], wm[2]) {
			return fmt.Errorf("line %d: %q, want %q", i+1, g[i], w[i])
		}
	}
	return nil
}

func TestHelp(t *testing.T) {
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: io.Discard}
	if code := m.Run(context.Background(), "ecr", []string{"put-image", "help"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stdout.String()
	for _, want := range []string{
		"put-image -",
		"Creates or updates the image manifest and tags associated with an image.",
		"--repository-name <value>\n",
		"[--image-tag <value>]\n",
		"--repository-name (string)\n",
		"The name of the repository in which to put the image.",
		"--image-manifest (string)\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.ContainsAny(help, "<>") && strings.Contains(help, "<p>") {
		t.Errorf("help keeps HTML:\n%s", help)
	}
	stdout.Reset()
	m.Run(context.Background(), "ecr", []string{"delete-repository", "help"})
	if !strings.Contains(stdout.String(), "[--force | --no-force]") {
		t.Errorf("delete-repository help:\n%s", stdout.String())
	}
}

// answer runs one ecr command against a server that answers status and
// body, and returns the exit code, stdout, stderr and the request.
func answer(t *testing.T, status int, body string, args ...string) (int, string, string, *http.Request, []byte) {
	t.Helper()
	var req *http.Request
	var reqBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req = r
		reqBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	fakeAWSEnv(t, "eu-west-1")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), "ecr", append(args, "--endpoint-url", srv.URL))
	return code, stdout.String(), stderr.String(), req, reqBody
}

func TestRequestAndOutput(t *testing.T) {
	// Keys come back in another order, with a member the model lacks.
	// --no-paginate: one call, its answer printed whole, nextToken and
	// all (this server would give the same token forever).
	code, stdout, stderr, req, body := answer(t, 200,
		`{"repositories":[{"repositoryUri":"h/app","createdAt":1796667366.595,"extra":1,"repositoryName":"app","imageScanningConfiguration":{"scanOnPush":false}}],"nextToken":"n"}`,
		"describe-repositories", "--repository-names", "app", "--no-paginate")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := req.Header.Get("X-Amz-Target"); got != "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories" {
		t.Errorf("X-Amz-Target %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q", got)
	}
	if auth := req.Header.Get("Authorization"); !strings.Contains(auth, "Credential=AKIDTEST/") || !strings.Contains(auth, "/eu-west-1/ecr/aws4_request") {
		t.Errorf("Authorization %q", auth)
	}
	if req.Method != "POST" || req.URL.Path != "/" || string(body) != `{"repositoryNames": ["app"]}` {
		t.Errorf("%s %s %s", req.Method, req.URL.Path, body)
	}
	want := `{
    "repositories": [
        {
            "repositoryName": "app",
            "repositoryUri": "h/app",
            "createdAt": 1796667366.595,
            "imageScanningConfiguration": {
                "scanOnPush": false
            }
        }
    ],
    "nextToken": "n"
}
`
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}

	_, stdout, _, _, _ = answer(t, 200, `{"imageIds":[{"imageTag":"b","imageDigest":"sha256:2"},{"imageTag":"a","imageDigest":"sha256:1"}]}`,
		"list-images", "--repository-name", "app", "--query", "imageIds[?imageTag=='a'] | [0]")
	if want := "{\n    \"imageDigest\": \"sha256:1\",\n    \"imageTag\": \"a\"\n}\n"; stdout != want {
		t.Errorf("--query printed\n%s\nwant\n%s", stdout, want)
	}
	_, stdout, _, _, _ = answer(t, 200, `{"imageIds":[{"imageTag":"b","imageDigest":"sha256:2"},{"imageDigest":"sha256:1"}]}`,
		"list-images", "--repository-name", "app", "--output", "text")
	if want := "IMAGEIDS\tsha256:2\tb\nIMAGEIDS\tsha256:1\t\n"; stdout != want {
		t.Errorf("--output text printed %q, want %q", stdout, want)
	}
}

func TestErrorExits(t *testing.T) {
	code, stdout, stderr, _, _ := answer(t, 400,
		`{"__type":"ImageAlreadyExistsException","message":"Image with digest 'sha256:1' and tag 'v1' already exists in the repository with name 'app' in registry with id '123456789012'"}`,
		"put-image", "--repository-name", "app", "--image-manifest", "{}", "--image-tag", "v1")
	if code != ExitService || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if want := "\nAn error occurred (ImageAlreadyExistsException) when calling the PutImage operation: Image with digest 'sha256:1' and tag 'v1' already exists in the repository with name 'app' in registry with id '123456789012'\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	code, _, stderr, _, _ = answer(t, 400, `{"__type":"com.amazonaws.ecr#RepositoryNotFoundException","Message":"gone"}`, "list-images", "--repository-name", "app")
	if code != ExitService || stderr != "\nAn error occurred (RepositoryNotFoundException) when calling the ListImages operation: gone\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}

	// Nothing listening: 255.
	l := httptest.NewServer(http.NotFoundHandler())
	url := l.URL
	l.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut}
	if code := m.Run(context.Background(), "ecr", []string{"describe-repositories", "--endpoint-url", url}); code != ExitOther {
		t.Errorf("no server: exit %d", code)
	}
	if want := "\nCould not connect to the endpoint URL: \"" + url + "/\"\n"; errOut.String() != want {
		t.Errorf("no server: stderr %q, want %q", errOut.String(), want)
	}
}

// inputJSON is the request body an invocation sends.
func inputJSON(svc *service, op *awsproto.Operation, inv *invocation) string {
	var b strings.Builder
	in := inv.input
	if in == nil {
		in = newObject()
	}
	pyDumps(&b, op.Input, in)
	return b.String()
}

// fakeAWSEnv gives a test fixed credentials and region, and no shared
// config or credentials files, so the machine's own never count.
func fakeAWSEnv(t *testing.T, region string) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_DEFAULT_REGION", region)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
}
