// Command loadgen is berth's benchmark: it runs berth (embedded default,
// full durability) and CNCF Distribution (v3, built by bench/run;
// filesystem storage) side by side, measures each figure on both in
// alternating rounds, and writes the medians, ranges and ratios to a
// Markdown report. bench/run builds everything and calls it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	berth, peer, work, out string
	peerVersion            string
	rounds                 int
	quick                  bool
	only                   string
	// The scale-out run (runScaleOut).
	scaleout, embedded  bool
	before, beforeLabel string
	peerS3              string
	postgres, s3        string
}

// sizes of the run; quick shrinks them for the CI smoke test.
type sizes struct {
	small, medium, large             int // the 1 MiB, 64 MiB and 512 MiB blobs
	smallCount, medCount             int
	chunk                            int
	manifestsC1, manifests32, gets32 int
	tagsA, tagsB, page               int
	big                              int64 // the 2 GiB blob
}

func main() {
	var o options
	flag.StringVar(&o.berth, "berth", "", "berth binary")
	flag.StringVar(&o.peer, "peer", "/usr/bin/docker-registry", "CNCF Distribution binary")
	flag.StringVar(&o.peerVersion, "peer-version", "", "the peer's version, for the report")
	flag.StringVar(&o.work, "work", "", "working directory for both registries' data (default: a temporary one)")
	flag.StringVar(&o.out, "out", "bench/RESULTS.md", "report to write")
	flag.IntVar(&o.rounds, "rounds", 3, "alternating rounds per figure")
	flag.BoolVar(&o.quick, "quick", false, "small sizes and one round: a smoke test of the benchmark, not a measurement")
	flag.StringVar(&o.only, "only", "", "run one group of figures (blobs, pushes, manifests), for profiling; no report")
	flag.BoolVar(&o.scaleout, "scaleout", false, "manifest figures on PostgreSQL + S3 (bench/RESULTS-scaleout.md) instead")
	flag.BoolVar(&o.embedded, "embedded", false, "with -scaleout: berth on its embedded default instead (no peer), to compare builds")
	flag.StringVar(&o.before, "before", "", "with -scaleout: an earlier berth binary to run side by side")
	flag.StringVar(&o.beforeLabel, "before-label", "", "with -before: what the report calls that binary (default: its path)")
	flag.StringVar(&o.peerS3, "peer-s3", "", "with -scaleout: a Distribution binary to run on the same S3")
	flag.StringVar(&o.postgres, "postgres", os.Getenv("BERTH_TEST_POSTGRES"), "with -scaleout: a PostgreSQL server URL (each berth gets a database of its own)")
	flag.StringVar(&o.s3, "s3", os.Getenv("BERTH_TEST_S3"), "with -scaleout: an s3:// URL as berth's --blobs takes (each registry gets a prefix of its own)")
	var gc gcOptions
	var gcMode bool
	flag.BoolVar(&gcMode, "gc", false, "the garbage collection figures instead (bench/RESULTS-gc.md): berth in this process")
	flag.IntVar(&gc.blobs, "gc-blobs", 100000, "with -gc: blobs stored before the sweep")
	flag.DurationVar(&gc.window, "gc-window", 20*time.Second, "with -gc: how long the baseline pushes run")
	var az authzOptions
	var authzMode bool
	flag.BoolVar(&authzMode, "authz", false, "the authorization figures instead (bench/RESULTS-authz.md): a berth with 1,000 users against one with its root alone")
	flag.IntVar(&az.users, "authz-users", 1000, "with -authz: users (and managed policies) in the store")
	var publicMode bool
	flag.BoolVar(&publicMode, "public", false, "the public endpoint figures instead (bench/RESULTS-public.md): anonymous pulls from the public endpoint against token pulls from the private one")
	var mo motoOptions
	var motoMode bool
	flag.BoolVar(&motoMode, "moto", false, "the ECR API figures side by side with moto instead (bench/RESULTS-moto.md)")
	flag.StringVar(&mo.moto, "moto-server", "moto_server", "with -moto: the moto_server command")
	var consoleMode bool
	flag.BoolVar(&consoleMode, "console", false, "the console's page times instead (bench/RESULTS-console.md): 10,000 repositories, 10,000 images in one")
	flag.Parse()
	if consoleMode {
		co := consoleOptions{berth: o.berth, out: o.out, repos: 10000, images: 10000, samples: 50, pageSz: 50}
		if o.out == "bench/RESULTS.md" {
			co.out = "bench/RESULTS-console.md"
		}
		if o.quick {
			co.repos, co.images, co.samples, co.out = 120, 120, 3, ""
		}
		if err := runConsole(co); err != nil {
			log.Fatal(err)
		}
		return
	}
	if motoMode {
		mo.berth, mo.out, mo.rounds = o.berth, o.out, 5
		mo.putsC1, mo.puts32, mo.gets32, mo.images, mo.walks, mo.page, mo.layers = 600, 1000, 2000, 1000, 64, 100, 100
		mo.wrkTime = 5 * time.Second
		if o.out == "bench/RESULTS.md" {
			mo.out = "bench/RESULTS-moto.md"
		}
		if o.quick {
			mo.rounds, mo.out = 1, ""
			mo.putsC1, mo.puts32, mo.gets32, mo.images, mo.walks, mo.page, mo.layers = 20, 64, 100, 150, 8, 50, 5
			mo.wrkTime = time.Second
		}
		if err := runMoto(mo); err != nil {
			log.Fatal(err)
		}
		return
	}
	if publicMode {
		po := publicOptions{berth: o.berth, out: o.out, rounds: 7, gets: 30000}
		if o.out == "bench/RESULTS.md" {
			po.out = "bench/RESULTS-public.md"
		}
		if o.quick {
			po.rounds, po.gets, po.out = 1, 200, ""
		}
		if err := runPublic(po); err != nil {
			log.Fatal(err)
		}
		return
	}
	if authzMode {
		az.berth, az.out, az.rounds, az.gets, az.puts = o.berth, o.out, 7, 30000, 3000
		if o.out == "bench/RESULTS.md" {
			az.out = "bench/RESULTS-authz.md"
		}
		if o.quick {
			az.rounds, az.users, az.gets, az.puts, az.out = 1, 20, 200, 100, ""
		}
		if err := runAuthz(az); err != nil {
			log.Fatal(err)
		}
		return
	}
	if gcMode {
		gc.out = o.out
		if o.out == "bench/RESULTS.md" {
			gc.out = "bench/RESULTS-gc.md"
		}
		if o.quick {
			gc.blobs, gc.window, gc.out = 2000, 2*time.Second, ""
		}
		if err := runGC(gc); err != nil {
			log.Fatal(err)
		}
		return
	}
	if o.berth == "" {
		log.Fatal("loadgen: -berth is required")
	}
	if o.quick {
		o.rounds = 1
	}
	run := run
	if o.scaleout {
		run = runScaleOut
		if o.out == "bench/RESULTS.md" && o.embedded {
			o.out = "bench/RESULTS-builds.md"
		} else if o.out == "bench/RESULTS.md" {
			o.out = "bench/RESULTS-scaleout.md"
		}
	}
	if err := run(o); err != nil {
		log.Fatal("loadgen: ", err)
	}
}

func run(o options) error {
	sz := sizes{small: 1 * mib, medium: 64 * mib, large: 512 * mib, smallCount: 64, medCount: 4, chunk: 8 * mib,
		manifestsC1: 400, manifests32: 3000, gets32: 10000, tagsA: 10000, tagsB: 100000, page: 1000, big: 2 << 30}
	if o.quick {
		sz = sizes{small: 1 * mib, medium: 4 * mib, large: 16 * mib, smallCount: 4, medCount: 2, chunk: 4 * mib,
			manifestsC1: 20, manifests32: 64, gets32: 64, tagsA: 300, tagsB: 2000, page: 100, big: 64 * mib}
	}
	initPool(sz.large)
	work := o.work
	if work == "" {
		dir, err := os.MkdirTemp("", "berth-bench")
		if err != nil {
			return err
		}
		defer func() {
			// The peer keeps its 100,000 tags as 400,000 files: removing
			// them takes minutes on some disks.
			log.Printf("removing %s", dir)
			start := time.Now()
			os.RemoveAll(dir)
			log.Printf("removed in %s", time.Since(start).Round(time.Second))
		}()
		work = dir
	}
	b, err := startBerth(o.berth, filepath.Join(work, "berth"))
	if err != nil {
		return err
	}
	p, err := startDistribution(o.peer, filepath.Join(work, "distribution"))
	if err != nil {
		b.stop()
		return err
	}
	stopSampling := sampleRSS(b, p)
	defer func() { stopSampling(); b.stop(); p.stop() }()
	r := &report{}
	both := []*target{b, p}
	each := func(round int, fn func(t *target) error) error {
		order := both
		if round%2 == 1 {
			order = []*target{p, b}
		}
		for _, t := range order {
			if err := fn(t); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		return nil
	}
	const repo = "bench/app"
	last := map[string]map[int]blob{"berth": {}, "distribution": {}}
	imgs := map[string]smallImage{}
	for _, t := range both {
		img, err := prepareImage(t, repo)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		imgs[t.name] = img
	}
	log.Printf("pushes and pulls, %d rounds", o.rounds)
	for round := 0; round < o.rounds && (o.only == "" || o.only == "blobs" || o.only == "pushes"); round++ {
		err := each(round, func(t *target) error {
			for _, c := range []struct {
				size, count int
				name        string
			}{{sz.small, sz.smallCount, "1 MiB"}, {sz.medium, sz.medCount, "64 MiB"}, {sz.large, 1, "512 MiB"}} {
				v, blobs, err := pushFigure(t, repo, c.size, c.count, 0)
				if err != nil {
					return err
				}
				r.add("Blob push, 1 stream, "+c.name+" monolithic", "MB/s", t.name, v)
				last[t.name][c.size] = blobs[len(blobs)-1]
			}
			v, _, err := pushFigure(t, repo, sz.large, 1, sz.chunk)
			if err != nil {
				return err
			}
			r.add(fmt.Sprintf("Blob push, 1 stream, 512 MiB in %d MiB PATCHes", sz.chunk/mib), "MB/s", t.name, v)
			if o.only == "pushes" {
				return nil
			}
			// The first pull after a push: the peer wrote the blob through
			// the page cache; berth wrote it around the cache and reads it
			// back into it in the background once committed (the pull a CI
			// job makes after its push). The pull figures then compare the
			// serving paths with the blob cached for both. As before the
			// pushes, the disk starts with no dirty pages, the peer's
			// included.
			syscall.Sync()
			for _, c := range []struct {
				size int
				name string
			}{{sz.small, "1 MiB"}, {sz.medium, "64 MiB"}, {sz.large, "512 MiB"}} {
				v, err := pullFigure(t, repo, last[t.name][c.size], 1, 1)
				if err != nil {
					return err
				}
				r.add("Blob pull, first after its push, "+c.name, "MB/s", t.name, v)
			}
			for _, streams := range []int{1, 8} {
				for _, c := range []struct {
					size, repeats int
					name          string
				}{{sz.small, 32, "1 MiB"}, {sz.medium, 2, "64 MiB"}, {sz.large, 1, "512 MiB"}} {
					v, err := pullFigure(t, repo, last[t.name][c.size], streams, c.repeats)
					if err != nil {
						return err
					}
					r.add(fmt.Sprintf("Blob pull, %d stream(s), %s", streams, c.name), "MB/s", t.name, v)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	log.Print("manifests")
	for round := 0; round < o.rounds && (o.only == "" || o.only == "manifests"); round++ {
		err := each(round, func(t *target) error {
			img := imgs[t.name]
			for _, c := range []struct{ n, conc int }{{sz.manifestsC1, 1}, {sz.manifests32, 32}} {
				var ops, p99 float64
				err := r.cores(fmt.Sprintf("Manifest PUT, c=%d", c.conc), t, c.conc == 32, func() (err error) {
					ops, p99, err = manifestPutFigure(t, repo, img, c.n, c.conc)
					return err
				})
				if err != nil {
					return err
				}
				r.add(fmt.Sprintf("Manifest PUT, c=%d", c.conc), "req/s", t.name, ops)
				r.add(fmt.Sprintf("Manifest PUT, c=%d, p99", c.conc), "ms", t.name, p99)
			}
			tags := t.tags
			var ops, p99 float64
			err := r.cores("Manifest GET by tag, c=32", t, true, func() (err error) {
				ops, p99, err = manifestGetFigure(t, repo, tags, sz.gets32, 32)
				return err
			})
			if err != nil {
				return err
			}
			r.add("Manifest GET by tag, c=32", "req/s", t.name, ops)
			r.add("Manifest GET by tag, c=32, p99", "ms", t.name, p99)
			if wrk, err := exec.LookPath("wrk"); err == nil {
				d := 5 * time.Second
				if o.quick {
					d = time.Second
				}
				if err := wrkFigures(r, wrk, t, repo, tags[0], d, sz.gets32); err != nil {
					return err
				}
			}
			if t.name != "berth" {
				return nil
			}
			for _, c := range []struct{ n, conc int }{{sz.manifestsC1, 1}, {sz.manifests32, 32}} {
				ops, p99, err := ecrPutFigure(t, repo, img, c.n, c.conc)
				if err != nil {
					return err
				}
				r.add(fmt.Sprintf("ECR PutImage (SigV4, aws-sdk-go-v2), c=%d", c.conc), "req/s", t.name, ops)
				r.add(fmt.Sprintf("ECR PutImage (SigV4, aws-sdk-go-v2), c=%d, p99", c.conc), "ms", t.name, p99)
			}
			ops, p99, err = ecrGetFigure(t, repo, tags, sz.gets32, 32)
			if err != nil {
				return err
			}
			r.add("ECR BatchGetImage, c=32", "req/s", t.name, ops)
			r.add("ECR BatchGetImage, c=32, p99", "ms", t.name, p99)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if o.only != "" {
		b.samplePeak()
		p.samplePeak()
		fmt.Println(r.summary())
		fmt.Printf("peak RSS: berth %.1f MiB, distribution %.1f MiB\n", float64(b.peakRSS)/mib, float64(p.peakRSS)/mib)
		if resp, err := http.Get(b.url + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, l := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(l, "go_memstats_sys_bytes") || strings.HasPrefix(l, "go_memstats_heap_inuse_bytes") || strings.HasPrefix(l, "go_memstats_stack_inuse_bytes") || strings.HasPrefix(l, "process_resident_memory_bytes") {
					fmt.Println(l)
				}
			}
		}
		return nil
	}
	log.Print("tags lists")
	for _, t := range both {
		img := imgs[t.name]
		m := img.manifest(-1)
		for _, rp := range []string{"bench/tags-a", "bench/tags-b"} {
			if t.name == "berth" {
				// berth needs the repository and the blobs in it first.
				if _, err := prepareImageIn(t, rp, img); err != nil {
					return err
				}
			} else if err := pushBlobsTo(t, rp, img); err != nil {
				return err
			}
			if err := t.putManifest(rp, "seed", m); err != nil {
				return err
			}
		}
	}
	stopSampling()
	for i, t := range both {
		t.stop()
		d := digestOfBytes(imgs[t.name].manifest(-1))
		if err := seedTags(t, "bench/tags-a", sz.tagsA, d); err != nil {
			return err
		}
		if err := seedTags(t, "bench/tags-b", sz.tagsB, d); err != nil {
			return err
		}
		var restarted *target
		if t.name == "berth" {
			restarted, err = startBerth(o.berth, t.dataDir)
		} else {
			restarted, err = startDistribution(o.peer, filepath.Dir(t.dataDir))
		}
		if err != nil {
			return err
		}
		restarted.peakRSS = t.peakRSS
		both[i] = restarted
	}
	b, p = both[0], both[1]
	stopSampling = sampleRSS(b, p)
	for round := 0; round < o.rounds; round++ {
		err := each(round, func(t *target) error {
			v, err := tagsWalk(t, "bench/tags-a", sz.tagsA+1, sz.page)
			if err != nil {
				return err
			}
			r.add(fmt.Sprintf("Tags list, %d tags, n=%d: mean page", sz.tagsA, sz.page), "ms", t.name, v)
			first, err := pageTime(t, "bench/tags-b", sz.page, "", 5)
			if err != nil {
				return err
			}
			lastPage, err := pageTime(t, "bench/tags-b", sz.page, tagName(sz.tagsB-sz.page-1), 5)
			if err != nil {
				return err
			}
			r.add(fmt.Sprintf("Tags list, %d tags, n=%d: first page", sz.tagsB, sz.page), "ms", t.name, first)
			r.add(fmt.Sprintf("Tags list, %d tags, n=%d: last page", sz.tagsB, sz.page), "ms", t.name, lastPage)
			return nil
		})
		if err != nil {
			return err
		}
	}
	log.Print("memory")
	grow, err := rssGrowth(b, repo, sz.big)
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("RSS growth while pushing one %d MiB blob", sz.big/mib), "MiB", "berth", grow)
	stopSampling()
	b.samplePeak()
	p.samplePeak()
	r.add("Peak RSS over the run", "MiB", "berth", float64(b.peakRSS)/mib)
	r.add("Peak RSS over the run", "MiB", "distribution", float64(p.peakRSS)/mib)

	log.Print("the machine's ceiling")
	bare, stopBare := bareServer()
	defer stopBare()
	for round := 0; round < o.rounds; round++ {
		r.add("sha256, one core, Go "+runtime.Version(), "MB/s", "ceiling", sha256Rate(sz.large))
		for _, direct := range []bool{false, true} {
			disk, err := diskRate(work, sz.large, direct)
			if err != nil {
				return err
			}
			how := "through the page cache"
			if direct {
				how = "with O_DIRECT"
			}
			r.add("Disk: sequential write of 512 MiB "+how+" + fdatasync, where both registries keep data", "MB/s", "ceiling", disk)
		}
		for _, c := range []struct {
			size, count int
			name        string
		}{{sz.small, sz.smallCount, "1 MiB"}, {sz.medium, sz.medCount, "64 MiB"}, {sz.large, 1, "512 MiB"}} {
			v, err := bare.barePut(c.size, c.count)
			if err != nil {
				return err
			}
			r.add("Bare Go HTTP PUT, "+c.name, "MB/s", "ceiling", v)
			for _, streams := range []int{1, 8} {
				v, err := bare.bareGet(c.size, streams, 2)
				if err != nil {
					return err
				}
				r.add(fmt.Sprintf("Bare Go HTTP GET, %d stream(s), %s", streams, c.name), "MB/s", "ceiling", v)
			}
		}
	}
	if err := r.write(o, sz); err != nil {
		return err
	}
	if o.quick {
		// CI's smoke run: warn of a ratio that fell since the last full run.
		guard(r, "bench/RESULTS.md", os.Stderr)
	}
	return nil
}

func pushBlobsTo(t *target, repo string, img smallImage) error {
	for _, b := range []blob{img.config, img.layer} {
		if err := t.pushMonolithic(repo, b); err != nil {
			return err
		}
	}
	return nil
}

func prepareImageIn(t *target, repo string, img smallImage) (smallImage, error) {
	return img, pushBlobsTo(t, repo, img)
}

// sampleRSS records each server's peak resident memory until stopped.
func sampleRSS(ts ...*target) func() {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, t := range ts {
					t.samplePeak()
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// report collects samples per figure and target.
type report struct {
	order []string
	units map[string]string
	data  map[string]map[string][]float64
}

func (r *report) add(figure, unit, who string, v float64) {
	if r.data == nil {
		r.data, r.units = map[string]map[string][]float64{}, map[string]string{}
	}
	if _, ok := r.data[figure]; !ok {
		r.order = append(r.order, figure)
		r.data[figure] = map[string][]float64{}
		r.units[figure] = unit
	}
	r.data[figure][who] = append(r.data[figure][who], v)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func span(v []float64) string {
	if len(v) == 0 {
		return ""
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf("%s–%s", num(s[0]), num(s[len(s)-1]))
}

func num(f float64) string {
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func (r *report) med(figure, who string) float64 { return median(r.data[figure][who]) }

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1] + " kB RAM"
	}
	return fmt.Sprintf("%d CPUs (%s), %s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
