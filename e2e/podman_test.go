package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestPodman drives the real podman (Debian's, with the vfs storage driver
// and its storage in the test's directory): log in with the ECR password,
// push an image made from a root file system the test writes, pull it
// back and compare digests, and push a two-platform manifest list. These
// are the README's podman commands.
func TestPodman(t *testing.T) {
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (scripts/test installs Debian's podman)")
	}
	e := start(t)
	e.createRepo("podman/app")
	e.createRepo("podman/multi")
	dir := t.TempDir()
	host := e.host()
	podman := podmanIn(t, bin, dir)
	rootfs := func(name, content string) string { return rootfsTar(t, dir, name, content) }

	podman(e.loginPassword(), "login", "--username", "AWS", "--password-stdin", "--tls-verify=false", host)
	ref := host + "/podman/app:v1"
	podman("", "import", rootfs("amd64", "hello from amd64"), ref)
	digestFile := filepath.Join(dir, "digest")
	podman("", "push", "--tls-verify=false", "--digestfile", digestFile, ref)
	pushed, err := os.ReadFile(digestFile)
	if err != nil {
		t.Fatal(err)
	}
	// ECR sees what podman pushed.
	out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("podman/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if got := *out.ImageDetails[0].ImageDigest; got != string(pushed) {
		t.Fatalf("podman pushed %s, ECR describes %s", pushed, got)
	}
	// Pulled back into empty storage, the same manifest.
	podman("", "rmi", "--all", "--force")
	podman("", "pull", "--tls-verify=false", ref)
	var inspected []struct{ Digest string }
	if err := json.Unmarshal([]byte(podman("", "image", "inspect", ref)), &inspected); err != nil || len(inspected) != 1 || inspected[0].Digest != string(pushed) {
		t.Fatalf("pulled back: %+v (%v), want %s", inspected, err, pushed)
	}

	// A manifest list of two platforms.
	arm := host + "/podman/app:arm64"
	podman("", "import", "--arch", "arm64", rootfs("arm64", "hello from arm64"), arm)
	podman("", "push", "--tls-verify=false", arm)
	list := host + "/podman/multi:v1"
	podman("", "manifest", "create", list)
	podman("", "manifest", "add", "--tls-verify=false", list, "docker://"+ref)
	podman("", "manifest", "add", "--tls-verify=false", "--arch", "arm64", list, "docker://"+arm)
	podman("", "manifest", "push", "--all", "--tls-verify=false", list, "docker://"+list)
	got := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("podman/multi"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if len(got.Images) != 1 {
		t.Fatalf("the manifest list: %+v", got.Failures)
	}
	var index struct {
		MediaType string
		Manifests []struct{ Platform struct{ Architecture string } }
	}
	json.Unmarshal([]byte(*got.Images[0].ImageManifest), &index)
	if len(index.Manifests) != 2 || !strings.Contains(index.MediaType, "list") && !strings.Contains(index.MediaType, "index") {
		t.Fatalf("the manifest list as stored: %s", *got.Images[0].ImageManifest)
	}
}

// podmanIn runs the podman at bin with its storage (vfs), run directory
// and auth file in dir, failing the test on an error; it returns the
// output.
func podmanIn(t *testing.T, bin, dir string) func(stdin string, args ...string) string {
	return func(stdin string, args ...string) string {
		t.Helper()
		all := append([]string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}, args...)
		cmd := exec.Command(bin, all...)
		cmd.Env = append(os.Environ(), "REGISTRY_AUTH_FILE="+filepath.Join(dir, "auth.json"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg"))
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// rootfsTar writes a root file system of one file under dir and returns
// its tarball, for podman import.
func rootfsTar(t *testing.T, dir, name, content string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "hello.txt"), []byte(content), 0o644)
	tarball := filepath.Join(dir, name+".tar")
	if out, err := exec.Command("tar", "-C", d, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	return tarball
}
