package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHelpPerCommand(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		want, absent []string
	}{
		{[]string{"serve", "-h"}, []string{"-addr", "-create-on-push", "-pprof", "BERTH_ACCESS_KEY_ID", "BERTH_SECRET_ACCESS_KEY"}, nil},
		{[]string{"migrate", "-h"}, []string{"-data-dir", "-metadata"}, []string{"-addr", "-pprof", "-create-on-push", "-migrate "}},
		{[]string{"env", "-h"}, []string{"-data-dir", "-addr", "-region"}, []string{"-pprof", "-metadata"}},
	} {
		var out, errOut bytes.Buffer
		run(context.Background(), tc.args, &out, &errOut)
		help := errOut.String()
		for _, w := range tc.want {
			if !strings.Contains(help, w) {
				t.Errorf("%v: no %q in\n%s", tc.args, w, help)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(help, a) {
				t.Errorf("%v: %q does not belong in\n%s", tc.args, a, help)
			}
		}
	}
}

func TestVersionAndEnv(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "berth dev") {
		t.Fatalf("%v %q", err, out.String())
	}
	dir := t.TempDir()
	out.Reset()
	if err := run(context.Background(), []string{"env", "--data-dir", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "start berth serve") {
		t.Fatalf("env before any start: %v", err)
	}
	t.Setenv("BERTH_ACCESS_KEY_ID", "BKIAENVTEST000000000")
	t.Setenv("BERTH_SECRET_ACCESS_KEY", "envsecret")
	out.Reset()
	if err := run(context.Background(), []string{"env", "--addr", "127.0.0.1:5123"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if want := "export AWS_ACCESS_KEY_ID=BKIAENVTEST000000000 AWS_SECRET_ACCESS_KEY=envsecret AWS_DEFAULT_REGION=us-east-1\nexport AWS_ENDPOINT_URL_ECR=http://127.0.0.1:5123\n"; out.String() != want {
		t.Fatalf("%q", out.String())
	}
}
