package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadConfig: SIGHUP makes a running berth read its configuration
// file again: a setting that can change live (the public endpoint's
// anonymous pull rate) applies to the next request, and one that cannot
// (the region) is logged as waiting for a restart, its running value kept.
func TestReloadConfig(t *testing.T) {
	if scaleOut() {
		t.Skip("the reload is the same on both backends; run on the embedded default")
	}
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "berth.json")
	write := func(c map[string]any) {
		b, _ := json.Marshal(c)
		if err := os.WriteFile(cfg, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := map[string]any{"addr": "127.0.0.1:0", "publicAddr": "127.0.0.1:0", "dataDir": filepath.Join(dir, "data"), "region": "us-east-1", "logRequests": false}
	write(conf)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	stderr, _ := cmd.StderrPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
	}()
	// The banner names the public endpoint: http://host:port on its third line.
	var public, alias string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && public == "" {
		if i := strings.Index(sc.Text(), "public registry endpoint (ECR Public) at "); i >= 0 {
			f := strings.Fields(sc.Text()[i+len("public registry endpoint (ECR Public) at "):])
			public, alias = strings.TrimSuffix(f[0], ","), strings.TrimSuffix(f[2], ":")
		}
	}
	go io.Copy(io.Discard, stdout)
	if public == "" {
		t.Fatal("the banner names no public endpoint")
	}
	pull := func() int {
		resp, err := http.Get(public + "/token/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	v2 := func() int {
		resp, err := http.Get(public + "/token/")
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ := http.NewRequest(http.MethodGet, public+"/v2/"+alias+"/app/tags/list", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	pull()
	for i := 0; i < 3; i++ {
		if s := v2(); s == http.StatusTooManyRequests {
			t.Fatalf("429 before any rate was set")
		}
	}
	conf["publicPullRate"] = 0.001
	conf["region"] = "eu-west-1"
	write(conf)
	cmd.Process.Signal(syscall.SIGHUP)
	var applied, restart string
	deadline := time.After(time.Minute)
	for applied == "" || restart == "" {
		select {
		case l := <-logs:
			if strings.Contains(l, "reload: settings applied") {
				applied = l
			}
			if strings.Contains(l, "take effect when berth restarts") {
				restart = l
			}
		case <-deadline:
			t.Fatalf("no reload log lines: applied %q, restart %q", applied, restart)
		}
	}
	if !strings.Contains(applied, "public-pull-rate") || !strings.Contains(restart, "region") {
		t.Errorf("reload logs:\n%s\n%s", applied, restart)
	}
	got := []int{v2(), v2(), v2()}
	if got[1] != http.StatusTooManyRequests && got[2] != http.StatusTooManyRequests {
		t.Errorf("after the reload, anonymous requests answered %v: want 429 past the first", got)
	}
}
