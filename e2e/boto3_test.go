package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBoto3 runs testdata/boto3_session.py: botocore must map every error
// berth returns to the same typed exception class as for real ECR.
func TestBoto3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 not available")
	}
	e := start(t)
	cmd := exec.Command(py, "testdata/boto3_session.py")
	cmd.Env = append(os.Environ(), "BERTH_URL="+e.url, "BERTH_KEY="+e.srv.Credential.AccessKeyID, "BERTH_SECRET="+e.srv.Credential.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 session ok") {
		t.Fatalf("boto3 session: %v\n%s", err, out)
	}
}

// TestBoto3Access runs testdata/boto3_access.py: IAM through boto3, and
// the denials as botocore parses them, with ECR's exact texts.
func TestBoto3Access(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 not available")
	}
	e := startWith(t, func(c *serverConfig) { c.RegistryID = ownAccount })
	cmd := exec.Command(py, "testdata/boto3_access.py")
	cmd.Env = append(os.Environ(), "BERTH_URL="+e.url, "BERTH_KEY="+e.srv.Credential.AccessKeyID, "BERTH_SECRET="+e.srv.Credential.SecretAccessKey,
		"BERTH_ACCOUNT="+ownAccount, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 access ok") {
		t.Fatalf("boto3 access: %v\n%s", err, out)
	}
}
