package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestContainerd pulls with the real containerd (Debian's), as a
// Kubernetes node does: its own daemon on a socket in the test's
// directory, and ctr pulling a single image and a multi-platform index,
// by tag and by digest (ctr images pull --all-platforms), with the ECR
// password.
func TestContainerd(t *testing.T) {
	daemon, err1 := exec.LookPath("containerd")
	ctr, err2 := exec.LookPath("ctr")
	if err1 != nil || err2 != nil {
		t.Skip("containerd is not installed (scripts/clients installs Debian's containerd)")
	}
	e := start(t)
	e.createRepo("ctd/app")
	dir, err := os.MkdirTemp("", "ctd") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "containerd.sock")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte("version = 2\nroot = \""+filepath.Join(dir, "root")+"\"\nstate = \""+filepath.Join(dir, "state")+
		"\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \""+sock+"\"\n"), 0o644)
	cmd := exec.Command(daemon, "--config", config)
	log, _ := os.Create(filepath.Join(dir, "containerd.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ctr, append([]string{"--address", sock}, args...)...).CombinedOutput()
		if err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("ctr %s: %v\n%s\ncontainerd's log:\n%s", strings.Join(args, " "), err, out, b)
		}
		return string(out)
	}
	for i := 0; ; i++ { // the daemon starts in its own time
		if _, err := os.Stat(sock); err == nil {
			if exec.Command(ctr, "--address", sock, "version").Run() == nil {
				break
			}
		}
		if i == 300 {
			t.Fatal("containerd did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	user := "AWS:" + e.loginPassword()
	host := e.host()

	img, _ := random.Image(1<<20, 2)
	one := host + "/ctd/app:single"
	if err := remote.Write(must[name.Reference](t)(name.ParseReference(one, name.Insecure)), img, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	idx, _ := random.Index(1<<20, 1, 2)
	multi := host + "/ctd/app:multi"
	if err := remote.WriteIndex(must[name.Reference](t)(name.ParseReference(multi, name.Insecure)), idx, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	imgDigest, _ := img.Digest()
	idxDigest, _ := idx.Digest()
	for _, ref := range []string{one, host + "/ctd/app@" + imgDigest.String(), multi, host + "/ctd/app@" + idxDigest.String()} {
		run("images", "pull", "--plain-http", "--user", user, "--all-platforms", ref)
	}
	listed := run("images", "ls", "-q")
	for _, ref := range []string{one, multi} {
		if !strings.Contains(listed, ref) {
			t.Fatalf("ctr images ls lacks %s:\n%s", ref, listed)
		}
	}
}
