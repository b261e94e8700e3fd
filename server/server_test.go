package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/berth-registry/berth/registry"
)

func startIn(t *testing.T, dir, addr string, stdout io.Writer) (*Server, error) {
	t.Helper()
	s := New(stdout, io.Discard)
	s.Config = Defaults()
	s.Config.Addr, s.Config.DataDir = addr, dir
	s.Config.PublicAddr = "127.0.0.1:0" // tests run side by side
	err := s.Run(context.Background())
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// TestBusyPortFirstStart: a first start that cannot listen leaves no
// credentials behind, so the next start generates them and shows the
// secret.
func TestBusyPortFirstStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := startIn(t, dir, busy.Addr().String(), io.Discard); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("a busy port: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials.json")); err == nil {
		t.Fatal("credentials were written by a start that could not listen")
	}
	var out bytes.Buffer
	s, err := startIn(t, dir, "127.0.0.1:0", &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "shown only now") || !strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY="+s.Credential.SecretAccessKey) {
		t.Fatalf("the secret was not shown:\n%s", out.String())
	}
}

// TestRestartBanner: a later start says how to set up a shell (berth env,
// with the flags this server needs) and suggests a next step that fits.
func TestRestartBanner(t *testing.T) {
	dir := t.TempDir()
	s, err := startIn(t, dir, "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out bytes.Buffer
	s, err = startIn(t, dir, "127.0.0.1:0", &out)
	if err != nil {
		t.Fatal(err)
	}
	b := out.String()
	if !strings.Contains(b, `eval "$(berth env --data-dir `+dir+` --addr `+s.ln.Addr().String()+`)"`) || !strings.Contains(b, "create-repository") {
		t.Fatalf("banner of an empty registry:\n%s", b)
	}
	if strings.Contains(b, s.Credential.SecretAccessKey) {
		t.Fatal("a later start printed the secret")
	}
	// With a repository, the next step is to look at it.
	s.Close()
	meta, blobs, err := OpenStores(context.Background(), s.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, err = registry.New(meta, blobs, registry.Config{ID: s.Config.RegistryID}).CreateRepository(context.Background(), registry.CreateRepositoryInput{Name: "there"})
	meta.Close()
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := startIn(t, dir, "127.0.0.1:0", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "aws ecr describe-repositories") {
		t.Fatalf("banner of a registry with a repository:\n%s", out.String())
	}
}

// TestHealthzVersion: /healthz names the version it runs.
func TestHealthzVersion(t *testing.T) {
	s, err := startIn(t, t.TempDir(), "127.0.0.1:0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "ok\nberth "+VersionString()) {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
}

// TestEnvLines: berth env's lines, for a server listening everywhere,
// point at loopback.
func TestEnvLines(t *testing.T) {
	c := Defaults()
	c.Addr = "0.0.0.0:5001"
	cred, _, _ := loadCredential(Config{DataDir: t.TempDir(), RegistryID: c.RegistryID})
	got := EnvLines(c, cred)
	want := "export AWS_ACCESS_KEY_ID=" + cred.AccessKeyID + " AWS_SECRET_ACCESS_KEY=" + cred.SecretAccessKey + " AWS_DEFAULT_REGION=us-east-1\nexport AWS_ENDPOINT_URL_ECR=http://127.0.0.1:5001\n"
	if got != want {
		t.Fatalf("%q", got)
	}
	if _, err := AdminCredential(Config{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "start berth serve") {
		t.Fatalf("no credentials yet: %v", err)
	}
}

// TestRequestLogNamesTheError: a refused request's log line names the
// operation and the error code, on both APIs.
func TestRequestLogNamesTheError(t *testing.T) {
	var log bytes.Buffer
	s := New(io.Discard, &syncWriter{w: &log})
	s.Config = Defaults()
	s.Config.Addr, s.Config.DataDir = "127.0.0.1:0", t.TempDir()
	s.Config.PublicAddr = "127.0.0.1:0" // tests run side by side
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL()+"/v2/absent/tags/list", nil)
	req.SetBasicAuth(s.Credential.AccessKeyID, s.Credential.SecretAccessKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("POST", s.URL()+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Close()
	got := log.String()
	for _, want := range []string{`operation="oci:tags GET"`, "error=NAME_UNKNOWN", "operation=ecr:DescribeRepositories", "error=MissingAuthenticationTokenException"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in the log:\n%s", want, got)
		}
	}
}

// syncWriter is a writer several goroutines may share.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
