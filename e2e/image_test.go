package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestContainerImage builds berth's image with scripts/image (podman, vfs
// storage in the test's directory) and checks what a runtime needs of it:
// the non-root user, /data as a volume, the port, the health check, the
// settings; then runs it with podman, its data on a host directory, and
// pushes to it and pulls from it. Where the runtime may not run containers
// at all, the test says so and stops after the inspection.
func TestContainerImage(t *testing.T) {
	if testing.Short() || scaleOut() {
		t.Skip("the image is the same on both backends")
	}
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (scripts/clients installs it)")
	}
	// Not t.TempDir: podman's storage is removed through podman first.
	dir, err := os.MkdirTemp("", "berth-image")
	if err != nil {
		t.Fatal(err)
	}
	flags := "--root " + filepath.Join(dir, "root") + " --runroot " + filepath.Join(dir, "run") + " --storage-driver vfs"
	t.Cleanup(func() {
		for _, args := range [][]string{{"rm", "-af"}, {"rmi", "-af"}, {"system", "reset", "-f"}} {
			exec.Command(bin, append(strings.Fields(flags), args...)...).Run()
		}
		os.RemoveAll(dir)
	})
	cmd := exec.Command("../scripts/image", "localhost/berth:test")
	cmd.Env = append(os.Environ(), "PODMAN_FLAGS="+flags)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image: %v\n%s", err, out)
	}
	podman := func(args ...string) ([]byte, error) {
		return exec.Command(bin, append(strings.Fields(flags), args...)...).CombinedOutput()
	}
	out, err := podman("image", "inspect", "localhost/berth:test")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var inspected []struct {
		Config struct {
			User         string
			Env          []string
			ExposedPorts map[string]any
			Volumes      map[string]any
			Entrypoint   []string
			Cmd          []string
		}
		HealthCheck struct{ Test []string }
	}
	if err := json.Unmarshal(out, &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	c := inspected[0].Config
	envs := strings.Join(c.Env, " ")
	if c.User != "65532:65532" || c.ExposedPorts["5000/tcp"] == nil || c.Volumes["/data"] == nil ||
		!strings.Contains(envs, "BERTH_DATA_DIR=/data") || !strings.Contains(envs, "BERTH_ADDR=0.0.0.0:5000") ||
		strings.Join(c.Entrypoint, " ") != "/berth" || strings.Join(c.Cmd, " ") != "serve" ||
		!strings.Contains(strings.Join(inspected[0].HealthCheck.Test, " "), "/berth healthcheck") {
		t.Fatalf("the image: %s", out)
	}
	// The runtime as this machine allows it: some sandboxes refuse to
	// raise resource limits or to use cgroup v2 controllers, where runc with
	// cgroupfs and limits no higher than the current ones still run.
	// No health check timer: it needs systemd, and this test asks /healthz
	// itself.
	runFlags := []string{"--no-healthcheck"}
	if out, err := podman(append(append([]string{"run", "--rm", "--network", "host"}, runFlags...), "localhost/berth:test", "version")...); err != nil {
		if !strings.Contains(string(out), "setrlimit") && !strings.Contains(string(out), "rlimit") && !strings.Contains(string(out), "cgroups") {
			t.Fatalf("podman run: %v\n%s", err, out)
		}
		var nofile, nproc syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
		syscall.Getrlimit(6 /* RLIMIT_NPROC */, &nproc)
		runFlags = append(runFlags, "--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Cur, nofile.Cur), "--ulimit", fmt.Sprintf("nproc=%d:%d", min(nproc.Cur, 4096), min(nproc.Cur, 4096)))
		flags += " --runtime runc --cgroup-manager cgroupfs"
		if out, err := podman(append(append([]string{"run", "--rm", "--network", "host"}, runFlags...), "localhost/berth:test", "version")...); err != nil {
			t.Logf("podman cannot run containers in this sandbox (%s); the image was built and inspected", strings.TrimSpace(string(out)))
			return
		}
	}
	out, err = podman(append(append([]string{"run", "--rm", "--network", "host"}, runFlags...), "localhost/berth:test", "version")...)
	if err != nil || !strings.Contains(string(out), "berth ") {
		t.Fatalf("podman run … version: %v %s", err, out)
	}

	// Serving: the data on a host directory, a push and a pull through it.
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o777)
	os.Chmod(data, 0o777) // the image's user, 65532, writes there
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"run", "-d", "--name", "berth-test", "--network", "host", "-v", data + ":/data",
		"-e", "BERTH_ADDR=" + addr, "-e", "BERTH_PUBLIC_ADDR=", "-e", "BERTH_LOG_REQUESTS=false"}, runFlags...)
	if out, err := podman(append(args, "localhost/berth:test")...); err != nil {
		t.Fatalf("podman run -d: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rm", "-f", "berth-test") })
	var cred struct{ AccessKeyID, SecretAccessKey string }
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(data, "credentials.json"))
		if err == nil && json.Unmarshal(b, &cred) == nil && cred.SecretAccessKey != "" {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
		}
		if i == 600 {
			logs, _ := podman("logs", "berth-test")
			t.Fatalf("berth in its container did not start: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e := &env{t: t, url: "http://" + addr}
	e.ecr = e.client(cred.AccessKeyID, cred.SecretAccessKey)
	e.createRepo("in/container")
	img := must[v1.Image](t)(random.Image(4096, 2))
	ref := must[name.Reference](t)(name.ParseReference(addr+"/in/container:v1", name.Insecure))
	if err := remote.Write(ref, img, e.remoteOpts()...); err != nil {
		t.Fatalf("push to berth in its container: %v", err)
	}
	if err := pullAll(ref, e.remoteOpts()); err != nil {
		t.Fatalf("pull from berth in its container: %v", err)
	}
	got := must[v1.Image](t)(remote.Image(ref, e.remoteOpts()...))
	if want, _ := img.Digest(); must[v1.Hash](t)(got.Digest()) != want {
		t.Fatal("the image pulled back differs")
	}
	if _, err := os.Stat(filepath.Join(data, "berth.db")); err != nil {
		t.Errorf("the data is not in the volume: %v", err)
	}
}
