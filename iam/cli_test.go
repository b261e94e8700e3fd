package iam

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestAWSCLI: the AWS CLI, unchanged but for --endpoint-url, manages users
// and policies and says who is calling, where the machine has it.
func TestAWSCLI(t *testing.T) {
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no aws CLI on PATH")
	}
	ts := newTestServer(t)
	dir := t.TempDir()
	env := []string{"AWS_ACCESS_KEY_ID=" + rootCred.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + rootCred.SecretAccessKey, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) (map[string]any, string, error) {
		cmd := exec.Command(cli, append(args, "--endpoint-url", ts.URL, "--output", "json")...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var out map[string]any
		if err == nil && strings.TrimSpace(stdout.String()) != "" {
			if jerr := json.Unmarshal([]byte(stdout.String()), &out); jerr != nil {
				return nil, stderr.String(), fmt.Errorf("%w: %s", jerr, stdout.String())
			}
		}
		return out, stderr.String(), err
	}

	out, stderr, err := run("iam", "create-user", "--user-name", "x", "--tags", "Key=team,Value=core")
	if err != nil {
		t.Fatalf("create-user: %v %s", err, stderr)
	}
	u, _ := out["User"].(map[string]any)
	if u["UserName"] != "x" || u["Path"] != "/" || u["Arn"] != "arn:aws:iam::111122223333:user/x" || !strings.HasPrefix(fmt.Sprint(u["UserId"]), "AIDA") {
		t.Fatalf("create-user printed %v", out)
	}
	out, stderr, err = run("sts", "get-caller-identity")
	if err != nil || out["Account"] != account || out["Arn"] != "arn:aws:iam::111122223333:root" || out["UserId"] != account {
		t.Fatalf("get-caller-identity: %v %v %s", out, err, stderr)
	}

	// The CLI decodes the policy IAM answers URL-encoded, and prints it as JSON.
	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": "*",` +
		` "Condition": {"StringLike": {"aws:userid": "a+b c&d%"}}}]}`
	if _, stderr, err := run("iam", "put-user-policy", "--user-name", "x", "--policy-name", "pull", "--policy-document", doc); err != nil {
		t.Fatalf("put-user-policy: %v %s", err, stderr)
	}
	out, stderr, err = run("iam", "get-user-policy", "--user-name", "x", "--policy-name", "pull")
	var want any
	json.Unmarshal([]byte(doc), &want)
	if err != nil || out["UserName"] != "x" || out["PolicyName"] != "pull" || !reflect.DeepEqual(out["PolicyDocument"], want) {
		t.Fatalf("get-user-policy: %v %v %s", out, err, stderr)
	}

	if _, stderr, err := run("iam", "get-user", "--user-name", "nobody"); err == nil ||
		!strings.Contains(stderr, "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nobody cannot be found.") {
		t.Fatalf("get-user nobody: %v %s", err, stderr)
	}
	if _, stderr, err := run("iam", "delete-user", "--user-name", "x"); err == nil ||
		!strings.Contains(stderr, "An error occurred (DeleteConflict) when calling the DeleteUser operation: Cannot delete entity, must delete policies first.") {
		t.Fatalf("delete-user with a policy: %v %s", err, stderr)
	}
}
