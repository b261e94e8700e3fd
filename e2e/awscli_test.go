package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-registry/berth/server"
)

// TestAWSCLI drives the real AWS CLI through the seed workflow: upload
// layers, put-image from a file, retag with batch-get-image and put-image,
// describe-images. It is skipped only where aws is not installed.
func TestAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	e := start(t)
	dir := t.TempDir()
	run := awsCLI(t, awsBin, e, dir, "ecr")
	field := func(b []byte, path ...string) any {
		t.Helper()
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		for _, p := range path {
			switch x := v.(type) {
			case map[string]any:
				v = x[p]
			case []any:
				v = x[0]
			}
		}
		return v
	}
	upload := func(name string, data []byte) string {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
		id := field(run("initiate-layer-upload", "--repository-name", "hello-world"), "uploadId").(string)
		run("upload-layer-part", "--repository-name", "hello-world", "--upload-id", id, "--part-first-byte", "0",
			"--part-last-byte", strconv.Itoa(len(data)-1), "--layer-part-blob", "fileb://"+name)
		return field(run("complete-layer-upload", "--repository-name", "hello-world", "--upload-id", id, "--layer-digests", digestOf(data)), "layerDigest").(string)
	}

	run("create-repository", "--repository-name", "hello-world")
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("hello from the AWS CLI")
	cfgDigest, layerDigest := upload("config.json", cfg), upload("layer.tar.gz", layer)
	manifest := `{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": ` + strconv.Itoa(len(cfg)) + `, "digest": "` + cfgDigest + `"},
   "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": ` + strconv.Itoa(len(layer)) + `, "digest": "` + layerDigest + `"}]
}
`
	os.WriteFile(filepath.Join(dir, "hello-world.manifest.json"), []byte(manifest), 0o600)
	out := run("put-image", "--repository-name", "hello-world", "--image-tag", "2019.08", "--image-manifest", "file://hello-world.manifest.json")
	if got := field(out, "image", "imageId", "imageDigest"); got != digestOf([]byte(manifest)) {
		t.Fatalf("put-image digest %v, want %s (bytes of the file, unchanged)", got, digestOf([]byte(manifest)))
	}
	if field(out, "image", "imageId", "imageTag") != "2019.08" || field(out, "image", "imageManifest") != manifest {
		t.Fatalf("put-image output %s", out)
	}
	// Retag, as the ECR user guide shows.
	m := field(run("batch-get-image", "--repository-name", "hello-world", "--image-ids", "imageTag=2019.08"), "images", "0", "imageManifest").(string)
	if m != manifest {
		t.Fatalf("batch-get-image returned %q", m)
	}
	run("put-image", "--repository-name", "hello-world", "--image-tag", "latest", "--image-manifest", m)
	det := run("describe-images", "--repository-name", "hello-world")
	tags := field(det, "imageDetails", "0", "imageTags").([]any)
	if len(tags) != 2 || tags[0] != "2019.08" || tags[1] != "latest" {
		t.Fatalf("describe-images tags %v", tags)
	}
	if size := field(det, "imageDetails", "0", "imageSizeInBytes").(float64); int(size) != len(cfg)+len(layer) {
		t.Fatalf("imageSizeInBytes %v", size)
	}
	list := run("list-images", "--repository-name", "hello-world")
	if n := len(field(list, "imageIds").([]any)); n != 2 {
		t.Fatalf("list-images: %d ids", n)
	}
	run("batch-delete-image", "--repository-name", "hello-world", "--image-ids", "imageTag=latest")
	pw := strings.TrimSpace(string(run("get-login-password")))
	if pw == "" || strings.Contains(pw, ":") {
		t.Fatalf("get-login-password printed %q", pw)
	}
}

// TestAWSCLIFromBerthEnv: the lines berth env prints are all the AWS CLI
// needs, no --endpoint-url (AWS_ENDPOINT_URL_ECR).
func TestAWSCLIFromBerthEnv(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	e := start(t)
	e.createRepo("from-env")
	c := e.srv.Config
	c.Addr = e.host()
	cred, err := server.AdminCredential(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_PAGER="}
	for _, line := range strings.Split(strings.TrimSpace(server.EnvLines(c, cred)), "\n") {
		env = append(env, strings.Fields(strings.TrimPrefix(line, "export "))...)
	}
	cmd := exec.Command(awsBin, "ecr", "describe-repositories", "--output", "json")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"from-env"`) {
		t.Fatalf("%v\n%s", err, out)
	}
}

// awsCLI returns a runner of the real AWS CLI's service commands against
// e, as its root, in dir, with JSON output; a failure fails the test.
func awsCLI(t *testing.T, awsBin string, e *env, dir, service string) func(args ...string) []byte {
	return func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(awsBin, append(append([]string{service}, args...), "--endpoint-url", e.url, "--output", "json")...)
		cmd.Dir = dir
		cmd.Env = awsEnv(e, dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s %s: %v\n%s", service, strings.Join(args, " "), err, out)
		}
		return out
	}
}

// awsEnv is the environment of an AWS CLI run as e's root, reading no
// configuration files.
func awsEnv(e *env, dir string) []string {
	region := testRegion
	if e.srv != nil && e.srv.Config.Region != "" {
		region = e.srv.Config.Region
	}
	return append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+e.srv.Credential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Credential.SecretAccessKey,
		"AWS_DEFAULT_REGION="+region, "AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
}
