package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBoto3Public runs testdata/boto3_public.py: all 23 operations of
// boto3's ecr-public client against berth's ECR Public API, with their
// outputs, their main errors as botocore's typed exceptions, and paging;
// then an anonymous pull of the pushed manifest from the public registry
// endpoint.
func TestBoto3Public(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 not available")
	}
	e := startWith(t, func(c *serverConfig) {
		c.RegistryID = ownAccount
		c.PublicAlias = publicAlias
		c.PublicAddr = "127.0.0.1:0"
	})
	cmd := exec.Command(py, "testdata/boto3_public.py")
	cmd.Env = append(os.Environ(), "BERTH_URL="+e.url, "BERTH_PUBLIC_URL="+e.srv.PublicURL(), "BERTH_ALIAS="+publicAlias,
		"BERTH_KEY="+e.srv.Credential.AccessKeyID, "BERTH_SECRET="+e.srv.Credential.SecretAccessKey,
		"BERTH_ACCOUNT="+ownAccount, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 public ok") {
		t.Fatalf("boto3 public: %v\n%s", err, out)
	}
}
