package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerImage builds berth's image with scripts/image (podman, vfs
// storage in the test's directory) and checks what a runtime needs of it:
// the non-root user, /data as a volume, the port, the health check, the
// settings. Running it needs a runtime allowed to set resource limits,
// which some sandboxes refuse: then the test says so and stops there.
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
	env := strings.Join(c.Env, " ")
	if c.User != "65532:65532" || c.ExposedPorts["5000/tcp"] == nil || c.Volumes["/data"] == nil ||
		!strings.Contains(env, "BERTH_DATA_DIR=/data") || !strings.Contains(env, "BERTH_ADDR=0.0.0.0:5000") ||
		strings.Join(c.Entrypoint, " ") != "/berth" || strings.Join(c.Cmd, " ") != "serve" ||
		!strings.Contains(strings.Join(inspected[0].HealthCheck.Test, " "), "/berth healthcheck") {
		t.Fatalf("the image: %s", out)
	}
	if out, err := podman("run", "--rm", "--network", "host", "localhost/berth:test", "version"); err != nil {
		if strings.Contains(string(out), "setrlimit") {
			t.Logf("podman cannot run containers in this sandbox (%s); the image was built and inspected", strings.TrimSpace(string(out)))
			return
		}
		t.Fatalf("podman run: %v\n%s", err, out)
	} else if !strings.HasPrefix(string(out), "berth ") {
		t.Fatalf("podman run … version: %s", out)
	}
}
