package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRegctl drives the real regctl, which is strict about headers and
// digests: login, a multi-platform index copied to another repository,
// its tags, the index fetched byte for byte, a blob fetched byte for byte.
func TestRegctl(t *testing.T) {
	bin := clientBin(t, "BERTH_TEST_REGCTL", "regctl")
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	dir := t.TempDir()
	host := e.host()
	regctl := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "HOME="+dir, "REGCTL_CONFIG="+filepath.Join(dir, "regctl.json"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("regctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// Plain HTTP first: "registry set" saves it, then pings the registry
	// without credentials, which berth refuses as ECR does (401), so its
	// exit status says nothing here.
	set := exec.Command(bin, "registry", "set", "--tls", "disabled", host)
	set.Env = append(os.Environ(), "HOME="+dir, "REGCTL_CONFIG="+filepath.Join(dir, "regctl.json"))
	if out, err := set.CombinedOutput(); err != nil && !strings.Contains(string(out), "unauthorized") {
		t.Fatalf("regctl registry set: %v\n%s", err, out)
	}
	regctl(e.loginPassword(), "registry", "login", host, "--user", "AWS", "--pass-stdin")

	idx, _ := random.Index(1<<20, 1, 2)
	src := host + "/regctl/src:v1"
	if err := remote.WriteIndex(must[name.Reference](t)(name.ParseReference(src, name.Insecure)), idx, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	want, _ := idx.RawManifest()
	if got := regctl("", "manifest", "get", src, "--format", "raw-body"); !bytes.Equal(bytes.TrimSpace(got), want) {
		t.Fatalf("regctl manifest get: %s, want %s", got, want)
	}
	regctl("", "image", "copy", src, host+"/regctl/dst:v1")
	if got := regctl("", "manifest", "get", host+"/regctl/dst:v1", "--format", "raw-body"); !bytes.Equal(bytes.TrimSpace(got), want) {
		t.Fatalf("the copy: %s", got)
	}
	regctl("", "image", "copy", src, host+"/regctl/dst:v2")
	if tags := strings.Fields(string(regctl("", "tag", "ls", host+"/regctl/dst"))); strings.Join(tags, ",") != "v1,v2" {
		t.Fatalf("regctl tag ls: %q", tags)
	}
	// A layer of the first image, byte for byte.
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	rc, _ := layers[0].Compressed()
	var layer bytes.Buffer
	layer.ReadFrom(rc)
	rc.Close()
	if got := regctl("", "blob", "get", host+"/regctl/src", ld.String()); !bytes.Equal(got, layer.Bytes()) {
		t.Fatalf("regctl blob get: %d bytes, want %d", len(got), layer.Len())
	}
}
