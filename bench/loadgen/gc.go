package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/server"
)

// The garbage collection figures (-gc): a sweep over a store of many
// blobs, a tenth of them unreferenced, while clients push, against the
// same pushes without a sweep. berth runs in this process, so that the
// benchmark can start a sweep when it chooses (as the periodic ones do);
// the load generator shares the two cores with it in both phases alike.

type gcOptions struct {
	blobs  int           // blobs stored before the sweep
	window time.Duration // how long the baseline pushes run
	out    string
}

// gcImage pushes one image of two new blobs and a manifest.
func gcImage(t *target, repo string, n int) error {
	cfg, layer := newBlob(64), newBlob(256)
	for _, b := range []blob{cfg, layer} {
		if err := t.pushMonolithic(repo, b); err != nil {
			return err
		}
	}
	return t.putManifest(repo, fmt.Sprint("p", n), smallImage{config: cfg, layer: layer}.manifest(n))
}

// pushFor pushes images with c workers until stop closes and returns the
// median of the images pushed in each second, and the first error.
func pushFor(t *target, repo string, c int, stop chan struct{}) (float64, error) {
	var n atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	var perSecond []int
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := gcImage(t, repo, int(n.Add(1)))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				sec := int(time.Since(start) / time.Second)
				for len(perSecond) <= sec {
					perSecond = append(perSecond, 0)
				}
				perSecond[sec]++
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(perSecond) > 1 {
		perSecond = perSecond[:len(perSecond)-1] // the last second is partial
	}
	rates := make([]float64, len(perSecond))
	for i, c := range perSecond {
		rates[i] = float64(c)
	}
	return median(rates), firstErr
}

func runGC(o gcOptions) error {
	dir, err := os.MkdirTemp("", "berth-gcbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// berth's clock runs a day ahead once the store is seeded: every
	// seeded blob is then past the (default) grace period, and the blobs
	// the measured pushes store are not, as in a sweep of a real day.
	var offset atomic.Int64
	srv := server.New(io.Discard, io.Discard)
	srv.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv.Config = server.Config{Addr: freePort(), DataDir: dir, RegistryID: "000000000000", Region: "us-east-1", Metadata: "sqlite", Blobs: "filesystem",
		Migrate: true, CreateOnPush: true, AccessKeyID: benchKey, SecretAccessKey: benchSecret,
	}
	if err := srv.Run(context.Background()); err != nil {
		return err
	}
	defer srv.Close()
	t := &target{name: "berth", url: srv.URL(), user: benchKey, password: benchSecret}
	initPool(1 << 20)

	// The store: blobs in images of ten, nine images in ten kept; the
	// blobs of the tenth are deleted, so a tenth of all are garbage.
	start := time.Now()
	images := o.blobs / 10
	perImage := make([][]blob, images)
	seedErr := func(i int) error {
		bs := make([]blob, 10)
		for k := range bs {
			bs[k] = newBlob(64 + k)
			if err := t.pushMonolithic("seed", bs[k]); err != nil {
				return err
			}
		}
		perImage[i] = bs
		layers := make([]string, 9)
		for k, b := range bs[1:] {
			layers[k] = fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mtLayer, b.digest, len(b.data))
		}
		m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[%s]}`,
			mtManifest, mtConfig, bs[0].digest, len(bs[0].data), strings.Join(layers, ","))
		if err := t.putManifest("seed", fmt.Sprint("s", i), []byte(m)); err != nil {
			return err
		}
		if i%10 == 9 {
			resp, err := expect(t.request("DELETE", "/v2/seed/manifests/"+digestOfBytes([]byte(m)), nil, 0))(202, "delete image")
			if err != nil {
				return err
			}
			drain(resp)
		}
		return nil
	}
	if _, _, err := load(images, 16, seedErr); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	fmt.Fprintf(os.Stderr, "gc bench: %d blobs in %d images stored in %s\n", images*10, images, time.Since(start).Round(time.Second))
	offset.Store(int64(25 * time.Hour)) // every seeded blob is due for review

	// Baseline: pushes alone.
	stop := make(chan struct{})
	time.AfterFunc(o.window, func() { close(stop) })
	baseRate, err := pushFor(t, "push", 4, stop)
	if err != nil {
		return fmt.Errorf("baseline pushes: %w", err)
	}

	// The same pushes while a sweep runs.
	stop = make(chan struct{})
	var rep registry.GCReport
	var sweepErr error
	var sweep time.Duration
	go func() {
		s0 := time.Now()
		rep, sweepErr = srv.CollectGarbage(context.Background(), registry.GCOptions{Share: registry.DefaultShare}) // as the periodic sweeps
		sweep = time.Since(s0)
		close(stop)
	}()
	duringRate, err := pushFor(t, "push", 4, stop)
	if err != nil {
		return fmt.Errorf("pushes during the sweep: %w", err)
	}
	if sweepErr != nil {
		return sweepErr
	}

	// Alone again, after the sweep: the store has grown meanwhile, so the
	// baseline is the mean of before and after.
	stop = make(chan struct{})
	time.AfterFunc(o.window, func() { close(stop) })
	afterRate, err := pushFor(t, "push", 4, stop)
	if err != nil {
		return fmt.Errorf("pushes after the sweep: %w", err)
	}
	alone := (baseRate + afterRate) / 2

	var b strings.Builder
	fmt.Fprintf(&b, "# berth garbage collection benchmark\n\n")
	fmt.Fprintf(&b, "`bench/run --gc` (this file; `-gc-blobs %d`), %s, on the embedded default (SQLite + filesystem,\n", o.blobs, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "durable commits), berth and the load generator in one process on this machine's cores.\n\n")
	fmt.Fprintf(&b, "The store: %d blobs in %d images; the images of one in ten deleted, so %d blobs (a tenth) are\n", images*10, images, images)
	fmt.Fprintf(&b, "unreferenced. Every stored blob is due for review when the sweep starts (berth's clock moved a day on),\n")
	fmt.Fprintf(&b, "and the pushed ones are not (the default grace period, 24 h). Pushes: four clients, each\n")
	fmt.Fprintf(&b, "image two new blobs (monolithic upload) and a manifest; each rate is the median of the images pushed\n")
	fmt.Fprintf(&b, "in each second of its phase.\n\n")
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| sweep: blobs reviewed | %d |\n| sweep: blobs deleted (unreferenced) | %d |\n| sweep: objects deleted from storage | %d |\n", rep.Reviewed, rep.BlobsDeleted, rep.ObjectsDeleted)
	fmt.Fprintf(&b, "| sweep duration, with pushes running | %s |\n", sweep.Round(time.Millisecond))
	fmt.Fprintf(&b, "| pushes, images/s, alone before the sweep (%s) | %.0f |\n", o.window, baseRate)
	fmt.Fprintf(&b, "| pushes, images/s, during the sweep | %.0f |\n", duringRate)
	fmt.Fprintf(&b, "| pushes, images/s, alone after the sweep (%s) | %.0f |\n", o.window, afterRate)
	fmt.Fprintf(&b, "| **pushes during the sweep / alone (the mean of before and after)** (target ≥ 0.90) | **%.2f** |\n", duringRate/alone)
	return publish(b.String(), o.out)
}
