package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tableCases are answers of the shapes ECR gives, each printed with
// --output table (and a --query). Their golden files under
// testdata/table are what the real AWS CLI printed for the same answers:
// go test ./cli -run TestTable -update captures them again (it needs aws
// on PATH).
var tableCases = []struct {
	name   string
	args   []string
	answer string
}{
	// Wider than 80 columns: each repository's one-row section is turned
	// on its side; nested structures in their own sections, a lone scalar
	// as key and value.
	{"describe-repositories", []string{"describe-repositories"},
		`{"repositories":[
			{"repositoryArn":"arn:aws:ecr:eu-west-1:123456789012:repository/team/app","registryId":"123456789012","repositoryName":"team/app","repositoryUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app","createdAt":1796667366.595,"imageTagMutability":"MUTABLE","imageScanningConfiguration":{"scanOnPush":false},"encryptionConfiguration":{"encryptionType":"AES256"}},
			{"repositoryArn":"arn:aws:ecr:eu-west-1:123456789012:repository/b","registryId":"123456789012","repositoryName":"b","repositoryUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/b","createdAt":1796667400.0,"imageTagMutability":"IMMUTABLE","imageScanningConfiguration":{"scanOnPush":true},"encryptionConfiguration":{"encryptionType":"KMS","kmsKey":"arn:aws:kms:eu-west-1:123456789012:key/k"}}]}`},
	// Nothing to list: the title alone.
	{"describe-repositories-empty", []string{"describe-repositories"}, `{"repositories":[]}`},
	// A list of scalars (tags), an image without tags or a size, a
	// null the parser drops, numbers Python spells as floats.
	{"describe-images", []string{"describe-images", "--repository-name", "app"},
		`{"imageDetails":[
			{"registryId":"123456789012","repositoryName":"app","imageDigest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","imageTags":["v1","latest"],"imageSizeInBytes":2048,"imagePushedAt":1.7e9,"imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json","artifactMediaType":"application/vnd.oci.image.config.v1+json","imageStatus":"ACTIVE"},
			{"registryId":"123456789012","repositoryName":"app","imageDigest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","imagePushedAt":1796667366.5,"lastRecordedPullTime":null,"imageScanStatus":{"status":"COMPLETE","description":"The scan was completed successfully."},"imageScanFindingsSummary":{"findingSeverityCounts":{"HIGH":2,"LOW":10}}}]}`},
	// Narrow enough for columns under headers; an element without a key
	// has an empty cell.
	{"list-images", []string{"list-images", "--repository-name", "app"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"},{"imageDigest":"sha256:bbbb"},{"imageDigest":"sha256:aaaa","imageTag":"latest"}]}`},
	{"list-images-query-scalars", []string{"list-images", "--repository-name", "app", "--query", "imageIds[].imageDigest"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"},{"imageDigest":"sha256:bbbb"}]}`},
	{"list-images-query-rows", []string{"list-images", "--repository-name", "app", "--query", "imageIds[].[imageTag, imageDigest, `true`, `null`, `1.5`]"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"},{"imageDigest":"sha256:bbbbbbbbbbbbbbbb","imageTag":"a-much-longer-tag"}]}`},
	{"list-images-query-object", []string{"list-images", "--repository-name", "app", "--query", "imageIds[0]"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"}]}`},
	{"list-images-query-scalar", []string{"list-images", "--repository-name", "app", "--query", "length(imageIds)"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"}]}`},
	{"list-images-query-nothing", []string{"list-images", "--repository-name", "app", "--query", "imageIds[?imageTag=='none']"},
		`{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"}]}`},
	// Wide characters take two columns (East Asian wide and ambiguous:
	// 日本, é), which the column widths count.
	{"list-tags-for-resource", []string{"list-tags-for-resource", "--resource-arn", "arn:aws:ecr:eu-west-1:123456789012:repository/app"},
		`{"tags":[{"Key":"team","Value":"日本のチーム"},{"Key":"café","Value":"x"},{"Key":"owner","Value":"someone@example.com"}]}`},
	// One failure beside an image whose manifest spans lines, as the AWS
	// CLI prints it (raw).
	{"batch-get-image", []string{"batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=v1"},
		`{"images":[{"registryId":"123456789012","repositoryName":"app","imageId":{"imageDigest":"sha256:1111","imageTag":"v1"},"imageManifest":"{\n  \"schemaVersion\": 2\n}","imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json"}],"failures":[{"imageId":{"imageTag":"gone"},"failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}`},
	// A list of one structure with a map inside, and a structure answer.
	{"get-authorization-token", []string{"get-authorization-token"},
		`{"authorizationData":[{"authorizationToken":"QVdTOnBhc3N3b3Jk","expiresAt":1796710566.595,"proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]}`},
	{"get-lifecycle-policy-preview", []string{"get-lifecycle-policy-preview", "--repository-name", "app"},
		`{"registryId":"123456789012","repositoryName":"app","lifecyclePolicyText":"{}","status":"COMPLETE","previewResults":[{"imageTags":["old"],"imageDigest":"sha256:1","imagePushedAt":1700000000,"action":{"type":"EXPIRE"},"appliedRulePriority":1}],"summary":{"expiringImageTotalCount":1}}`},
}

// fixedServer answers every request with body, as ECR would.
func fixedServer(t *testing.T, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// cliEnv are the credentials and region both CLIs read.
func cliEnv(t *testing.T) []string {
	dir := t.TempDir()
	return []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=eu-west-1", "AWS_REGION=",
		"AWS_SESSION_TOKEN=", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_DEFAULT_OUTPUT="}
}

// runBerth runs berth ecr args in-process with env, returning the exit
// code, stdout and stderr.
func runBerth(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), "ecr", args)
	return code, stdout.String(), stderr.String()
}

// runAWS runs the real AWS CLI with env.
func runAWS(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"ecr"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("aws: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func TestTable(t *testing.T) {
	for _, tc := range tableCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fixedServer(t, tc.answer)
			args := append(append([]string{}, tc.args...), "--output", "table", "--endpoint-url", srv.URL)
			golden := filepath.Join("testdata", "table", tc.name+".txt")
			env := cliEnv(t)
			if *update {
				code, out, errOut := runAWS(t, env, args...)
				if code != 0 {
					t.Fatalf("aws exit %d: %s", code, errOut)
				}
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runBerth(t, env, args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out != string(want) {
				t.Errorf("berth printed\n%s\nthe AWS CLI (%s)\n%s", out, golden, want)
			}
		})
	}
}

// TestTableErrors: where Python's table builder fails (rows of different
// lengths, a list mixing objects and scalars), the AWS CLI prints the
// error and exits 255, printing nothing of the table.
func TestTableErrors(t *testing.T) {
	srv := fixedServer(t, `{"imageIds":[{"imageDigest":"sha256:aaaa","imageTag":"v1"}]}`)
	for query, want := range map[string]string{
		"[imageIds[0].imageTag, [`1`, `2`]]": "\nRow should have 1 elements, instead it has 2\n",
		"[imageIds[0], `1`]":                 "\n'int' object is not iterable\n",
		"[imageIds[0], 'x']":                 "\nstring indices must be integers, not 'str'\n",
	} {
		code, out, errOut := runBerth(t, cliEnv(t), "list-images", "--repository-name", "app", "--output", "table", "--query", query, "--endpoint-url", srv.URL)
		if code != ExitOther || out != "" || errOut != want {
			t.Errorf("--query %s: exit %d, stdout %q, stderr %q, want %q", query, code, out, errOut, want)
		}
	}
}

// TestTableLayout checks the renderer's arithmetic on its own: column
// widths scaled to the widest section with Python's rounding, text
// centred and aligned as awscli/table.py does.
func TestTableLayout(t *testing.T) {
	s := newSection(nil, 0)
	s.addHeader([]string{"a", "bb", "ccc"})
	s.addRow([]string{"1", "2", "3"})
	// Unscaled: 5, 6, 7 (widest cell plus 4); to 40: 11.11, 13.33,
	// 15.56 round to 11, 13, 16.
	if got := s.columnWidths(4, 40); !slicesEqual(got, []int{11, 13, 16}) {
		t.Errorf("widths %v", got)
	}
	// 5, 6, 7 to 20: 5.56, 6.67, 7.78 round to 6, 7, 8 (21), one taken
	// back from the first column.
	if got := s.columnWidths(4, 20); !slicesEqual(got, []int{5, 7, 8}) {
		t.Errorf("widths %v", got)
	}
	if got := centerText("ab", 10, "|", "|"); got != "|   ab   |" {
		t.Errorf("centerText %q", got)
	}
	if got := alignLeft("ab", 8, "|", "|"); got != "|  ab  |" {
		t.Errorf("alignLeft %q", got)
	}
	// Too long for its padding: against the edge.
	if got := alignLeft("abcdef", 8, "|", "|"); got != "|abcdef|" {
		t.Errorf("alignLeft %q", got)
	}
	if got := textWidth("日本é-a"); got != 8 {
		t.Errorf("textWidth %d", got)
	}
	for in, want := range map[string]string{"1": "1", "1.0": "1.0", "1.7e9": "1700000000.0", "1796667366.595": "1796667366.595",
		"1e16": "1e+16", "0.00001": "1e-05", "0.0001": "0.0001", "-2.50": "-2.5"} {
		if got := pyNumber(in); got != want {
			t.Errorf("pyNumber(%s) = %s, want %s", in, got, want)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
