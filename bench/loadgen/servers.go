package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// target is one registry under test, running as its own process.
type target struct {
	name     string // "berth" or "distribution"
	url      string
	user     string // Basic auth; "" for none
	password string
	bearer   string // a Bearer token instead, when set
	cmd      *exec.Cmd
	dataDir  string
	peakRSS  int64 // bytes, the largest VmHWM seen
	tags     []string
	// replicas are more processes serving t's stores: requests alternate
	// among t's URL and theirs, as behind a load balancer.
	replicas []*target
	turn     atomic.Uint64
	// closesConns: the server closes each connection after one answer.
	closesConns bool
	// direct serves t's stores with blob downloads through the registry
	// (no redirect to presigned URLs), for the scale-out pull figures.
	direct *target
}

// base is the URL of the process that takes the next request.
func (t *target) base() string {
	if len(t.replicas) == 0 {
		return t.url
	}
	k := int(t.turn.Add(1) % uint64(len(t.replicas)+1))
	if k == 0 {
		return t.url
	}
	return t.replicas[k-1].url
}

// processes are t's own process and its replicas'.
func (t *target) processes() []*target { return append([]*target{t}, t.replicas...) }

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const benchKey, benchSecret = "BKIABENCHMARK0000000", "bench-secret"

// startBerth runs berth on its embedded default with full durability.
func startBerth(bin, dir string) (*target, error) { return startBerthAs("berth", bin, dir) }

// startBerthAs runs berth as the named target with more serve flags (the
// scale-out stores), with full durability.
func startBerthAs(name, bin, dir string, args ...string) (*target, error) {
	addr := freePort()
	// No public endpoint unless asked: several berths run side by side.
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data-dir", dir, "--create-on-push", "--log-requests=false", "--public-addr="}, args...)...)
	cmd.Env = append(os.Environ(), "BERTH_ACCESS_KEY_ID="+benchKey, "BERTH_SECRET_ACCESS_KEY="+benchSecret)
	cmd.Stdout = nil
	cmd.Stderr = &tailBuffer{} // what it says if it does not start
	t := &target{name: name, url: "http://" + addr, user: benchKey, password: benchSecret, cmd: cmd, dataDir: dir}
	return t, t.start("/healthz")
}

// startDistribution runs CNCF Distribution (Debian's docker-registry)
// with filesystem storage and no auth, logging only errors.
func startDistribution(bin, dir string) (*target, error) {
	os.MkdirAll(filepath.Join(dir, "root"), 0o755)
	return startDistributionWith(bin, dir, fmt.Sprintf(`  filesystem:
    rootdirectory: %s
`, filepath.Join(dir, "root")))
}

// startDistributionWith runs Distribution with the given storage driver
// section (YAML, indented two spaces), no auth, logging only errors.
func startDistributionWith(bin, dir, driver string) (*target, error) {
	addr := freePort()
	cfg := filepath.Join(dir, "config.yml")
	os.MkdirAll(dir, 0o755)
	conf := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
%s  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: %s
`, driver, addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", cfg)
	t := &target{name: "distribution", url: "http://" + addr, cmd: cmd, dataDir: filepath.Join(dir, "root")}
	return t, t.start("/v2/")
}

func (t *target) start(probe string) error {
	if err := t.cmd.Start(); err != nil {
		return err
	}
	for i := 0; i < 200; i++ {
		resp, err := http.Get(t.url + probe)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.stop()
	if tb, ok := t.cmd.Stderr.(*tailBuffer); ok && tb.Len() > 0 {
		return fmt.Errorf("%s did not start: %s", t.name, strings.TrimSpace(tb.String()))
	}
	return fmt.Errorf("%s did not start", t.name)
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (tb *tailBuffer) Write(p []byte) (int, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.b = append(tb.b, p...)
	if len(tb.b) > 4096 {
		tb.b = tb.b[len(tb.b)-4096:]
	}
	return len(p), nil
}

func (tb *tailBuffer) Len() int { tb.mu.Lock(); defer tb.mu.Unlock(); return len(tb.b) }

func (tb *tailBuffer) String() string { tb.mu.Lock(); defer tb.mu.Unlock(); return string(tb.b) }

func (t *target) stop() {
	for _, r := range t.replicas {
		r.stop()
	}
	if t.direct != nil {
		t.direct.stop()
	}
	t.samplePeak()
	t.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// status reads a field of /proc/<pid>/status in bytes.
func (t *target) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (t *target) samplePeak() {
	if hwm := t.status("VmHWM"); hwm > t.peakRSS {
		t.peakRSS = hwm
	}
}

// resetPeak makes VmHWM start again from the current RSS.
func (t *target) resetPeak() {
	t.samplePeak()
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", t.cmd.Process.Pid), []byte("5"), 0o200)
}
