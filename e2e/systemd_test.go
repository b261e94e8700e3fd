package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdUnit starts berth as contrib/berth.service does: its
// ExecStart and its Environment lines, with only the paths and the port
// moved into the test's directory. The unit and the binary cannot drift
// apart: a flag the binary dropped, or a variable it no longer reads,
// fails here. It also sends the unit's reload signal.
func TestSystemdUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	unit, err := os.Open("../contrib/berth.service")
	if err != nil {
		t.Fatal(err)
	}
	defer unit.Close()
	var execStart []string
	var env []string
	sc := bufio.NewScanner(unit)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = strings.Fields(v)
		}
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			env = append(env, v)
		}
	}
	if len(execStart) < 2 || execStart[0] != "/usr/local/bin/berth" || len(env) == 0 {
		t.Fatalf("ExecStart %q, Environment %q", execStart, env)
	}
	bin := filepath.Join(t.TempDir(), "berth")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/berth").CombinedOutput(); err != nil {
		t.Fatalf("building berth: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	// The unit's environment, the state directory and port moved here.
	var environ []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "BERTH_DATA_DIR":
			v = dataDir
		case "BERTH_ADDR":
			v = addr
		}
		environ = append(environ, k+"="+v)
	}
	cmd := exec.Command(bin, execStart[1:]...)
	// The public endpoint on a free port too: tests run side by side.
	cmd.Env = append(append(os.Environ(), environ...), "BERTH_LOG_REQUESTS=false", "BERTH_PUBLIC_ADDR=127.0.0.1:0")
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 200 {
			t.Fatalf("berth did not start as the unit starts it: %v\n%s", err, stdout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "credentials.json")); err != nil {
		t.Fatalf("berth did not keep its data in the unit's state directory: %v", err)
	}
	// systemctl reload: SIGHUP, and berth goes on serving.
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(100 * time.Millisecond) // let it handle the signal; not an assertion
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after SIGHUP: %v", err)
	}
	resp.Body.Close()
}
