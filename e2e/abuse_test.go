package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// rssBound is what berth may hold, at its peak, through the abuse below
// with the default limits (docs/security.md).
const rssBound = 256 << 20

// TestAbuse runs berth as its own process and, while real clients push and
// pull, opens hundreds of abusive connections: megabyte headers, headers
// sent a byte a second, bodies that stall, keep-alive connections left
// idle, endless wrong passwords. Every abusive connection must be closed
// by berth, the real clients must all succeed, and berth's peak RSS must
// stay under rssBound. The limits' windows are shortened (not their
// sizes) so the test takes seconds; the margins are generous: this is not
// a benchmark.
func TestAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := filepath.Join(t.TempDir(), "berth")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/berth").CombinedOutput(); err != nil {
		t.Fatalf("building berth: %v\n%s", err, out)
	}
	dir := t.TempDir()
	meta, blobs := backends(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	const key, secret = "BKIAABUSETEST0000000", "abuse-secret"
	cmd := exec.Command(bin, "serve", "--addr", addr, "--public-addr=", "--data-dir", dir, "--metadata", meta, "--blobs", blobs,
		"--create-on-push", "--log-requests=false", "--header-timeout", "2s", "--idle-timeout", "2s", "--stall-timeout", "2s")
	cmd.Env = append(os.Environ(), "BERTH_ACCESS_KEY_ID="+key, "BERTH_SECRET_ACCESS_KEY="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatalf("berth did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rssBefore := statusBytes(t, cmd.Process.Pid, "VmRSS")

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// closed waits for berth to close c: io.EOF or a reset, never the
	// generous deadline that keeps a broken berth from hanging the test.
	closed := func(what string, c net.Conn) {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			fail("%s: still open after 60 s", what)
		}
		c.Close()
	}
	abuse := func(what string, n int, fn func(c net.Conn) error) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					fail("%s: dial: %v", what, err)
					return
				}
				if err := fn(c); err != nil && !isReset(err) {
					fail("%s: %v", what, err)
				}
				closed(what, c)
			}()
		}
	}
	start := time.Now()
	big := "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1_040_000) // never terminated
	abuse("a 1 MB header", 300, func(c net.Conn) error { _, err := io.WriteString(c, big); return err })
	abuse("a header a byte a second", 100, func(c net.Conn) error {
		for _, b := range []byte("GET /v2/ HTTP/1.1\r\nHost: x\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
		return nil
	})
	abuse("a body that stalls", 100, func(c net.Conn) error {
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.ListImages\r\n"+
			"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1000000\r\n\r\n{\"repositoryName\":")
		return err
	})
	abuse("an idle keep-alive", 300, func(c net.Conn) error {
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	wg.Add(1)
	go func() { // wrong passwords until refused
		defer wg.Done()
		refused := false
		for i := 0; i < 200 && !refused; i++ {
			req, _ := http.NewRequest("GET", url+"/v2/", nil)
			req.SetBasicAuth("AWS", "guess-"+strconv.Itoa(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fail("wrong passwords: %v", err)
				return
			}
			resp.Body.Close()
			refused = resp.StatusCode == http.StatusTooManyRequests
		}
		if !refused {
			fail("200 wrong passwords were never refused")
		}
	}()
	// Meanwhile, real clients push and pull.
	opts := []remote.Option{remote.WithAuth(&authn.Basic{Username: key, Password: secret})}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				ref, _ := name.ParseReference(fmt.Sprintf("%s/abuse/app%d:v%d", addr, i, j), name.Insecure)
				img, _ := random.Image(1<<20, 2)
				if err := remote.Write(ref, img, opts...); err != nil {
					fail("push %s: %v", ref, err)
					continue
				}
				if err := pullAll(ref, opts); err != nil {
					fail("pull %s: %v", ref, err)
				}
			}
		}()
	}
	wg.Wait()
	peak := statusBytes(t, cmd.Process.Pid, "VmHWM")
	t.Logf("800 abusive connections and 200 wrong passwords, all closed or refused in %s; berth's RSS %d MiB before, peak %d MiB (bound %d MiB)",
		time.Since(start).Round(time.Second), rssBefore>>20, peak>>20, rssBound>>20)
	for _, f := range failures {
		t.Error(f)
	}
	if peak > rssBound {
		t.Errorf("berth's peak RSS %d MiB is over the bound of %d MiB", peak>>20, rssBound>>20)
	}
}

// statusBytes reads a field of /proc/<pid>/status, in bytes.
func statusBytes(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// pullAll pulls an image and reads every layer.
func pullAll(ref name.Reference, opts []remote.Option) error {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
