package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Replayed ECR calls: the SDK signs each call once, wrk sends the signed
// requests again and again. A SigV4 signature holds for 15 minutes and
// neither ECR nor berth refuses a repeat, so each answer is a real,
// verified call; what the load generator no longer pays is the SDK's own
// cost per call, which on two shared cores is more than berth's.

// captured is an SDK HTTP client that keeps the signed request instead
// of sending it.
type captured struct{ reqs []signedCall }

type signedCall struct {
	headers map[string]string
	body    string
}

var errCaptured = errors.New("captured")

func (c *captured) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	h := map[string]string{}
	for k, v := range r.Header {
		if k != "Content-Length" { // wrk writes its own
			h[k] = strings.Join(v, ",")
		}
	}
	c.reqs = append(c.reqs, signedCall{h, string(body)})
	return nil, errCaptured
}

// signBatchGets signs n BatchGetImage calls for the tags of repo on t.
func signBatchGets(t *target, repo string, tags []string) ([]signedCall, error) {
	c := &captured{}
	client := ecr.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(t.user, t.password, ""),
		HTTPClient:  c, Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *ecr.Options) { o.BaseEndpoint = aws.String(t.url) })
	for _, tag := range tags {
		_, err := client.BatchGetImage(context.Background(), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tag)}}})
		if !errors.Is(err, errCaptured) {
			return nil, fmt.Errorf("signing: %v", err)
		}
	}
	// Check one as wrk will send it: a refusal here says why.
	req, err := http.NewRequest("POST", t.url+"/", strings.NewReader(c.reqs[0].body))
	if err != nil {
		return nil, err
	}
	for k, v := range c.reqs[0].headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"imageManifest"`) || strings.Contains(string(b), `"failureCode"`) {
		return nil, fmt.Errorf("a signed call sent again: status %d: %s", resp.StatusCode, b)
	}
	return c.reqs, nil
}

// wrkReplay runs wrk with c connections for d, each request one of calls
// in turn, and returns the rate; any answer that is not a success fails it.
func wrkReplay(wrk string, t *target, calls []signedCall, c int, d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "berth-wrk")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var b strings.Builder
	b.WriteString("local calls = {\n")
	for _, call := range calls {
		keys := make([]string, 0, len(call.headers))
		for k := range call.headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// The Host the SDK signed: the calls are formatted when the script
		// loads, before wrk knows its own.
		b.WriteString("  wrk.format(\"POST\", \"/\", {[\"Host\"] = " + strconv.Quote(strings.TrimPrefix(t.url, "http://")) + ", ")
		for _, k := range keys {
			fmt.Fprintf(&b, "[%s] = %s, ", strconv.Quote(k), strconv.Quote(call.headers[k]))
		}
		fmt.Fprintf(&b, "}, %s),\n", strconv.Quote(call.body))
	}
	b.WriteString("}\nlocal i = 0\nfunction request()\n  i = i % #calls + 1\n  return calls[i]\nend\n")
	script := filepath.Join(dir, "replay.lua")
	if err := os.WriteFile(script, []byte(b.String()), 0o644); err != nil {
		return 0, err
	}
	out, err := exec.Command(wrk, "-t2", fmt.Sprintf("-c%d", c), fmt.Sprintf("-d%ds", max(1, int(d.Seconds()))), "-s", script, t.url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return wrkRateOf(out)
}

// cpuSeconds is the CPU time a process has used, user and system.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ is 100 on Linux
}

// loadCPU is the CPU time the load generator has used: this process and
// the children it has waited for (wrk; the servers end only at the end).
func loadCPU() float64 {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano()).Seconds()
}

// cores runs fn and returns the cores t's server process and the load
// generator used, on average, while it ran.
func cores(t *target, fn func() error) (server, load float64, err error) {
	s0, l0, w0 := cpuSeconds(t.cmd.Process.Pid), loadCPU(), time.Now()
	err = fn()
	wall := time.Since(w0).Seconds()
	return (cpuSeconds(t.cmd.Process.Pid) - s0) / wall, (loadCPU() - l0) / wall, err
}

// cpuShares records, for each figure run, the cores the server and the
// load generator used while it ran.
type cpuShares map[string]map[string][][2]float64

// measure wraps a figure's run to record its cores.
func (c cpuShares) measure(f pairFigure) pairFigure {
	run := f.run
	f.run = func(t *target) (float64, error) {
		var v float64
		server, load, err := cores(t, func() (err error) { v, err = run(t); return err })
		if c[f.name] == nil {
			c[f.name] = map[string][][2]float64{}
		}
		c[f.name][t.name] = append(c[f.name][t.name], [2]float64{server, load})
		return v, err
	}
	return f
}

// median returns the median server and load generator cores of a figure
// on a target.
func (c cpuShares) median(figure, target string) (server, load float64) {
	var s, l []float64
	for _, v := range c[figure][target] {
		s, l = append(s, v[0]), append(l, v[1])
	}
	return median(s), median(l)
}

// cores runs fn, a figure on t, and when keep is set records the cores
// t's server and the load generator used while it ran, as two figures
// of unit "cores" named after it.
func (r *report) cores(figure string, t *target, keep bool, fn func() error) error {
	server, load, err := cores(t, fn)
	if err != nil || !keep {
		return err
	}
	r.add(figure+": cores used by the server", "cores", t.name, server)
	r.add(figure+": cores used by the load generator", "cores", t.name, load)
	return nil
}
