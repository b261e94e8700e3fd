package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/meta/sqlite"
)

const mib = 1 << 20

// throughput pushes or pulls total bytes with fn and returns MB/s.
func throughput(total int64, fn func() error) (float64, error) {
	start := time.Now()
	if err := fn(); err != nil {
		return 0, err
	}
	return float64(total) / 1e6 / time.Since(start).Seconds(), nil
}

// load runs op n times with c workers and returns ops/s and the p99 in ms;
// an error fails the figure.
func load(n, c int, op func(i int) error) (float64, float64, error) {
	ops, p99, failed, err := loadAll(n, c, op)
	if failed > 0 {
		return 0, 0, err
	}
	return ops, p99, nil
}

// loadAll is load that runs every op whatever the others' results, and
// counts those that failed (the first failure is returned with them).
func loadAll(n, c int, op func(i int) error) (ops, p99 float64, failed int, firstErr error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					failed++
					mu.Unlock()
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	return float64(n) / el.Seconds(), float64(lat[n*99/100].Microseconds()) / 1000, failed, firstErr
}

// pushPulls measures blob pushes and pulls of each size and records the
// pushed blobs for the pulls.
func pushFigure(t *target, repo string, size, count int, chunk int) (float64, []blob, error) {
	blobs := make([]blob, count)
	for i := range blobs {
		blobs[i] = newBlob(size)
	}
	// Start each measurement with no dirty pages: the peer does not fsync,
	// so the kernel would otherwise still be writing its last blobs while
	// berth waits for the disk to take its own.
	syscall.Sync()
	mbps, err := throughput(int64(size*count), func() error {
		for _, b := range blobs {
			var err error
			if chunk > 0 {
				err = t.pushChunked(repo, b, chunk)
			} else {
				err = t.pushMonolithic(repo, b)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return mbps, blobs, err
}

func pullFigure(t *target, repo string, b blob, streams, repeats int) (float64, error) {
	return throughput(int64(len(b.data)*streams*repeats), func() error {
		var wg sync.WaitGroup
		errs := make(chan error, streams)
		for s := 0; s < streams; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < repeats; r++ {
					n, err := t.pull(repo, b.digest)
					if err == nil && n != int64(len(b.data)) {
						err = fmt.Errorf("pulled %d of %d bytes", n, len(b.data))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
}

// prepareImage pushes a config and a layer for manifests to name.
func prepareImage(t *target, repo string) (smallImage, error) {
	img := smallImage{config: newBlob(512), layer: newBlob(4096)}
	for _, b := range []blob{img.config, img.layer} {
		if err := t.pushMonolithic(repo, b); err != nil {
			return img, err
		}
	}
	return img, nil
}

var manifestSeq atomic.Int64

// manifestPutFigure puts n distinct manifests under distinct tags; the tags
// go to t.tags for the GET figures.
func manifestPutFigure(t *target, repo string, img smallImage, n, c int) (float64, float64, error) {
	base := int(manifestSeq.Add(int64(n))) - n
	for i := 0; i < n && len(t.tags) < 100; i++ {
		t.tags = append(t.tags, fmt.Sprintf("m%d", base+i))
	}
	return load(n, c, func(i int) error {
		return t.putManifest(repo, fmt.Sprintf("m%d", base+i), img.manifest(base+i))
	})
}

func manifestGetFigure(t *target, repo string, tags []string, n, c int) (float64, float64, error) {
	return load(n, c, func(i int) error { return t.getManifest(repo, tags[i%len(tags)]) })
}

var oneRequestPerConn = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}

// ecrClient talks to berth's ECR API with the target's credentials.
func ecrClient(t *target) *ecr.Client {
	hc := httpClient
	if t.closesConns {
		hc = oneRequestPerConn
	}
	return ecr.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(t.user, t.password, ""),
		HTTPClient:  hc, Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *ecr.Options) { o.BaseEndpoint = aws.String(t.url) })
}

func ecrPutFigure(t *target, repo string, img smallImage, n, c int) (float64, float64, error) {
	client := ecrClient(t)
	base := int(manifestSeq.Add(int64(n))) - n
	return load(n, c, func(i int) error {
		m := string(img.manifest(base + i))
		_, err := client.PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: &repo, ImageManifest: &m, ImageTag: aws.String(fmt.Sprintf("e%d", base+i))})
		return err
	})
}

func ecrGetFigure(t *target, repo string, tags []string, n, c int) (float64, float64, error) {
	client := ecrClient(t)
	return load(n, c, func(i int) error {
		out, err := client.BatchGetImage(context.Background(), &ecr.BatchGetImageInput{RepositoryName: &repo,
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tags[i%len(tags)])}}})
		if err == nil && len(out.Images) != 1 {
			err = fmt.Errorf("BatchGetImage: %d images", len(out.Images))
		}
		return err
	})
}

func tagName(i int) string { return fmt.Sprintf("t%07d", i) }

// seedTags gives repo n tags on one manifest, written straight into the
// target's storage while it is stopped (listing is measured, not creation).
func seedTags(t *target, repo string, n int, digest string) error {
	switch t.name {
	case "berth":
		s, err := sqlite.Open(context.Background(), filepath.Join(t.dataDir, "berth.db"))
		if err != nil {
			return err
		}
		defer s.Close()
		now := time.Now()
		return s.Update(context.Background(), func(tx berth.MetaTx) error {
			for i := 0; i < n; i++ {
				if err := tx.PutTag(context.Background(), repo, tagName(i), digest, now); err != nil {
					return err
				}
			}
			return nil
		})
	default:
		hex := strings.TrimPrefix(digest, "sha256:")
		tags := filepath.Join(t.dataDir, "docker/registry/v2/repositories", repo, "_manifests/tags")
		for i := 0; i < n; i++ {
			for _, dir := range []string{filepath.Join(tags, tagName(i), "current"), filepath.Join(tags, tagName(i), "index/sha256", hex)} {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, "link"), []byte(digest), 0o644); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// tagsFigures walks a repository of tags in pages and times the first
// and the last page of another.
func tagsWalk(t *target, repo string, n, page int) (float64, error) {
	start := time.Now()
	pages := 0
	for last := ""; ; pages++ {
		if err := t.tagsPage(repo, page, last); err != nil {
			return 0, err
		}
		next := (pages + 1) * page
		if next >= n {
			break
		}
		last = tagName(next - 1)
	}
	return float64(time.Since(start).Microseconds()) / 1000 / float64(pages+1), nil
}

func pageTime(t *target, repo string, page int, last string, repeats int) (float64, error) {
	var best []float64
	for i := 0; i < repeats; i++ {
		start := time.Now()
		if err := t.tagsPage(repo, page, last); err != nil {
			return 0, err
		}
		best = append(best, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(best)
	return best[len(best)/2], nil
}

// repeatReader yields size bytes of the pool, over and over.
type repeatReader struct {
	left int64
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, pool[r.off:])
	if int64(n) > r.left {
		n = int(r.left)
	}
	r.off = (r.off + n) % len(pool)
	r.left -= int64(n)
	return n, nil
}

// rssGrowth pushes one blob of size bytes to berth and returns how much its
// resident memory rose above where it stood before.
func rssGrowth(t *target, repo string, size int64) (float64, error) {
	h := sha256.New()
	io.Copy(h, &repeatReader{left: size})
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	before := t.status("VmRSS")
	t.resetPeak()
	resp, err := expect(t.request("POST", "/v2/"+repo+"/blobs/uploads/", nil, 0))(202, "start upload")
	if err != nil {
		return 0, err
	}
	drain(resp)
	resp, err = expect(t.request("PUT", withQuery(t.location(resp), "digest", digest), &repeatReader{left: size}, size, "Content-Type", "application/octet-stream"))(201, "put 2 GiB blob")
	if err != nil {
		return 0, err
	}
	drain(resp)
	peak := t.status("VmHWM")
	return float64(peak-before) / mib, nil
}

// ceiling measures what this machine allows: one core of sha256, and a
// bare Go HTTP server receiving and sending the same sizes.
func sha256Rate(size int) float64 {
	buf := pool[:size]
	start := time.Now()
	sum := sha256.Sum256(buf)
	_ = sum
	return float64(size) / 1e6 / time.Since(start).Seconds()
}

func bareServer() (*target, func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /put", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /get/{size}", func(w http.ResponseWriter, r *http.Request) {
		var size int
		fmt.Sscan(r.PathValue("size"), &size)
		http.ServeContent(w, r, "", time.Time{}, newSectionReader(size))
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	return &target{name: "bare Go HTTP", url: "http://" + l.Addr().String()}, func() { srv.Close() }
}

func newSectionReader(size int) io.ReadSeeker {
	return io.NewSectionReader(readerAt(pool), 0, int64(size))
}

type readerAt []byte

func (b readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (t *target) barePut(size int, count int) (float64, error) {
	return throughput(int64(size*count), func() error {
		for i := 0; i < count; i++ {
			resp, err := expect(t.request("PUT", "/put", io.NewSectionReader(readerAt(pool), 0, int64(size)), int64(size)))(201, "bare put")
			if err != nil {
				return err
			}
			drain(resp)
		}
		return nil
	})
}

func (t *target) bareGet(size, streams, repeats int) (float64, error) {
	return throughput(int64(size*streams*repeats), func() error {
		var wg sync.WaitGroup
		for s := 0; s < streams; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < repeats; r++ {
					if resp, err := expect(t.request("GET", fmt.Sprintf("/get/%d", size), nil, -1))(200, "bare get"); err == nil {
						drain(resp)
					}
				}
			}()
		}
		wg.Wait()
		return nil
	})
}

// diskRate is this disk's durable sequential write rate: size bytes
// written in 8 MiB writes (through the page cache, or with O_DIRECT from
// aligned memory) and fdatasynced, in MB/s.
func diskRate(dir string, size int, direct bool) (float64, error) {
	f, err := os.CreateTemp(dir, "disk-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := f
	src := pool
	if direct {
		if w, err = os.OpenFile(f.Name(), os.O_WRONLY|syscall.O_DIRECT, 0); err != nil {
			return 0, err
		}
		defer w.Close()
		src = alignedCopy(pool[:size])
	}
	start := time.Now()
	for off := 0; off < size; off += 8 * mib {
		if _, err := w.Write(src[off:min(off+8*mib, size)]); err != nil {
			return 0, err
		}
	}
	if err := w.Sync(); err != nil {
		return 0, err
	}
	return float64(size) / 1e6 / time.Since(start).Seconds(), nil
}

// alignedCopy copies b to memory that starts on a 4 KiB boundary.
func alignedCopy(b []byte) []byte {
	buf := make([]byte, len(b)+4096)
	skip := (4096 - int(uintptr(unsafe.Pointer(&buf[0]))%4096)) % 4096
	buf = buf[skip : skip+len(b)]
	copy(buf, b)
	return buf
}
