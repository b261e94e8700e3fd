package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TestHelm drives the real helm: log in with the ECR password, push a
// chart the test packages, pull it back and show it from oci://, and find
// it in DescribeImages with helm's media types.
func TestHelm(t *testing.T) {
	bin := clientBin(t, "BERTH_TEST_HELM", "helm")
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	dir := t.TempDir()
	host := e.host()
	helm := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "HOME="+dir, "HELM_CONFIG_HOME="+filepath.Join(dir, "config"), "HELM_CACHE_HOME="+filepath.Join(dir, "cache"),
			"HELM_DATA_HOME="+filepath.Join(dir, "data"), "HELM_REGISTRY_CONFIG="+filepath.Join(dir, "registry.json"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	helm(e.loginPassword(), "registry", "login", host, "--username", "AWS", "--password-stdin", "--plain-http")
	helm("", "create", "berthchart")
	helm("", "package", "berthchart")
	helm("", "push", "berthchart-0.1.0.tgz", "oci://"+host+"/charts", "--plain-http")
	os.MkdirAll(filepath.Join(dir, "pulled"), 0o755)
	helm("", "pull", "oci://"+host+"/charts/berthchart", "--version", "0.1.0", "--plain-http", "-d", filepath.Join(dir, "pulled"))
	if _, err := os.Stat(filepath.Join(dir, "pulled", "berthchart-0.1.0.tgz")); err != nil {
		t.Fatalf("helm pull: %v", err)
	}
	if shown := helm("", "show", "chart", "oci://"+host+"/charts/berthchart", "--version", "0.1.0", "--plain-http"); !strings.Contains(shown, "name: berthchart") {
		t.Fatalf("helm show chart:\n%s", shown)
	}
	out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("charts/berthchart")}))
	if len(out.ImageDetails) != 1 {
		t.Fatalf("%d images", len(out.ImageDetails))
	}
	d := out.ImageDetails[0]
	if aws.ToString(d.ArtifactMediaType) != "application/vnd.cncf.helm.config.v1+json" || aws.ToString(d.ImageManifestMediaType) != "application/vnd.oci.image.manifest.v1+json" ||
		len(d.ImageTags) != 1 || d.ImageTags[0] != "0.1.0" {
		t.Fatalf("the chart as ECR describes it: %+v", d)
	}
}
