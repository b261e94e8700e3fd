package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// TestSkopeo copies an image into berth with skopeo, using the password of
// GetAuthorizationToken as 'docker login' would, and back out; the manifest
// and every blob come back byte for byte. scripts/test installs skopeo.
func TestSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo not installed (scripts/test installs it from Debian)")
	}
	e := start(t)
	e.createRepo("skopeo/app")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	img, _ := random.Image(4096, 3)
	p, err := layout.Write(src, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(skopeo, args...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo %v: %v\n%s", args, err, out)
		}
	}
	creds := "AWS:" + e.loginPassword()
	dest := "docker://" + e.ref("skopeo/app:v1")
	run("copy", "--dest-tls-verify=false", "--dest-creds", creds, "--preserve-digests", "oci:"+src, dest)
	out := filepath.Join(dir, "out")
	run("copy", "--src-tls-verify=false", "--src-creds", creds, dest, "dir:"+out)

	raw, _ := img.RawManifest()
	got, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("manifest differs after the round trip")
	}
	m, _ := img.Manifest()
	for _, l := range append(m.Layers, m.Config) {
		b, err := os.ReadFile(filepath.Join(out, l.Digest.Hex))
		if err != nil || digestOf(b) != l.Digest.String() {
			t.Fatalf("blob %s differs after the round trip", l.Digest)
		}
	}
	d, _ := img.Digest()
	det := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("skopeo/app"), ImageIds: ids("v1")}))
	if *det.ImageDetails[0].ImageDigest != d.String() {
		t.Fatalf("ECR sees %s, skopeo pushed %s", *det.ImageDetails[0].ImageDigest, d)
	}
	// A wrong password is refused.
	cmd := exec.Command(skopeo, "inspect", "--tls-verify=false", "--creds", "AWS:wrong", dest)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("skopeo with a wrong password succeeded: %s", out)
	}
}
