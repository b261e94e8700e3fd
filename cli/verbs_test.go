package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeECR answers each operation (by its name) with a status and body of
// its own, and records the requests' bodies by operation.
type fakeECR struct {
	mu       sync.Mutex
	requests map[string][]string
	answer   func(op string, n int, body string) (int, string)
	// targets are the X-Amz-Target headers, scopes the credential scopes
	// of the signatures, in the order of the requests.
	targets, scopes []string
}

func (f *fakeECR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	scope, _, _ = strings.Cut(scope, ",")
	f.mu.Lock()
	f.targets = append(f.targets, target)
	f.scopes = append(f.scopes, scope)
	f.requests[op] = append(f.requests[op], string(body))
	n := len(f.requests[op])
	f.mu.Unlock()
	status, answer := f.answer(op, n, string(body))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// runVerb runs a verb against a fake ECR and returns the exit code,
// stdout and stderr.
func runVerb(t *testing.T, f *fakeECR, env map[string]string, verb string, args ...string) (int, string, string) {
	t.Helper()
	if f.requests == nil {
		f.requests = map[string][]string{}
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	fakeAWSEnv(t, "eu-west-1")
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL_ECR" {
			return srv.URL
		}
		return env[k]
	}}
	code := m.RunVerb(context.Background(), verb, args)
	return code, stdout.String(), stderr.String()
}

func TestSplitImage(t *testing.T) {
	for in, want := range map[string]string{
		"app:v1":                  `app {"imageTag":"v1"}`,
		"team/app:latest":         `team/app {"imageTag":"latest"}`,
		"team/app@sha256:abc":     `team/app {"imageDigest":"sha256:abc"}`,
		"app":                     "error",
		"app:":                    "error",
		":v1":                     "error",
		"host:5000/app":           "error",
		"app@nodigest":            "error",
		"127.0.0.1:5000/team/app": "error",
	} {
		repo, id, err := splitImage(in)
		got := "error"
		if err == nil {
			b, _ := json.Marshal(id)
			got = repo + " " + string(b)
		}
		if got != want {
			t.Errorf("splitImage(%q) = %s, want %s", in, got, want)
		}
	}
}

// The manifest as stored, spacing and all: retag must send these bytes.
const storedManifest = "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n   \"config\": {}, \"layers\": []\n}\n"

func TestRetag(t *testing.T) {
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		switch op {
		case "BatchGetImage":
			b, _ := json.Marshal(map[string]any{"images": []any{map[string]any{
				"registryId": "123456789012", "repositoryName": "team/app",
				"imageId":       map[string]any{"imageDigest": "sha256:1111", "imageTag": "v1"},
				"imageManifest": storedManifest, "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
			}}, "failures": []any{}})
			return 200, string(b)
		case "PutImage":
			if strings.Contains(body, `"imageTag": "already"`) {
				return 400, `{"__type":"ImageAlreadyExistsException","message":"Image with digest 'sha256:1111' and tag 'already' already exists"}`
			}
			return 200, `{"image":{"imageId":{"imageDigest":"sha256:1111","imageTag":"x"}}}`
		}
		return 400, `{"__type":"UnknownOperationException"}`
	}}
	code, stdout, stderr := runVerb(t, f, nil, "retag", "team/app:v1", "prod", "already", "2024-01")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "team/app:prod sha256:1111\nteam/app:already sha256:1111\nteam/app:2024-01 sha256:1111\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	var get struct {
		RepositoryName     string
		ImageIDs           []map[string]string `json:"imageIds"`
		AcceptedMediaTypes []string
	}
	if len(f.requests["BatchGetImage"]) != 1 {
		t.Fatalf("BatchGetImage sent %d times", len(f.requests["BatchGetImage"]))
	}
	json.Unmarshal([]byte(f.requests["BatchGetImage"][0]), &get)
	if get.RepositoryName != "team/app" || len(get.ImageIDs) != 1 || get.ImageIDs[0]["imageTag"] != "v1" {
		t.Errorf("BatchGetImage %s", f.requests["BatchGetImage"][0])
	}
	for _, mt := range []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"} {
		if !strings.Contains(strings.Join(get.AcceptedMediaTypes, " "), mt) {
			t.Errorf("acceptedMediaTypes %v lacks %s", get.AcceptedMediaTypes, mt)
		}
	}
	puts := f.requests["PutImage"]
	if len(puts) != 3 {
		t.Fatalf("PutImage sent %d times", len(puts))
	}
	for i, tag := range []string{"prod", "already", "2024-01"} {
		var put map[string]string
		json.Unmarshal([]byte(puts[i]), &put)
		if put["imageManifest"] != storedManifest || put["imageTag"] != tag || put["repositoryName"] != "team/app" ||
			put["imageManifestMediaType"] != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("PutImage %d: %s", i, puts[i])
		}
	}
}

func TestRetagErrors(t *testing.T) {
	notFound := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		return 200, `{"images":[],"failures":[{"imageId":{"imageTag":"v9"},"failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}`
	}}
	code, stdout, stderr := runVerb(t, notFound, nil, "retag", "app:v9", "prod")
	if code != ExitService || stdout != "" || stderr != "\nAn error occurred (ImageNotFound) when calling the BatchGetImage operation: Requested image not found\n" {
		t.Errorf("missing image: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if len(notFound.requests["PutImage"]) != 0 {
		t.Errorf("PutImage sent for a missing image")
	}

	immutable := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		if op == "BatchGetImage" {
			return 200, `{"images":[{"imageId":{"imageDigest":"sha256:1"},"imageManifest":"{}","imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"}]}`
		}
		return 400, `{"__type":"ImageTagAlreadyExistsException","message":"The image tag 'prod' already exists in the 'app' repository and cannot be overwritten because the tag is immutable."}`
	}}
	code, stdout, stderr = runVerb(t, immutable, nil, "retag", "app:v1", "prod", "next")
	if code != ExitService || stdout != "" ||
		stderr != "\nAn error occurred (ImageTagAlreadyExistsException) when calling the PutImage operation: The image tag 'prod' already exists in the 'app' repository and cannot be overwritten because the tag is immutable.\n" {
		t.Errorf("immutable tag: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	for _, args := range [][]string{{"app:v1"}, {}, {"app", "prod"}, {"app:v1", "bad:tag"}, {"app:v1", "x", "--bogus"}} {
		code, _, stderr := runVerb(t, notFound, nil, "retag", args...)
		if code != ExitUsage || !strings.HasPrefix(stderr, "usage: berth retag REPO:TAG NEW_TAG") {
			t.Errorf("retag %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestLs(t *testing.T) {
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		switch {
		case op == "DescribeRepositories" && !strings.Contains(body, "nextToken"):
			return 200, `{"repositories":[{"repositoryName":"zeta","repositoryUri":"h:5000/zeta","createdAt":1700000000.5}],"nextToken":"page2"}`
		case op == "DescribeRepositories" && strings.Contains(body, `"nextToken": "page2"`):
			return 200, `{"repositories":[{"repositoryUri":"h:5000/alpha","repositoryName":"alpha","createdAt":1600000000}]}`
		case op == "DescribeImages":
			return 200, `{"imageDetails":[
				{"imageDigest":"sha256:old","imageSizeInBytes":56,"imagePushedAt":1600000000},
				{"imageDigest":"sha256:new","imageTags":["v2","latest"],"imageSizeInBytes":1234567,"imagePushedAt":1700000000}]}`
		}
		return 400, `{"__type":"InvalidParameterException","message":"unexpected ` + op + ` ` + body + `"}`
	}}
	code, stdout, stderr := runVerb(t, f, nil, "ls")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "NAME   URI           CREATED\n" +
		"alpha  h:5000/alpha  2020-09-13T12:26:40Z\n" +
		"zeta   h:5000/zeta   2023-11-14T22:13:20Z\n"
	if stdout != want {
		t.Errorf("ls printed\n%s\nwant\n%s", stdout, want)
	}
	if len(f.requests["DescribeRepositories"]) != 2 {
		t.Errorf("DescribeRepositories sent %d times, want one per page", len(f.requests["DescribeRepositories"]))
	}

	code, stdout, stderr = runVerb(t, f, nil, "ls", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantJSON := `{
    "repositories": [
        {
            "repositoryName": "zeta",
            "repositoryUri": "h:5000/zeta",
            "createdAt": 1700000000.5
        },
        {
            "repositoryName": "alpha",
            "repositoryUri": "h:5000/alpha",
            "createdAt": 1600000000
        }
    ]
}
`
	if stdout != wantJSON {
		t.Errorf("ls --output json printed\n%s\nwant\n%s", stdout, wantJSON)
	}

	code, stdout, stderr = runVerb(t, f, nil, "ls", "team/app")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want = "DIGEST      TAGS       SIZE    PUSHED\n" +
		"sha256:new  latest,v2  1.23MB  2023-11-14T22:13:20Z\n" +
		"sha256:old  <none>     56B     2020-09-13T12:26:40Z\n"
	if stdout != want {
		t.Errorf("ls team/app printed\n%s\nwant\n%s", stdout, want)
	}
	if got := f.requests["DescribeImages"][0]; got != `{"repositoryName": "team/app"}` {
		t.Errorf("DescribeImages %s", got)
	}

	missing := &fakeECR{answer: func(string, int, string) (int, string) {
		return 400, `{"__type":"RepositoryNotFoundException","message":"The repository with name 'nope' does not exist"}`
	}}
	code, _, stderr = runVerb(t, missing, nil, "ls", "nope")
	if code != ExitService || !strings.Contains(stderr, "(RepositoryNotFoundException) when calling the DescribeImages operation") {
		t.Errorf("missing repository: exit %d, %q", code, stderr)
	}
	if code, _, _ := runVerb(t, missing, nil, "ls", "--output", "yaml"); code != ExitUsage {
		t.Errorf("--output yaml: exit %d", code)
	}
}

func TestLogin(t *testing.T) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:pass:word"))
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		return 200, `{"authorizationData":[{"authorizationToken":"` + token + `","expiresAt":1700000000,"proxyEndpoint":"http://127.0.0.1:5123"}]}`
	}}
	dir := filepath.Join(t.TempDir(), "docker")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"other.example":{"auth":"b3RoZXI="},"127.0.0.1:5123":{"auth":"c3RhbGU="}},"psFormat":"table {{.ID}}"}`), 0o644)
	env := map[string]string{"DOCKER_CONFIG": dir}
	code, stdout, stderr := runVerb(t, f, env, "login")
	if code != 0 || stdout != "Login Succeeded\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	path := filepath.Join(dir, "config.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v %v", fi, err)
	}
	var cfg struct {
		Auths    map[string]map[string]string `json:"auths"`
		PsFormat string                       `json:"psFormat"`
	}
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if cfg.Auths["127.0.0.1:5123"]["auth"] != token || cfg.Auths["other.example"]["auth"] != "b3RoZXI=" || cfg.PsFormat != "table {{.ID}}" {
		t.Errorf("config.json:\n%s", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the config's directory holds %d files", len(entries))
	}

	// --registry names the host; a new config is created.
	home := t.TempDir()
	code, _, stderr = runVerb(t, f, map[string]string{"HOME": home}, "login", "--registry", "https://registry.example:8443/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ = os.ReadFile(filepath.Join(home, ".docker", "config.json"))
	if want := "{\n\t\"auths\": {\n\t\t\"registry.example:8443\": {\n\t\t\t\"auth\": \"" + token + "\"\n\t\t}\n\t}\n}\n"; string(data) != want {
		t.Errorf("new config.json %q, want %q", data, want)
	}

	code, stdout, _ = runVerb(t, f, env, "login", "--print")
	if code != 0 || stdout != "pass:word\n" {
		t.Errorf("login --print: exit %d, %q", code, stdout)
	}

	os.WriteFile(path, []byte(`{"auths": [`), 0o600)
	if code, _, stderr := runVerb(t, f, env, "login"); code != ExitOther || !strings.Contains(stderr, "config.json") {
		t.Errorf("a broken config: exit %d, %q", code, stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"auths": [` {
		t.Errorf("a broken config was overwritten: %s", data)
	}
}

func TestHumanSizeAndProgress(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 56: "56B", 999: "999B", 1000: "1kB", 1234567: "1.23MB", 45_700_000_000: "45.7GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
	if got, want := progressLine("pushing", 500, 1000), "pushing [===============>              ]  50%  500B/1kB"; got != want {
		t.Errorf("progressLine %q, want %q", got, want)
	}
	if got, want := progressLine("pulling", 2000, 1000), "pulling [==============================] 100%  1kB/1kB"; got != want {
		t.Errorf("progressLine %q, want %q", got, want)
	}
	var b bytes.Buffer
	if isTerminal(&b) {
		t.Errorf("a buffer is a terminal")
	}
	if f, err := os.Open(os.DevNull); err == nil {
		defer f.Close()
		if isTerminal(f) {
			t.Errorf("%s is a terminal", os.DevNull)
		}
	}
}

func TestVerbHelp(t *testing.T) {
	for _, v := range Verbs() {
		code, stdout, _ := runVerb(t, &fakeECR{}, nil, v, "--help")
		if code != 0 || !strings.HasPrefix(stdout, "usage: "+verbUsages[v]) || !strings.Contains(stdout, "--public") {
			t.Errorf("%s --help: exit %d, %q", v, code, stdout)
		}
	}
}

// TestLsPublic: --public calls ECR Public (its target, signed for
// us-east-1/ecr-public whatever the region), page by page, at the ECR
// endpoint berth env exports when no ECR Public one is set.
func TestLsPublic(t *testing.T) {
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		if !strings.Contains(body, "nextToken") {
			return 200, `{"repositories":[{"repositoryName":"b","repositoryUri":"h:5001/al/b","createdAt":1700000000}],"nextToken":"p2"}`
		}
		return 200, `{"repositories":[{"repositoryName":"a","repositoryUri":"h:5001/al/a","createdAt":1600000000}]}`
	}}
	code, stdout, stderr := runVerb(t, f, nil, "ls", "--public")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "NAME  URI          CREATED\na     h:5001/al/a  2020-09-13T12:26:40Z\nb     h:5001/al/b  2023-11-14T22:13:20Z\n"; stdout != want {
		t.Errorf("ls --public printed\n%s\nwant\n%s", stdout, want)
	}
	if len(f.targets) != 2 || f.targets[0] != "SpencerFrontendService.DescribeRepositories" || !strings.HasSuffix(f.scopes[0], "/us-east-1/ecr-public/aws4_request") {
		t.Errorf("targets %v, scopes %v", f.targets, f.scopes)
	}
}

func TestLoginPublic(t *testing.T) {
	token := base64.StdEncoding.EncodeToString([]byte("AWS:pub-pass"))
	registryURI := "public.example:5001/alias"
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		switch op {
		case "GetAuthorizationToken":
			// ECR Public's: one object, no proxyEndpoint.
			return 200, `{"authorizationData":{"authorizationToken":"` + token + `","expiresAt":1700000000}}`
		case "DescribeRegistries":
			return 200, `{"registries":[{"registryId":"1","registryUri":"` + registryURI + `","aliases":[]}]}`
		}
		return 400, `{"__type":"UnknownOperationException"}`
	}}
	dir := filepath.Join(t.TempDir(), "docker")
	env := map[string]string{"DOCKER_CONFIG": dir}
	if code, stdout, stderr := runVerb(t, f, env, "login", "--public"); code != 0 || stdout != "Login Succeeded\n" {
		t.Fatalf("exit %d, %q, %q", code, stdout, stderr)
	}
	var cfg struct{ Auths map[string]map[string]string }
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	json.Unmarshal(data, &cfg)
	if len(cfg.Auths) != 1 || cfg.Auths["public.example:5001"]["auth"] != token {
		t.Errorf("config.json %s", data)
	}
	if code, stdout, _ := runVerb(t, f, env, "login", "--public", "--print"); code != 0 || stdout != "pub-pass\n" {
		t.Errorf("login --public --print: exit %d, %q", code, stdout)
	}
	if len(f.requests["DescribeRegistries"]) != 1 {
		t.Errorf("DescribeRegistries sent %d times; --print needs no host", len(f.requests["DescribeRegistries"]))
	}
	// No endpoint serves the registry's images: its URI is the alias.
	registryURI = "alias"
	if code, _, stderr := runVerb(t, f, env, "login", "--public"); code != ExitOther || !strings.Contains(stderr, "--registry HOST") {
		t.Errorf("no public endpoint: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runVerb(t, f, env, "login", "--public", "--registry", "other.example"); code != 0 {
		t.Errorf("--registry: exit %d, %q", code, stderr)
	}
}

// TestRetagPublic reads the manifest from the public endpoint (every
// manifest type accepted, no credentials) and puts its bytes and media
// type through ECR Public's PutImage.
func TestRetagPublic(t *testing.T) {
	var accepts []string
	var paths []string
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the registry was sent credentials: %s", r.Header.Get("Authorization"))
		}
		switch r.URL.Path {
		case "/v2/":
			return
		case "/v2/al/team/app/manifests/v1", "/v2/al/team/app/manifests/" + digestOf(storedManifest):
			accepts = append(accepts, r.Header.Get("Accept"))
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", digestOf(storedManifest))
			if r.Method == http.MethodGet {
				io.WriteString(w, storedManifest)
			}
			return
		}
		w.WriteHeader(404)
		io.WriteString(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`)
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	f := &fakeECR{answer: func(op string, n int, body string) (int, string) {
		switch op {
		case "DescribeRepositories":
			return 200, `{"repositories":[{"repositoryName":"team/app","repositoryUri":"` + host + `/al/team/app"}]}`
		case "PutImage":
			if strings.Contains(body, `"imageTag": "v1"`) {
				return 400, `{"__type":"ImageAlreadyExistsException","message":"exists"}`
			}
			return 200, `{"image":{"imageId":{"imageDigest":"` + digestOf(storedManifest) + `"}}}`
		}
		return 400, `{"__type":"UnknownOperationException"}`
	}}
	code, stdout, stderr := runVerb(t, f, nil, "retag", "--public", "team/app:v1", "prod", "v1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	d := digestOf(storedManifest)
	if want := "team/app:prod " + d + "\nteam/app:v1 " + d + "\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if got := f.requests["DescribeRepositories"]; len(got) != 1 || got[0] != `{"repositoryNames": ["team/app"]}` {
		t.Errorf("DescribeRepositories %v", got)
	}
	for i, tag := range []string{"prod", "v1"} {
		var put map[string]string
		json.Unmarshal([]byte(f.requests["PutImage"][i]), &put)
		if put["imageManifest"] != storedManifest || put["imageTag"] != tag || put["repositoryName"] != "team/app" ||
			put["imageManifestMediaType"] != "application/vnd.oci.image.manifest.v1+json" {
			t.Errorf("PutImage %d: %s", i, f.requests["PutImage"][i])
		}
	}
	if len(accepts) == 0 {
		t.Fatalf("no manifest read; paths %v", paths)
	}
	for _, mt := range []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"} {
		if !strings.Contains(accepts[0], mt) {
			t.Errorf("Accept %q lacks %s", accepts[0], mt)
		}
	}
	for _, target := range f.targets {
		if !strings.HasPrefix(target, "SpencerFrontendService.") {
			t.Errorf("called %s", target)
		}
	}

	// By digest; a missing tag is the registry's error (255).
	if code, stdout, stderr := runVerb(t, f, nil, "retag", "--public", "team/app@"+d, "again"); code != 0 || stdout != "team/app:again "+d+"\n" {
		t.Errorf("by digest: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, stderr = runVerb(t, f, nil, "retag", "--public", "team/app:nope", "x")
	if code != ExitOther || stdout != "" || !strings.Contains(stderr, host+"/al/team/app:nope") || !strings.Contains(stderr, "MANIFEST_UNKNOWN") {
		t.Errorf("a missing tag: exit %d, %q, %q", code, stdout, stderr)
	}
}

func digestOf(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }
