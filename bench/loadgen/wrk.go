package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// wrk (Debian's package) as a second, neutral load generator for request
// rates: written in C with an event loop, it costs the 2 shared cores far
// less than the Go load generator does, so it shows more of what a server
// can answer. bench/run installs it; without it these figures are left out.

var (
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkBad  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
)

// wrkFigure runs wrk against one URL of t with c connections for d and
// returns its requests per second; any answer that is not a success is
// an error.
func wrkFigure(wrk string, t *target, method, path string, c int, d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "berth-wrk")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "method.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf("wrk.method = %q\n", method)), 0o644); err != nil {
		return 0, err
	}
	args := []string{"-t2", fmt.Sprintf("-c%d", c), fmt.Sprintf("-d%ds", max(1, int(d.Seconds()))), "-s", script,
		"-H", "Accept: " + mtManifest}
	switch {
	case t.bearer != "":
		args = append(args, "-H", "Authorization: Bearer "+t.bearer)
	case t.user != "":
		args = append(args, "-H", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(t.user+":"+t.password)))
	}
	out, err := exec.Command(wrk, append(args, t.url+path)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return wrkRateOf(out)
}

// wrkRateOf reads wrk's rate from its output; any answer that was not a
// success, or no request at all, is an error.
func wrkRateOf(out []byte) (float64, error) {
	if m := wrkBad.FindSubmatch(out); m != nil {
		return 0, fmt.Errorf("wrk: %s answers were not a success:\n%s", m[1], out)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no rate:\n%s", out)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err == nil && v == 0 {
		err = fmt.Errorf("wrk completed no request:\n%s", out)
	}
	return v, err
}

// wrkFigures adds the manifest GET rates by tag and by digest, c=32,
// measured with wrk, and the HEAD rates measured with the Go load
// generator: wrk reads a body of the answer's Content-Length after a
// HEAD too, and so completes none.
func wrkFigures(r *report, wrk string, t *target, repo, tag string, d time.Duration, heads int) error {
	resp, err := expect(t.request("HEAD", "/v2/"+repo+"/manifests/"+tag, nil, -1, "Accept", mtManifest))(200, "head manifest")
	if err != nil {
		return err
	}
	drain(resp)
	digest := resp.Header.Get("Docker-Content-Digest")
	for _, ref := range []struct{ by, ref string }{{"tag", tag}, {"digest", digest}} {
		path := "/v2/" + repo + "/manifests/" + ref.ref
		v, err := wrkFigure(wrk, t, "GET", path, 32, d)
		if err != nil {
			return err
		}
		r.add(fmt.Sprintf("Manifest GET by %s, c=32 (wrk)", ref.by), "req/s", t.name, v)
		v, _, err = load(heads, 32, func(int) error {
			resp, err := expect(t.request("HEAD", path, nil, -1, "Accept", mtManifest))(200, "head manifest")
			if err == nil {
				drain(resp)
			}
			return err
		})
		if err != nil {
			return err
		}
		r.add(fmt.Sprintf("Manifest HEAD by %s, c=32", ref.by), "req/s", t.name, v)
	}
	return nil
}
