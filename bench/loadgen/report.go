package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func digestOfBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// goal is one target of the issue, checked against the medians.
type goal struct {
	figure, text string
	met          func(r *report) (bool, string)
}

func ratioAtLeast(figure string, x float64) func(r *report) (bool, string) {
	return func(r *report) (bool, string) {
		q := r.med(figure, "berth") / r.med(figure, "distribution")
		return q >= x, fmt.Sprintf("%.2f×", q)
	}
}

func ratioAtMost(figure string, x float64) func(r *report) (bool, string) {
	return func(r *report) (bool, string) {
		q := r.med(figure, "berth") / r.med(figure, "distribution")
		return q <= x, fmt.Sprintf("%.2f×", q)
	}
}

// diskCeiling is the figure of the durable sequential write ceiling.
const diskCeiling = "Disk: sequential write of 512 MiB with O_DIRECT + fdatasync, where both registries keep data"

func (r *report) goals(sz sizes) []goal {
	sha := ""
	for _, f := range r.order {
		if strings.HasPrefix(f, "sha256, one core") {
			sha = f
		}
	}
	ofSha := func(figure string) func(r *report) (bool, string) {
		return func(r *report) (bool, string) {
			q := r.med(figure, "berth") / r.med(sha, "ceiling")
			return q >= 0.7, fmt.Sprintf("%.0f%% of sha256", q*100)
		}
	}
	chunked := fmt.Sprintf("Blob push, 1 stream, 512 MiB in %d MiB PATCHes", sz.chunk/mib)
	tagsA := fmt.Sprintf("Tags list, %d tags, n=%d: mean page", sz.tagsA, sz.page)
	first := fmt.Sprintf("Tags list, %d tags, n=%d: first page", sz.tagsB, sz.page)
	last := fmt.Sprintf("Tags list, %d tags, n=%d: last page", sz.tagsB, sz.page)
	big := fmt.Sprintf("RSS growth while pushing one %d MiB blob", sz.big/mib)
	ofDisk := func(figure string) func(r *report) (bool, string) {
		return func(r *report) (bool, string) {
			q := r.med(figure, "berth") / r.med(diskCeiling, "ceiling")
			return q >= 0.8, fmt.Sprintf("%.0f%% of the durable write ceiling", q*100)
		}
	}
	var gs []goal
	for _, f := range []string{"Blob push, 1 stream, 64 MiB monolithic", "Blob push, 1 stream, 512 MiB monolithic", chunked} {
		gs = append(gs, goal{f, "≥ 3× the peer", ratioAtLeast(f, 3)}, goal{f, "≥ 70% of one core of sha256", ofSha(f)})
		if strings.Contains(f, "512 MiB") {
			gs = append(gs, goal{f, "≥ 80% of the durable write ceiling (O_DIRECT + fdatasync)", ofDisk(f)})
		}
	}
	gs = append(gs,
		goal{"Blob push, 1 stream, 1 MiB monolithic", "≥ 4× the peer", ratioAtLeast("Blob push, 1 stream, 1 MiB monolithic", 4)},
		goal{"Blob pull, 1 stream(s), 512 MiB", "≥ 1.2× the peer", ratioAtLeast("Blob pull, 1 stream(s), 512 MiB", 1.2)},
		goal{"Blob pull, first after its push, 1 MiB", "≥ 1.0× the peer", ratioAtLeast("Blob pull, first after its push, 1 MiB", 1)},
		goal{"Blob pull, first after its push, 64 MiB", "≥ 1.0× the peer", ratioAtLeast("Blob pull, first after its push, 64 MiB", 1)},
		goal{"Blob pull, first after its push, 512 MiB", "≥ 1.0× the peer", ratioAtLeast("Blob pull, first after its push, 512 MiB", 1)},
		goal{"Blob pull, 1 stream(s), 1 MiB", "≥ 3× the peer", ratioAtLeast("Blob pull, 1 stream(s), 1 MiB", 3)},
		goal{"Manifest PUT, c=1", "≥ 3× the peer", ratioAtLeast("Manifest PUT, c=1", 3)},
		goal{"Manifest PUT, c=32", "≥ 5× the peer", ratioAtLeast("Manifest PUT, c=32", 5)},
		goal{"Manifest GET by tag, c=32", "≥ 10× the peer", ratioAtLeast("Manifest GET by tag, c=32", 10)},
		goal{tagsA, "≤ ¼ of the peer's time", ratioAtMost(tagsA, 0.25)},
		goal{first, "≤ ¼ of the peer's time", ratioAtMost(first, 0.25)},
		goal{last, "≤ ¼ of the peer's time", ratioAtMost(last, 0.25)},
		goal{last, "≤ 1.5× berth's first page", func(r *report) (bool, string) {
			q := r.med(last, "berth") / r.med(first, "berth")
			return q <= 1.5, fmt.Sprintf("%.2f× the first page", q)
		}},
		goal{"Peak RSS over the run", "≤ ½ the peer's", ratioAtMost("Peak RSS over the run", 0.5)},
		goal{big, "< 32 MiB", func(r *report) (bool, string) {
			v := r.med(big, "berth")
			return v < 32, fmt.Sprintf("%.1f MiB", v)
		}},
	)
	return gs
}

func (r *report) write(o options, sz sizes) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# berth benchmark results\n\n")
	if o.quick {
		fmt.Fprintf(&b, "**Quick smoke run (small sizes, one round): proves the benchmark works; the figures mean nothing.**\n\n")
	}
	fmt.Fprintf(&b, "Run %s with `bench/run` on %s. %d alternating round(s) per figure; median, then min–max.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine(), o.rounds)
	fmt.Fprintf(&b, "berth: embedded default (SQLite WAL synchronous=FULL, filesystem blobs, every write fsynced before it is acknowledged), Basic auth on. ")
	fmt.Fprintf(&b, "Peer: CNCF Distribution %s (`%s`) with filesystem storage, no auth, no fsync. ", o.peerVersion, o.peer)
	fmt.Fprintf(&b, "Both on loopback, the load generator on the same 2-core machine; the machine is shared and noisy. ")
	fmt.Fprintf(&b, "berth writes uploads around the page cache (O_DIRECT) and then reads each committed blob into it in the background, the peer writes through it: each pushed blob is pulled once right after its push (\"first after its push\"), and the pull figures then compare the two serving paths with the blob cached for both.\n\n")
	fmt.Fprintf(&b, "## Targets\n\n| figure | target | result | met |\n|---|---|---|---|\n")
	metAll := true
	for _, g := range r.goals(sz) {
		ok, got := g.met(r)
		mark := "yes"
		if !ok {
			mark, metAll = "**no**", false
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", g.figure, g.text, got, mark)
	}
	fmt.Fprintf(&b, "\nAll targets met: %v.\n\n", metAll)
	if bounds := r.bounds(sz); bounds != "" {
		fmt.Fprintf(&b, "## What bounds the targets not met\n\nFrom the machine ceilings and CPU shares measured in this run (the figures below).\n\n%s\n", bounds)
	}
	fmt.Fprintf(&b, "## Figures\n\n| figure | unit | berth | distribution | berth/peer |\n|---|---|---|---|---|\n")
	for _, f := range r.order {
		d := r.data[f]
		if c, ok := d["ceiling"]; ok {
			fmt.Fprintf(&b, "| %s | %s | %s (%s) machine ceiling | | |\n", f, r.units[f], num(median(c)), span(c))
			continue
		}
		row := fmt.Sprintf("| %s | %s | %s (%s) |", f, r.units[f], num(median(d["berth"])), span(d["berth"]))
		if p, ok := d["distribution"]; ok {
			row += fmt.Sprintf(" %s (%s) | %.2f |", num(median(p)), span(p), median(d["berth"])/median(p))
		} else {
			row += " n/a (no ECR API) | |"
		}
		fmt.Fprintln(&b, row)
	}
	fmt.Fprintf(&b, "\nReproduce with `bench/run` (6 to 8 minutes, the last one or two removing the peer's 400,000 tag files; `bench/run --quick` is the smoke test CI runs).\n")
	if err := os.WriteFile(o.out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	return nil
}

// summary is a plain listing of the medians, for -only runs.
func (r *report) summary() string {
	var b strings.Builder
	for _, f := range r.order {
		fmt.Fprintf(&b, "%-70s %10s berth %s", f, r.units[f], num(r.med(f, "berth")))
		if _, ok := r.data[f]["distribution"]; ok {
			fmt.Fprintf(&b, "  distribution %s  ratio %.2f", num(r.med(f, "distribution")), r.med(f, "berth")/r.med(f, "distribution"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// bounds explains each figure with a target not met by what this run
// measured of the machine: a push cannot outrun hashing its bytes on one
// core or writing them durably, a pull cannot outrun a bare Go server
// sending the same bytes, and a request rate is bound by the CPU that the
// server and the load generator share.
func (r *report) bounds(sz sizes) string {
	var b strings.Builder
	seen := map[string]bool{}
	sha := ""
	for _, f := range r.order {
		if strings.HasPrefix(f, "sha256, one core") {
			sha = f
		}
	}
	ceiling := func(f string) float64 { return r.med(f, "ceiling") }
	for _, g := range r.goals(sz) {
		if ok, _ := g.met(r); ok || seen[g.figure] || len(r.data[g.figure]["berth"]) == 0 {
			continue
		}
		seen[g.figure] = true
		f, v := g.figure, r.med(g.figure, "berth")
		size := ""
		for _, s := range []string{"1 MiB", "64 MiB", "512 MiB"} {
			if strings.Contains(f, " "+s) {
				size = s
			}
		}
		switch {
		case strings.HasPrefix(f, "Blob push") && sha != "":
			hash, disk, put := ceiling(sha), ceiling(diskCeiling), ceiling("Bare Go HTTP PUT, "+size)
			limit := min(hash, disk)
			if put > 0 {
				limit = min(limit, put)
			}
			line := fmt.Sprintf("- **%s**: berth %s MB/s, the peer %s MB/s. Every byte is received, hashed on one core (sha256: %s MB/s here) and written durably "+
				"(the durable write ceiling: %s MB/s; a bare Go HTTP PUT of %s: %s MB/s): the lowest of these, %s MB/s, bounds a push, and berth reaches %.0f%% of it",
				f, num(v), num(r.med(f, "distribution")), num(hash), num(disk), size, num(put), num(limit), 100*v/limit)
			if mb := sizeMiB(size); mb > 0 && mb < 512 {
				// Small pushes are bound by their round trips and fsyncs, not by bandwidth.
				line += fmt.Sprintf(". At this rate one push of %s takes %.1f ms: two requests (POST, then PUT) and the fsyncs of the blob file, its directory and "+
					"the metadata commit, each a wait for the disk that no bandwidth ceiling shows", size, float64(mb)*1.048576/v*1000)
			} else {
				line += ". Receiving, hashing and writing run as a pipeline on the same two cores the load generator sends from"
			}
			b.WriteString(line + ".\n")
		case strings.HasPrefix(f, "Blob pull"):
			streams := "1"
			if i := strings.Index(f, " stream(s)"); i > 0 {
				streams = f[strings.LastIndex(f[:i], " ")+1 : i]
			}
			bare := ceiling(fmt.Sprintf("Bare Go HTTP GET, %s stream(s), %s", streams, size))
			line := fmt.Sprintf("- **%s**: berth %s MB/s, the peer %s MB/s: %.0f%% and %.0f%% of a bare Go HTTP server sending the same bytes from memory "+
				"(%s MB/s; the load generator reads on the same two cores), so neither is bound by the network path; what differs is each one's serving path "+
				"(berth: lookup, open, sendfile from the page cache)",
				f, num(v), num(r.med(f, "distribution")), 100*v/bare, 100*r.med(f, "distribution")/bare, num(bare))
			bs, ps := r.data[f]["berth"], r.data[f]["distribution"]
			if len(ps) > 0 && slices.Max(bs) >= slices.Min(ps) && slices.Max(ps) >= slices.Min(bs) {
				line += ", and the rounds' ranges overlap (berth " + span(bs) + ", the peer " + span(ps) + ")"
			}
			b.WriteString(line + ".\n")
		case strings.HasPrefix(f, "Manifest"):
			server := r.med(f+": cores used by the server", "berth")
			load := r.med(f+": cores used by the load generator", "berth")
			line := fmt.Sprintf("- **%s**: berth %s req/s against the peer's %s", f, num(v), num(r.med(f, "distribution")))
			if server > 0 {
				per, perLoad := server/v*1e6, load/v*1e6
				line += fmt.Sprintf(". While it ran, berth used %.2f cores and the Go load generator %.2f of the 2: %.0f µs of berth's CPU and %.0f µs of the load generator's per request",
					server, load, per, perLoad)
				if strings.HasPrefix(f, "Manifest PUT") && server < 1.25 && server+load < 1.8 {
					line += fmt.Sprintf(". The cores are not all used: berth is held near one. Its writes go through SQLite's one writer connection, which runs the "+
						"transactions of each group commit in turn on one core (the commits share their fsyncs); at %.0f µs a PUT, one core gives about %s req/s",
						per, num(1e6/per))
				} else {
					line += fmt.Sprintf(", so this machine with this load generator tops out near %s req/s (2 cores / %.0f µs)", num(2e6/(per+perLoad)), per+perLoad)
				}
			}
			if w := r.med(strings.TrimSuffix(f, ", c=32")+", c=32 (wrk)", "berth"); w > 0 {
				line += fmt.Sprintf("; with wrk as the load generator berth answers %s req/s (%.2f× the peer's wrk figure)", num(w), w/r.med(strings.TrimSuffix(f, ", c=32")+", c=32 (wrk)", "distribution"))
			}
			b.WriteString(line + ".\n")
		}
	}
	return b.String()
}

// sizeMiB reads "64 MiB" as 64.
func sizeMiB(size string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(size, " MiB"))
	return n
}
