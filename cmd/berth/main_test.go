package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/server"
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

// TestBackupCommands: berth backup, verify and restore from the command
// line, on a data directory a server made.
func TestBackupCommands(t *testing.T) {
	dir := t.TempDir()
	s := server.New(io.Discard, io.Discard)
	s.Config = server.Defaults()
	s.Config.Addr, s.Config.DataDir = "127.0.0.1:0", dir
	s.Config.PublicAddr = "127.0.0.1:0" // tests run side by side
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dest, restored := filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "r")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", "--data-dir", dir, dest}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "backed up") {
		t.Fatalf("backup: %v %s", err, out.String())
	}
	if err := run(context.Background(), []string{"verify", dest}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "0 problems") {
		t.Fatalf("verify: %v %s", err, out.String())
	}
	if err := run(context.Background(), []string{"restore", dest, "--data-dir", restored}, &out, io.Discard); err != nil {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	if err := run(context.Background(), []string{"restore", dest, "--data-dir", restored}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a used directory: %v", err)
	}
	if err := run(context.Background(), []string{"verify", t.TempDir()}, &out, io.Discard); err == nil {
		t.Fatal("verify of an empty directory passed")
	}
}

// TestHealthcheckCommand: berth healthcheck (the image's HEALTHCHECK)
// passes against a running berth and fails where none answers.
func TestHealthcheckCommand(t *testing.T) {
	s := server.New(io.Discard, io.Discard)
	s.Config = server.Defaults()
	s.Config.Addr, s.Config.DataDir = "127.0.0.1:0", t.TempDir()
	s.Config.PublicAddr = "127.0.0.1:0" // tests run side by side
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL(), "http://")
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr}, io.Discard, io.Discard); err != nil {
		t.Fatalf("a running berth: %v", err)
	}
	s.Close()
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr}, io.Discard, io.Discard); err == nil {
		t.Fatal("a stopped berth passed the health check")
	}
}
