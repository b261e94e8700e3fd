package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TestFullDisk runs the embedded default on a small file system of its own
// (a tmpfs the test mounts), fills it, and pushes: the push fails with a
// 5xx that names the cause (507 on the registry API, ServerException on
// the ECR API), nothing of it is visible, pulls keep working, and once
// space is freed pushes succeed again, with no restart.
func TestFullDisk(t *testing.T) {
	if scaleOut() {
		t.Skip("the data directory's disk is the embedded default's")
	}
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o750)
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	e := startIn(t, dir)
	e.createRepo("full")
	img := e.pushImage("full", "before", 1)
	manifest := img.docker()
	must[*ecr.PutImageOutput](t)(e.putImage("full", manifest, "v1"))

	// Fill the disk, but for a little.
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	free := int64(st.Bavail) * st.Bsize
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, free-(1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := e.loginPassword()
	blob := randomBytes(4 << 20)
	push := func() (*http.Response, []byte) {
		req := must[*http.Request](t)(http.NewRequest("POST", e.url+"/v2/full/blobs/uploads/?digest="+digestOf(blob), bytes.NewReader(blob)))
		req.SetBasicAuth("AWS", pw)
		req.Header.Set("Content-Type", "application/octet-stream")
		return e.raw(req)
	}
	resp, body := push()
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), "storage is full") {
		t.Fatalf("a push to a full disk: %d %s", resp.StatusCode, body)
	}
	// The ECR API says the same, as a ServerException: at the start of the
	// upload (its session is a row in the full database) or at the part.
	up, err := e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("full")})
	if err == nil {
		_, err = e.part("full", *up.UploadId, 0, blob)
	}
	if api := wantError(t, err, "ServerException", 500); !strings.Contains(api.ErrorMessage(), "storage is full") {
		t.Fatalf("an ECR upload on a full disk: %s", api.ErrorMessage())
	}
	// Nothing of it is visible; what was there still pulls.
	head := must[*http.Request](t)(http.NewRequest("HEAD", e.url+"/v2/full/blobs/"+digestOf(blob), nil))
	head.SetBasicAuth("AWS", pw)
	if resp, _ := e.raw(head); resp.StatusCode != 404 {
		t.Fatalf("the refused blob: %d", resp.StatusCode)
	}
	got := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("full"),
		ImageIds: ids("v1")}))
	if len(got.Images) != 1 || *got.Images[0].ImageManifest != manifest {
		t.Fatalf("the image pushed before: %+v", got.Failures)
	}
	for _, l := range img.layers {
		get := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/full/blobs/"+l.Digest, nil))
		get.SetBasicAuth("AWS", pw)
		if resp, _ := e.raw(get); resp.StatusCode != 200 {
			t.Fatalf("pulling a layer from a full disk: %d", resp.StatusCode)
		}
	}

	// Space again: the same push succeeds, same process.
	os.Remove(filler)
	resp, body = push()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a push once space is back: %d %s", resp.StatusCode, body)
	}
	var errs struct{ Errors []struct{ Code string } }
	json.Unmarshal(body, &errs)
	if len(errs.Errors) != 0 {
		t.Fatalf("%s", body)
	}
}
