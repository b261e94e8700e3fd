package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/server"
)

// The address and account docs/access.md writes its commands and outputs
// with: berth on its defaults.
const (
	docHost    = "127.0.0.1:5000"
	docAccount = "000000000000"
)

// TestAccessWalkthrough runs the first recipe of docs/access.md, "A CI user
// that pushes to app/*", with the real AWS CLI and podman: each command is a
// line of the recipe's shell blocks, found there and run by bash as written,
// with the doc's address changed to the test server's. The outputs the page
// shows are checked against the ones berth gives. It also checks that the
// page lists exactly the IAM and STS operations berth serves.
func TestAccessWalkthrough(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "access.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)

	t.Run("the operations it lists are the ones served", func(t *testing.T) {
		listed := listedOperations(t, docSection(t, page, "## IAM and STS"))
		served := iam.Served()
		for _, op := range served {
			if !slices.Contains(listed, op) {
				t.Errorf("%s is served but docs/access.md does not list it", op)
			}
		}
		for _, op := range listed {
			if !slices.Contains(served, op) {
				t.Errorf("docs/access.md lists %s, which is not served", op)
			}
		}
	})

	tools := map[string]string{}
	for _, name := range []string{"aws", "podman", "bash", "curl", "tar"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s is not installed (scripts/test installs podman; the AWS CLI must be on PATH)", name)
		}
		tools[name] = p
	}

	e := start(t)
	w := &walkthrough{t: t, dir: t.TempDir(), host: e.host(), recipe: docSection(t, page, "### A CI user that pushes to app/*")}
	ciARN := "arn:aws:iam::" + testRegistryID + ":user/ci"

	// berth env, as the page's first line runs it: a berth on PATH that
	// prints what berth env prints for this server.
	bin := filepath.Join(w.dir, "bin")
	c := e.srv.Config
	c.Addr = e.host()
	cred, err := server.AdminCredential(c)
	if err != nil {
		t.Fatal(err)
	}
	shim := "#!/bin/sh\n[ \"$*\" = env ] || { echo 'only berth env here' >&2; exit 2; }\ncat <<'LINES'\n" + server.EnvLines(c, cred) + "LINES\n"
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "berth"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	// podman with its storage (vfs), run directory and logins in the test's
	// directory, through its environment, so that its lines run unchanged.
	storage := filepath.Join(w.dir, "storage.conf")
	conf := "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + filepath.Join(w.dir, "containers", "root") + "\"\nrunroot = \"" + filepath.Join(w.dir, "containers", "run") + "\"\n"
	if err := os.WriteFile(storage, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "none"), "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
		"CONTAINERS_STORAGE_CONF=" + storage, "REGISTRY_AUTH_FILE=" + filepath.Join(w.dir, "auth.json"), "XDG_RUNTIME_DIR=" + filepath.Join(w.dir, "xdg")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "CONTAINERS_") && !strings.HasPrefix(kv, "REGISTRY_AUTH_FILE=") {
			base = append(base, kv)
		}
	}

	// As the root: the shell the page's first four lines make.
	root := w.capture(base, w.line(`eval "$(berth env)"`), w.line("export AWS_ENDPOINT_URL="), w.line("ACCOUNT="), w.line("REGION="))
	for k, want := range map[string]string{"ACCOUNT": testRegistryID, "REGION": testRegion, "AWS_ENDPOINT_URL": e.url,
		"AWS_ACCESS_KEY_ID": e.srv.Credential.AccessKeyID, "AWS_DEFAULT_REGION": testRegion} {
		if got := lookupEnv(root, k); got != want {
			t.Fatalf("after the root's first lines, %s=%q, want %q", k, got, want)
		}
	}

	var created struct {
		User struct{ UserName, Arn string }
	}
	w.json(w.ok(root, w.line("aws iam create-user --user-name ci")), &created)
	if created.User.UserName != "ci" || created.User.Arn != ciARN {
		t.Fatalf("create-user: %+v", created)
	}
	w.ok(root, w.line("aws iam create-access-key --user-name ci > ci-key.json"))
	var key struct {
		AccessKey struct{ UserName, AccessKeyId, SecretAccessKey, Status string }
	}
	w.json(w.file("ci-key.json"), &key)
	if k := key.AccessKey; k.UserName != "ci" || !strings.HasPrefix(k.AccessKeyId, "AKIA") || len(k.SecretAccessKey) != 40 || k.Status != "Active" {
		t.Fatalf("ci-key.json: %+v", k)
	}
	w.ok(root, w.heredoc("cat > ci-push.json <<EOF"))
	var pol struct {
		Statement []struct {
			Action   any
			Resource string
		}
	}
	w.json(w.file("ci-push.json"), &pol)
	if len(pol.Statement) != 2 || pol.Statement[0].Resource != "*" || pol.Statement[1].Resource != "arn:aws:ecr:"+testRegion+":"+testRegistryID+":repository/app/*" {
		t.Fatalf("ci-push.json: %+v", pol)
	}
	w.ok(root, w.line("aws iam put-user-policy --user-name ci --policy-name push-app --policy-document file://ci-push.json"))
	w.ok(root, w.line("aws ecr create-repository --repository-name app/web"))
	w.ok(root, w.line("aws ecr create-repository --repository-name other/x"))
	var users []string
	w.json(w.ok(root, w.line("aws iam list-users --query 'Users[].Arn'")), &users)
	if !slices.Equal(users, []string{ciARN}) {
		t.Fatalf("list-users: %v", users)
	}

	// As ci: the keys the page's jq lines read, read from the same JSON.
	w.line("export AWS_ACCESS_KEY_ID=$(jq -r .AccessKey.AccessKeyId ci-key.json)")
	w.line("export AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey ci-key.json)")
	ci := setEnv(root, "AWS_ACCESS_KEY_ID", key.AccessKey.AccessKeyId)
	ci = setEnv(ci, "AWS_SECRET_ACCESS_KEY", key.AccessKey.SecretAccessKey)
	if out := w.ok(ci, w.line("aws ecr get-login-password | podman login")); !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("podman login: %s", out)
	}
	w.ok(ci, w.line("mkdir -p rootfs"))
	w.ok(ci, w.line("podman import rootfs.tar "+docHost+"/app/web:v1"))
	w.ok(ci, w.line("podman push --tls-verify=false "+docHost+"/app/web:v1"))
	images := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app/web")}))
	if len(images.ImageDetails) != 1 || !slices.Equal(images.ImageDetails[0].ImageTags, []string{"v1"}) {
		t.Fatalf("app/web after ci's push: %+v", images.ImageDetails)
	}

	// What ci may not do.
	w.ok(ci, w.line("podman tag "+docHost+"/app/web:v1 "+docHost+"/other/x:v1"))
	stdout, stderr, code := w.run(ci, w.line("podman push --tls-verify=false "+docHost+"/other/x:v1"))
	// The push's first refusal is a blob HEAD's, which has no body: podman
	// can say only the status.
	if out := stdout + stderr; code == 0 || !strings.Contains(out, "403") || !strings.Contains(out, "other/x") {
		t.Fatalf("podman push to other/x: exit %d\n%s", code, out)
	}
	if n := len(must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("other/x")})).ImageIds); n != 0 {
		t.Errorf("other/x holds %d images after a refused push", n)
	}
	body := strings.TrimSpace(w.ok(ci, w.line("curl -s -X POST -u AWS:$(aws ecr get-login-password) http://"+docHost+"/v2/other/x/blobs/uploads/")))
	wantBody := `{"errors":[{"code":"DENIED","message":"` + noAllow(ciARN, "ecr:InitiateLayerUpload", "arn:aws:ecr:us-east-1:"+testRegistryID+":repository/other/x", "identity") + `"}]}`
	if body != wantBody {
		t.Fatalf("the refused upload\n got: %s\nwant: %s", body, wantBody)
	}
	w.shows(body)
	_, stderr, code = w.run(ci, w.line("aws ecr describe-images --repository-name app/web"))
	denied := "An error occurred (AccessDeniedException) when calling the DescribeImages operation: " +
		noAllow(ciARN, "ecr:DescribeImages", "arn:aws:ecr:us-east-1:"+testRegistryID+":repository/app/web", "identity")
	// 254 is AWS CLI v2's status for an error the service answered, 255 v1's.
	if (code != 254 && code != 255) || strings.TrimSpace(stderr) != denied {
		t.Fatalf("describe-images as ci: exit %d\n got: %s\nwant: %s", code, stderr, denied)
	}
	w.shows(denied)
}

// walkthrough runs the shell lines of one section of docs/access.md.
type walkthrough struct {
	t      *testing.T
	dir    string // the working directory: the files the commands write
	host   string // the test server's host:port, for the page's docHost
	recipe string // the section's text
}

// shellLines are the lines of the ```sh blocks of a section.
func (w *walkthrough) shellLines() []string {
	var out []string
	in := false
	for _, l := range strings.Split(w.recipe, "\n") {
		switch {
		case !in && l == "```sh":
			in = true
		case in && l == "```":
			in = false
		case in:
			out = append(out, l)
		}
	}
	return out
}

// line returns the one shell line of the recipe that starts with prefix,
// with the page's address changed to the server's.
func (w *walkthrough) line(prefix string) string {
	w.t.Helper()
	var found []string
	for _, l := range w.shellLines() {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("docs/access.md: %d shell lines of the recipe start with %q, want 1: %q", len(found), prefix, found)
	}
	return strings.ReplaceAll(found[0], docHost, w.host)
}

// heredoc returns the recipe's lines from the one that starts with prefix
// to the EOF that ends its here-document.
func (w *walkthrough) heredoc(prefix string) string {
	w.t.Helper()
	lines := w.shellLines()
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == "EOF" {
				return strings.Join(lines[i:j+1], "\n")
			}
		}
	}
	w.t.Fatalf("docs/access.md: no here-document %q ending in EOF in the recipe", prefix)
	return ""
}

// shows checks that the page shows an output as berth gives it, in the
// page's terms.
func (w *walkthrough) shows(output string) {
	w.t.Helper()
	if doc := strings.ReplaceAll(output, testRegistryID, docAccount); !strings.Contains(w.recipe, doc) {
		w.t.Errorf("docs/access.md does not show the output berth gives:\n%s", doc)
	}
}

// run runs a script with bash (pipefail) in the working directory and
// returns its output and exit status.
func (w *walkthrough) run(env []string, script string) (stdout, stderr string, code int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = w.dir, env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		w.t.Fatalf("running %q: %v", script, err)
	}
	return o.String(), e.String(), code
}

// ok runs a script that must succeed and returns its standard output.
func (w *walkthrough) ok(env []string, script string) string {
	w.t.Helper()
	stdout, stderr, code := w.run(env, script)
	if code != 0 {
		w.t.Fatalf("%s\nexit %d\n%s%s", script, code, stdout, stderr)
	}
	return stdout
}

// capture runs lines with every variable they set exported, and returns
// the environment they leave.
func (w *walkthrough) capture(env []string, lines ...string) []string {
	w.t.Helper()
	out := w.ok(env, "set -a\n"+strings.Join(lines, "\n")+"\nenv -0")
	var got []string
	for _, kv := range strings.Split(out, "\x00") {
		if strings.Contains(kv, "=") {
			got = append(got, kv)
		}
	}
	return got
}

func (w *walkthrough) file(name string) string {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

func (w *walkthrough) json(s string, v any) {
	w.t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		w.t.Fatalf("not the JSON expected (%v):\n%s", err, s)
	}
}

func lookupEnv(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

func setEnv(env []string, key, value string) []string {
	out := []string{key + "=" + value}
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return out
}

// docSection is the text of page from heading to the next heading of the
// same level or above.
func docSection(t *testing.T, page, heading string) string {
	t.Helper()
	i := strings.Index(page, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/access.md has no heading %q", heading)
	}
	rest := page[i+1+len(heading):]
	level := strings.IndexByte(heading, ' ') // the number of #
	for n := 1; n <= level; n++ {
		if j := strings.Index(rest, "\n"+strings.Repeat("#", n)+" "); j >= 0 {
			rest = rest[:j]
		}
	}
	return heading + rest
}

// listedOperations reads the bullets of the IAM and STS section: "- <label>:
// Op, Op; Op.", the STS bullet's operations sts:, the others iam:.
func listedOperations(t *testing.T, section string) []string {
	t.Helper()
	var items []string
	for _, l := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(l, "- "):
			items = append(items, strings.TrimPrefix(l, "- "))
		case strings.HasPrefix(l, "  ") && len(items) > 0:
			items[len(items)-1] += " " + strings.TrimSpace(l)
		case len(items) > 0:
			return operationsOf(t, items)
		}
	}
	return operationsOf(t, items)
}

var operationName = regexp.MustCompile(`\b[A-Z][A-Za-z]+\b`)

func operationsOf(t *testing.T, items []string) []string {
	t.Helper()
	var out []string
	for _, item := range items {
		label, ops, ok := strings.Cut(item, ": ")
		if !ok {
			t.Fatalf("docs/access.md: the bullet %q has no label", item)
		}
		service := "iam:"
		if label == "STS" {
			service = "sts:"
		}
		for _, op := range operationName.FindAllString(ops, -1) {
			out = append(out, service+op)
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/access.md lists no IAM or STS operation")
	}
	return out
}
