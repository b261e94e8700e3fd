package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
)

// The moto benchmark: berth's ECR API side by side with moto's (the AWS
// emulator, a Python program), the same requests from the same
// aws-sdk-go-v2 client, in alternating rounds, reported as ratios.

type motoOptions struct {
	berth, moto, out string
	rounds           int
	putsC1, puts32   int           // PutImage ops per round at c=1 and c=32
	gets32           int           // BatchGetImage ops per round
	images, walks    int           // DescribeImages: images in the repository, full walks per round
	page             int           // DescribeImages maxResults
	layers           int           // CompleteLayerUpload sequences per round
	wrkTime          time.Duration // how long wrk replays BatchGetImage calls per round
}

const motoImagesRepo = "bench/images"

// startMoto runs moto_server on a free loopback port in a process group of
// its own (moto_server may be a shim that starts Python), so that
// stopMoto can end all of it.
func startMoto(bin string) (*target, error) {
	addr := freePort()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(bin, "-H", host, "-p", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = nil, nil
	// moto answers every request with Connection: close; a client that
	// keeps connections open races that close (Go's transport then fails a
	// 200 answer with "use of closed network connection"), so its client
	// asks for one request per connection, which is what moto gives anyway.
	t := &target{name: "moto", url: "http://" + addr, user: benchKey, password: benchSecret, cmd: cmd, closesConns: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// Python takes a few seconds to import moto.
	for i := 0; i < 600; i++ {
		if resp, err := http.Get(t.url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return t, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopMoto(t)
	return nil, fmt.Errorf("moto_server (%s) did not answer on %s", bin, addr)
}

// stopMoto ends moto_server's process group, gently first.
func stopMoto(t *target) {
	t.samplePeak()
	pid := t.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}

// motoVersion asks moto's Python for its version.
func motoVersion(bin string) string {
	// A pyenv shim runs the Python that owns moto_server; ask that one.
	python := "python3"
	if out, err := exec.Command("pyenv", "which", "moto_server").Output(); err == nil {
		python = filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "python")
	} else if real, err := filepath.EvalSymlinks(bin); err == nil {
		if p := filepath.Join(filepath.Dir(real), "python"); fileExists(p) {
			python = p
		}
	}
	out, err := exec.Command(python, "-c", "import moto, sys; print(moto.__version__, 'on Python', sys.version.split()[0])").Output()
	if err != nil {
		return "unknown version"
	}
	return strings.TrimSpace(string(out))
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ecrPushLayer pushes b as one layer through the ECR layer API:
// InitiateLayerUpload, one UploadLayerPart, CompleteLayerUpload.
func ecrPushLayer(ctx context.Context, c *ecr.Client, repo string, b blob) error {
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: &repo})
	if err != nil {
		return err
	}
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: &repo, UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(b.data) - 1)), LayerPartBlob: b.data}); err != nil {
		return err
	}
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: &repo, UploadId: up.UploadId, LayerDigests: []string{b.digest}})
	return err
}

// motoPrepare makes repo on t and, on berth, which checks that a
// manifest's blobs exist, pushes img's blobs into it through the ECR layer
// API. moto checks nothing (and has no layer API).
func motoPrepare(t *target, repo string, img smallImage) error {
	ctx := context.Background()
	c := ecrClient(t)
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: &repo}); err != nil {
		return err
	}
	if t.name == "moto" {
		return nil
	}
	for _, b := range []blob{img.config, img.layer} {
		if err := ecrPushLayer(ctx, c, repo, b); err != nil {
			return err
		}
	}
	return nil
}

// motoPuts puts manifests first..first+n-1 of img, each under its own
// tag, with c clients; both targets get the same manifests.
func motoPuts(t *target, repo string, img smallImage, first, n, c int) (float64, error) {
	client := ecrClient(t)
	ops, _, err := load(n, c, func(i int) error {
		m := string(img.manifest(first + i))
		_, err := client.PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: &repo, ImageManifest: &m, ImageTag: aws.String(fmt.Sprintf("i%05d", first+i))})
		return err
	})
	return ops, err
}

// describeWalk pages through every image of repo with DescribeImages and
// returns the pages it took; it fails unless it saw want images.
func describeWalk(c *ecr.Client, repo string, page, want int) (int, error) {
	seen, pages := 0, 0
	var next *string
	for {
		out, err := c.DescribeImages(context.Background(), &ecr.DescribeImagesInput{RepositoryName: &repo, MaxResults: aws.Int32(int32(page)), NextToken: next})
		if err != nil {
			return pages, err
		}
		pages++
		seen += len(out.ImageDetails)
		if next = out.NextToken; next == nil {
			break
		}
	}
	if seen != want {
		return pages, fmt.Errorf("DescribeImages walk saw %d images, want %d", seen, want)
	}
	return pages, nil
}

// runMoto measures the ECR figures on berth and moto in alternating rounds
// and writes bench/RESULTS-moto.md.
func runMoto(o motoOptions) error {
	dir, err := os.MkdirTemp("", "berth-motobench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	initPool(1 << 20)
	b, err := startBerthAs("berth", o.berth, filepath.Join(dir, "berth"))
	if err != nil {
		return err
	}
	defer b.stop()
	m, err := startMoto(o.moto)
	if err != nil {
		return err
	}
	defer stopMoto(m)
	ctx := context.Background()

	// The repository DescribeImages and BatchGetImage read: o.images
	// images, tagged i00000 on, on both.
	img := smallImage{config: newBlob(512), layer: newBlob(4096)}
	for _, t := range []*target{b, m} {
		if err := motoPrepare(t, motoImagesRepo, img); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if _, err := motoPuts(t, motoImagesRepo, img, 0, o.images, 8); err != nil {
			return fmt.Errorf("%s: seeding %s: %w", t.name, motoImagesRepo, err)
		}
	}

	// Does moto have the layer API? (moto 5 answers NotImplementedError.)
	var motoLayerErr error
	if err := ecrPushLayer(ctx, ecrClient(m), motoImagesRepo, newBlob(1024)); err != nil {
		motoLayerErr = err
	}

	// Each PutImage run gets a repository of its own, made before the
	// clock starts, so that every round finds the same state (moto compares
	// a new manifest with every image already in the repository).
	runs := map[string]int{}
	putFigure := func(n, c int) func(t *target) (float64, error) {
		return func(t *target) (float64, error) {
			k := runs[fmt.Sprint(t.name, c)]
			runs[fmt.Sprint(t.name, c)]++
			repo := fmt.Sprintf("bench/put-c%d-%d", c, k)
			if err := motoPrepare(t, repo, img); err != nil {
				return 0, err
			}
			return motoPuts(t, repo, img, o.images+k*n, n, c)
		}
	}
	var pagesMu sync.Mutex
	pages := map[string]int{}
	layerFigure := func(t *target) (float64, error) {
		layers := make([]blob, o.layers)
		for i := range layers {
			layers[i] = newBlob(1 << 20)
		}
		c := ecrClient(t)
		ops, _, err := load(o.layers, 1, func(i int) error { return ecrPushLayer(ctx, c, motoImagesRepo, layers[i]) })
		return ops, err
	}
	figures := []pairFigure{
		{fmt.Sprintf("PutImage, c=1 (images/s; %d per round)", o.putsC1), putFigure(o.putsC1, 1)},
		{fmt.Sprintf("PutImage, c=32 (images/s; %d per round)", o.puts32), putFigure(o.puts32, 32)},
		{fmt.Sprintf("BatchGetImage, 1 tag, c=32 (calls/s; %d per round)", o.gets32), func(t *target) (float64, error) {
			c := ecrClient(t)
			ops, _, err := load(o.gets32, 32, func(i int) error {
				out, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(motoImagesRepo),
					ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(fmt.Sprintf("i%05d", i*7919%o.images))}}})
				if err == nil && len(out.Images) != 1 {
					err = fmt.Errorf("BatchGetImage: %d images", len(out.Images))
				}
				return err
			})
			return ops, err
		}},
		{fmt.Sprintf("DescribeImages, %s images, maxResults %d, c=32 (full walks/s; %d per round)", thousands(o.images), o.page, o.walks), func(t *target) (float64, error) {
			c := ecrClient(t)
			ops, _, err := load(o.walks, 32, func(int) error {
				n, err := describeWalk(c, motoImagesRepo, o.page, o.images)
				pagesMu.Lock()
				pages[t.name] = n
				pagesMu.Unlock()
				return err
			})
			return ops, err
		}},
	}
	wrkName := ""
	if wrk, err := exec.LookPath("wrk"); err == nil {
		// The same calls, signed once and replayed by wrk (see presigned.go).
		tags := make([]string, 100)
		for i := range tags {
			tags[i] = fmt.Sprintf("i%05d", i*7919%o.images)
		}
		wrkName = fmt.Sprintf("BatchGetImage, 1 tag, c=32, wrk replaying %d signed calls (calls/s; %s per round)", len(tags), o.wrkTime)
		figures = append(figures, pairFigure{wrkName, func(t *target) (float64, error) {
			calls, err := signBatchGets(t, motoImagesRepo, tags)
			if err != nil {
				return 0, err
			}
			return wrkReplay(wrk, t, calls, 32, o.wrkTime)
		}})
	}
	cpu := cpuShares{}
	for i := range figures {
		figures[i] = cpu.measure(figures[i])
	}
	layerName := fmt.Sprintf("CompleteLayerUpload, 1 MiB layer, c=1 (layers/s; %d per round)", o.layers)
	if motoLayerErr == nil {
		figures = append(figures, pairFigure{layerName, layerFigure})
	}
	r := &report{units: map[string]string{}, data: map[string]map[string][]float64{}}
	if err := alternate(r, figures, b, m, o.rounds); err != nil {
		return err
	}
	if motoLayerErr != nil {
		for round := 0; round < o.rounds; round++ {
			v, err := layerFigure(b)
			if err != nil {
				return fmt.Errorf("%s on berth: %w", layerName, err)
			}
			r.add(layerName, "ops/s", b.name, v)
		}
		figures = append(figures, pairFigure{name: layerName})
	}

	targets := map[string]float64{figures[0].name: 2.5, figures[1].name: 9, figures[2].name: 28, figures[3].name: 10}
	if wrkName != "" {
		targets[wrkName] = 28
	}
	var w strings.Builder
	fmt.Fprintf(&w, "# berth against moto: the ECR API\n\n")
	fmt.Fprintf(&w, "`bench/run --moto` (this file), %s, %s.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&w, "berth (this build, embedded default, durable commits) and moto %s (`moto_server`, in memory,\n", motoVersion(o.moto))
	fmt.Fprintf(&w, "its default threaded Werkzeug server) side by side on loopback, each its own process, driven by the same\n")
	fmt.Fprintf(&w, "aws-sdk-go-v2 ECR client (SigV4, us-east-1, no retries) from one load generator on the same machine.\n")
	fmt.Fprintf(&w, "Rounds: %d, alternating (the order swapped every other round); medians, ranges in brackets; ratio =\n", o.rounds)
	fmt.Fprintf(&w, "berth / moto.\n\n")
	fmt.Fprintf(&w, "| figure | berth | moto | ratio | target |\n|---|---|---|---|---|\n")
	for _, f := range figures {
		bv := r.med(f.name, b.name)
		if f.run == nil {
			fmt.Fprintf(&w, "| %s | %s [%s] | not implemented | — | berth only |\n", f.name, num(bv), span(r.data[f.name][b.name]))
			continue
		}
		mv := r.med(f.name, m.name)
		goal, ok := targets[f.name], ""
		if goal > 0 {
			ok = fmt.Sprintf("≥ %g× met", goal)
			if bv/mv < goal {
				ok = fmt.Sprintf("≥ %g× **missed**", goal)
			}
		} else {
			ok = "none"
		}
		fmt.Fprintf(&w, "| %s | %s [%s] | %s [%s] | **%.1f×** | %s |\n", f.name, num(bv), span(r.data[f.name][b.name]), num(mv), span(r.data[f.name][m.name]), bv/mv, ok)
	}
	fmt.Fprintf(&w, "\nWhere the two cores went (median cores in use while each figure ran, from /proc and getrusage), and what\n")
	fmt.Fprintf(&w, "that makes the machine's bound for berth: the rate at which berth and this load generator together would\n")
	fmt.Fprintf(&w, "use both cores, 2 / (berth's CPU per call + the load generator's CPU per call).\n\n")
	fmt.Fprintf(&w, "| figure | berth | load generator, on berth | berth µs CPU per call | load generator µs per call | bound on 2 cores | moto | load generator, on moto |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range figures {
		if cpu[f.name] == nil {
			continue
		}
		bs, bl := cpu.median(f.name, b.name)
		ms, ml := cpu.median(f.name, m.name)
		rate := r.med(f.name, b.name)
		perS, perL := bs/rate*1e6, bl/rate*1e6
		fmt.Fprintf(&w, "| %s | %.2f | %.2f | %.0f | %.0f | %s/s | %.2f | %.2f |\n", f.name, bs, bl, perS, perL, num(2e6/(perS+perL)), ms, ml)
	}
	fmt.Fprintf(&w, "\nHow each figure is measured:\n\n")
	fmt.Fprintf(&w, "- **PutImage**: distinct manifests (one config, one layer, a unique annotation each), each under a tag of\n")
	fmt.Fprintf(&w, "  its own, the same manifests on both. Every run puts into a new, empty repository, made before the clock\n")
	fmt.Fprintf(&w, "  starts, so every round finds the same state. berth checks that a manifest's blobs exist: its repository\n")
	fmt.Fprintf(&w, "  first gets the config and the layer through the ECR layer API. moto checks nothing.\n")
	fmt.Fprintf(&w, "- **BatchGetImage**: one tag per call, spread over the %s images of the DescribeImages repository.\n", thousands(o.images))
	fmt.Fprintf(&w, "  moto finds an image by scanning the repository's list, so its figure falls as a repository grows.\n")
	if wrkName != "" {
		fmt.Fprintf(&w, "- **BatchGetImage, wrk**: the SDK signs 100 BatchGetImage calls (tags spread as above) once per round;\n")
		fmt.Fprintf(&w, "  wrk (C, one event loop per thread, 2 threads) sends them again in turn for %s over 32 connections.\n", o.wrkTime)
		fmt.Fprintf(&w, "  A SigV4 signature holds for 15 minutes and a repeat is not refused, so berth verifies every call in\n")
		fmt.Fprintf(&w, "  full; what the load generator no longer pays is the SDK's cost per call (table above).\n")
	}
	fmt.Fprintf(&w, "- **DescribeImages**: the unit is a *full walk*: DescribeImages with maxResults %d, following nextToken\n", o.page)
	fmt.Fprintf(&w, "  until there is none, checked to have returned all %s images. berth took %d pages per walk; moto took %d:\n", thousands(o.images), pages[b.name], pages[m.name])
	if pages[m.name] == 1 {
		fmt.Fprintf(&w, "  it ignores maxResults and nextToken and returns every image in one response.\n")
	} else {
		fmt.Fprintf(&w, "  it pages as ECR does.\n")
	}
	fmt.Fprintf(&w, "- **CompleteLayerUpload**: per op, the whole sequence for a new 1 MiB layer (InitiateLayerUpload, one\n")
	fmt.Fprintf(&w, "  UploadLayerPart, CompleteLayerUpload), one client; the layers are made before the clock starts.\n")
	if motoLayerErr != nil {
		fmt.Fprintf(&w, "  moto does not implement the layer API: InitiateLayerUpload answered %s (its handlers for\n", oneLine(motoLayerErr))
		fmt.Fprintf(&w, "  InitiateLayerUpload, UploadLayerPart and CompleteLayerUpload raise NotImplementedError), so this figure\n")
		fmt.Fprintf(&w, "  is berth's alone, measured once per round after the paired figures.\n")
	}
	return publish(w.String(), o.out)
}

// oneLine shortens an SDK error for the report: its HTTP status and
// error code where it has them.
func oneLine(err error) string {
	var resp *awshttp.ResponseError
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		return api.ErrorCode() + ": " + api.ErrorMessage()
	case errors.As(err, &resp):
		return fmt.Sprintf("HTTP %d, a body that is not ECR's JSON", resp.HTTPStatusCode())
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return strings.ReplaceAll(s, "`", "'")
}

// thousands writes n with a comma every three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
