package main

import (
	"strings"
	"testing"
)

// TestBounds: each target not met gets the line of its bound, computed
// from the ceilings and CPU shares of the same run; a met one gets none.
func TestBounds(t *testing.T) {
	sz := sizes{chunk: 8 * mib, tagsA: 10, tagsB: 20, page: 5, big: 64 * mib}
	r := &report{}
	add := func(f, unit string, berth, peer float64) {
		r.add(f, unit, "berth", berth)
		r.add(f, unit, "distribution", peer)
	}
	r.add("sha256, one core, Go go1.26.8", "MB/s", "ceiling", 1000)
	r.add(diskCeiling, "MB/s", "ceiling", 500)
	r.add("Bare Go HTTP PUT, 512 MiB", "MB/s", "ceiling", 2000)
	r.add("Bare Go HTTP GET, 1 stream(s), 512 MiB", "MB/s", "ceiling", 2000)
	add("Blob push, 1 stream, 512 MiB monolithic", "MB/s", 300, 100) // 3×: met; 60% of the disk: not
	add("Blob pull, 1 stream(s), 512 MiB", "MB/s", 1000, 1600)       // 0.63×: not met
	add("Manifest PUT, c=32", "req/s", 1000, 400)                    // 2.5×: not met
	add("Manifest PUT, c=32: cores used by the server", "cores", 1.2, 0.5)
	add("Manifest PUT, c=32: cores used by the load generator", "cores", 0.6, 0.3)
	add("Manifest GET by tag, c=32", "req/s", 20000, 1000) // 20×: met
	got := r.bounds(sz)
	for _, want := range []string{
		"**Blob push, 1 stream, 512 MiB monolithic**: berth 300 MB/s", "the lowest of these, 500 MB/s, bounds a push, and berth reaches 60% of it",
		"**Blob pull, 1 stream(s), 512 MiB**: berth 1000 MB/s, the peer 1600 MB/s: 50% and 80% of a bare Go HTTP server",
		"**Manifest PUT, c=32**: berth 1000 req/s", "berth used 1.20 cores and the Go load generator 0.60", "1200 µs of berth's CPU and 600 µs",
		"berth is held near one", "at 1200 µs a PUT, one core gives about 833 req/s",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Manifest GET") {
		t.Errorf("a bound for a target met:\n%s", got)
	}
}
