package e2e

import (
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

// TestCosign drives the real cosign with a key pair of its own and no
// transparency log (berth runs air-gapped): an image signed by digest and
// verified, an attestation made and verified, a tampered image (another
// digest) failing verification, and the signature stored where cosign
// looks for it in this registry.
func TestCosign(t *testing.T) {
	bin := clientBin(t, "BERTH_TEST_COSIGN", "cosign")
	e := start(t)
	e.createRepo("cos/app")
	dir := t.TempDir()
	host := e.host()
	cosign := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+filepath.Join(dir, "docker"), "COSIGN_PASSWORD=", "COSIGN_YES=true",
			"TUF_ROOT="+filepath.Join(dir, "tuf"), "SIGSTORE_NO_CACHE=true")
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("cosign %s: %v (want success %v)\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	cosign(true, "login", host, "-u", "AWS", "-p", e.loginPassword())
	cosign(true, "generate-key-pair")

	img, _ := random.Image(1024, 1)
	if err := remote.Write(must[name.Reference](t)(name.ParseReference(host+"/cos/app:v1", name.Insecure)), img, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ref := host + "/cos/app@" + d.String()
	offline := []string{"--allow-http-registry", "--allow-insecure-registry"}
	cosign(true, append([]string{"sign", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false"}, append(offline, ref)...)...)
	cosign(true, append([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true"}, append(offline, ref)...)...)

	os.WriteFile(filepath.Join(dir, "predicate.json"), []byte(`{"builder":{"id":"berth-test"}}`), 0o644)
	cosign(true, append([]string{"attest", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false", "--type", "slsaprovenance", "--predicate", "predicate.json"}, append(offline, ref)...)...)
	cosign(true, append([]string{"verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog=true", "--type", "slsaprovenance"}, append(offline, ref)...)...)

	// Another image, never signed: verification fails.
	other, _ := random.Image(1024, 1)
	if err := remote.Write(must[name.Reference](t)(name.ParseReference(host+"/cos/app:v2", name.Insecure)), other, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	od, _ := other.Digest()
	cosign(false, append([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true"}, append(offline, host+"/cos/app@"+od.String())...)...)

	// The signature is in the repository: as a referrer of the image, or
	// under cosign's tag scheme, sha256-<hex>.sig.
	refs := must[*ecr.ListImageReferrersOutput](t)(e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("cos/app"),
		SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(d.String())}}))
	tags := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("cos/app")}))
	sigTag := strings.Replace(d.String(), ":", "-", 1) + ".sig"
	tagged := false
	for _, id := range tags.ImageIds {
		tagged = tagged || aws.ToString(id.ImageTag) == sigTag
	}
	if len(refs.Referrers) == 0 && !tagged {
		t.Fatalf("no signature found: %d referrers, tags %+v", len(refs.Referrers), tags.ImageIds)
	}
	t.Logf("cosign stored its signature and attestation as %d referrer(s); tag %s present: %v", len(refs.Referrers), sigTag, tagged)

	// The older format, under the tag scheme: signed, found by its tag,
	// verified.
	legacy, _ := random.Image(1024, 1)
	if err := remote.Write(must[name.Reference](t)(name.ParseReference(host+"/cos/app:v3", name.Insecure)), legacy, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	ld, _ := legacy.Digest()
	lref := host + "/cos/app@" + ld.String()
	cosign(true, append([]string{"sign", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false", "--new-bundle-format=false"}, append(offline, lref)...)...)
	cosign(true, append([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true", "--new-bundle-format=false"}, append(offline, lref)...)...)
	legacyTag := strings.Replace(ld.String(), ":", "-", 1) + ".sig"
	if _, err := e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("cos/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(legacyTag)}}}); err != nil {
		t.Fatalf("the signature under %s: %v", legacyTag, err)
	}
}
