package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// clientBin finds a client the test scripts install: the path in the
// environment variable, else the command on PATH; the test is skipped,
// saying so, when neither is there.
func clientBin(t *testing.T, env, command string) string {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath(command)
	if err != nil {
		t.Skipf("%s is not installed (scripts/clients installs it and sets %s)", command, env)
	}
	return p
}

// TestORAS drives the real oras CLI: an artifact of its own type and
// several files pushed and pulled byte for byte, an SBOM attached to an
// image and found again through the referrers API, a copy to another
// repository, the manifest fetched as stored, and tags listed.
func TestORAS(t *testing.T) {
	bin := clientBin(t, "BERTH_TEST_ORAS", "oras")
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	dir := t.TempDir()
	host := e.host()
	pw := e.loginPassword()
	config := filepath.Join(dir, "config.json")
	oras := func(args ...string) []byte {
		t.Helper()
		if args[0] != "cp" { // cp has a pair of each
			args = append(args, "--plain-http", "--registry-config", config)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	loginCmd := exec.Command(bin, "login", "--plain-http", "--registry-config", filepath.Join(dir, "config.json"), "-u", "AWS", "--password-stdin", host)
	loginCmd.Env = append(os.Environ(), "HOME="+dir)
	loginCmd.Stdin = strings.NewReader(pw)
	if out, err := loginCmd.CombinedOutput(); err != nil {
		t.Fatalf("oras login: %v\n%s", err, out)
	}

	files := map[string][]byte{"readme.txt": []byte("hello from oras\n"), "data.bin": randomBytes(3 << 20)}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	art := host + "/oras/art"
	oras("push", art+":v1", "--artifact-type", "application/vnd.berth.test", "readme.txt:text/plain", "data.bin:application/octet-stream")
	out := filepath.Join(dir, "out")
	oras("pull", art+":v1", "-o", out)
	for n, want := range files {
		if got, err := os.ReadFile(filepath.Join(out, n)); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s pulled back differs (%v)", n, err)
		}
	}
	// The manifest as stored, and as ECR has it.
	fetched := oras("manifest", "fetch", art+":v1")
	got := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("oras/art"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if len(got.Images) != 1 || *got.Images[0].ImageManifest != string(bytes.TrimSpace(fetched)) {
		t.Fatalf("oras fetched %s, ECR has %+v", fetched, got)
	}
	if !strings.Contains(string(fetched), `"artifactType":"application/vnd.berth.test"`) {
		t.Fatalf("the artifact type is lost: %s", fetched)
	}

	// An SBOM attached to an image, found through the referrers API.
	img, _ := random.Image(1024, 1)
	appRef := host + "/oras/app:v1"
	if err := remote.Write(must[name.Reference](t)(name.ParseReference(appRef, name.Insecure)), img, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sbom.json"), []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
	oras("attach", appRef, "--artifact-type", "application/spdx+json", "sbom.json:application/spdx+json")
	var discovered struct {
		Referrers []struct{ ArtifactType string } `json:"referrers"`
		Manifests []struct{ ArtifactType string } `json:"manifests"`
	}
	if err := json.Unmarshal(oras("discover", appRef, "--format", "json"), &discovered); err != nil {
		t.Fatal(err)
	}
	found := append(discovered.Referrers, discovered.Manifests...)
	if len(found) != 1 || found[0].ArtifactType != "application/spdx+json" {
		t.Fatalf("oras discover: %+v", found)
	}

	// A copy into another repository, and the tags.
	oras("cp", "--from-plain-http", "--to-plain-http", "--from-registry-config", config, "--to-registry-config", config, art+":v1", host+"/oras/copy:v1")
	oras("pull", host+"/oras/copy:v1", "-o", filepath.Join(dir, "copied"))
	if b, _ := os.ReadFile(filepath.Join(dir, "copied", "data.bin")); !bytes.Equal(b, files["data.bin"]) {
		t.Fatal("the copy differs")
	}
	oras("tag", art+":v1", "v2", "v3")
	tags := strings.Fields(string(oras("repo", "tags", art)))
	if strings.Join(tags, ",") != "v1,v2,v3" {
		t.Fatalf("oras repo tags: %q", tags)
	}
	// From a position, as a paging client asks (the registry's ?last=).
	if after := strings.Fields(string(oras("repo", "tags", "--last", "v1", art))); strings.Join(after, ",") != "v2,v3" {
		t.Fatalf("oras repo tags --last v1: %q", after)
	}
}
