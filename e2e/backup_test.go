package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/backup"
	"github.com/berth-registry/berth/blob/s3"
)

// TestBackupDuringPushes takes an online backup of the embedded default
// while pushes go on, restores it into a new data directory, and checks
// that every image acknowledged before the backup began is there and
// pulls byte for byte, and that verify finds nothing wrong; then it damages
// a blob and a row of a copy, and verify reports exactly those.
func TestBackupDuringPushes(t *testing.T) {
	if testing.Short() || scaleOut() {
		t.Skip("the embedded default's backup")
	}
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	pw := e.loginPassword()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	do := func(method, path string, body []byte, ct string) int {
		req, _ := http.NewRequest(method, e.url+path, bytes.NewReader(body))
		req.SetBasicAuth("AWS", pw)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 599
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// push puts image n: a layer of its own and a manifest, tagged.
	type pushed struct{ manifest, layer []byte }
	push := func(n int) (pushed, bool) {
		layer := []byte(fmt.Sprintf("layer of image %d %s", n, randomBytes(64)))
		cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
		for _, b := range [][]byte{layer, cfg} {
			if s := do("POST", "/v2/bk/app/blobs/uploads/?digest="+digestOf(b), b, "application/octet-stream"); s != 201 {
				return pushed{}, false
			}
		}
		m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
			digestOf(cfg), len(cfg), digestOf(layer), len(layer)))
		return pushed{m, layer}, do("PUT", fmt.Sprintf("/v2/bk/app/manifests/i%d", n), m, "application/vnd.oci.image.manifest.v1+json") == 201
	}
	const before = 1000
	images := make([]pushed, before)
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < before; i = int(next.Add(1) - 1) {
				p, ok := push(i)
				if !ok {
					t.Errorf("push %d failed", i)
				}
				images[i] = p
			}
		}()
	}
	wg.Wait()
	// Pushes go on during the backup.
	stop := make(chan struct{})
	var during atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := push(100000 + w*100000 + i); ok {
					during.Add(1)
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // pushes in flight when it starts; not an assertion
	dest := filepath.Join(t.TempDir(), "backup")
	start := time.Now()
	r, err := backup.Backup(context.Background(), e.dir, dest, nil)
	took := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d blobs (%d bytes) in %s while %d more images were pushed", r.Blobs, r.Bytes, took.Round(time.Millisecond), during.Load())
	// Incremental: a second backup copies nothing it has.
	if r2, err := backup.Backup(context.Background(), e.dir, dest, nil); err != nil || r2.Skipped < r.Blobs {
		t.Fatalf("a second backup: %+v %v", r2, err)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(context.Background(), dest, restored); err != nil {
		t.Fatal(err)
	}
	if v, err := backup.Verify(context.Background(), restored, nil); err != nil || len(v.Problems) > 0 || v.Images < before {
		t.Fatalf("verify of the restored directory: %+v %v", v, err)
	}
	f := startIn(t, restored)
	fpw := f.loginPassword()
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", f.url+path, nil)
		req.SetBasicAuth("AWS", fpw)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			return nil
		}
		return b.Bytes()
	}
	for i, p := range images {
		if !bytes.Equal(get(fmt.Sprintf("/v2/bk/app/manifests/i%d", i)), p.manifest) || !bytes.Equal(get("/v2/bk/app/blobs/"+digestOf(p.layer)), p.layer) {
			t.Fatalf("image %d, acknowledged before the backup, is not whole in the restore", i)
		}
	}

	// Damage a copy: one blob's bytes, one row. Verify names exactly those.
	damaged := filepath.Join(t.TempDir(), "damaged")
	if _, err := backup.Restore(context.Background(), dest, damaged); err != nil {
		t.Fatal(err)
	}
	victim := digestOf(images[7].layer)
	var path string
	filepath.Walk(filepath.Join(damaged, "blobs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(filepath.Base(p), victim[len("sha256:"):]) {
			path = p
		}
		return nil
	})
	if path == "" {
		t.Fatal("the blob file is not where the filesystem store keeps it")
	}
	os.WriteFile(path, []byte("damaged"), 0o640)
	db := sqliteOpen(t, filepath.Join(damaged, "berth.db"))
	if _, err := db.Exec(`DELETE FROM blobs WHERE digest = ?`, digestOf(images[9].layer)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	v, err := backup.Verify(context.Background(), damaged, nil)
	if err != nil || len(v.Problems) != 2 {
		t.Fatalf("verify of the damaged copy: %q %v", v.Problems, err)
	}
	t.Logf("verify of the damaged copy: %q", v.Problems)
}

func sqliteOpen(t *testing.T, path string) *sql.DB {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestVerifyScaleOut: verify checks PostgreSQL's metadata against the
// bucket: clean after pushes, and a blob row taken away is reported.
func TestVerifyScaleOut(t *testing.T) {
	if !scaleOut() {
		t.Skip("needs the scale-out backends")
	}
	e := start(t)
	e.createRepo("vf")
	for i := 0; i < 5; i++ {
		img := e.pushImage("vf", fmt.Sprint("v", i), 2)
		must[*ecr.PutImageOutput](t)(e.putImage("vf", img.docker(), fmt.Sprint("t", i)))
	}
	db, err := sql.Open("pgx", e.srv.Config.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sc, err := s3.ParseURL(e.srv.Config.Blobs)
	if err != nil {
		t.Fatal(err)
	}
	store, err := s3.Open(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := backup.VerifyStores(context.Background(), db, store, nil)
	if err != nil || len(r.Problems) != 0 || r.Images != 5 || r.Blobs != 15 {
		t.Fatalf("a clean registry: %+v %v", r, err)
	}
	if _, err := db.Exec(`DELETE FROM blobs WHERE digest = (SELECT min(ref) FROM manifest_refs WHERE kind = 0)`); err != nil {
		t.Fatal(err)
	}
	if r, err := backup.VerifyStores(context.Background(), db, store, nil); err != nil || len(r.Problems) != 1 {
		t.Fatalf("a row taken away: %q %v", r.Problems, err)
	}
}

// TestBackupS3 backs the embedded default up into an S3 prefix with the
// berth command while it serves, twice (the second copies nothing), checks
// the backup where it is, restores it into a new data directory and pulls
// every image from there; then a blob taken from the bucket is what verify
// reports.
func TestBackupS3(t *testing.T) {
	raw := os.Getenv("BERTH_TEST_S3")
	if raw == "" || scaleOut() {
		t.Skip("needs BERTH_TEST_S3 (scripts/test sets it) and the embedded default as the source")
	}
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	e := start(t)
	e.createRepo("bk/s3")
	var manifests []string
	for i := 0; i < 20; i++ {
		img := e.pushImage("bk/s3", fmt.Sprintf("s3-backup-%d", i), 2)
		m := img.oci(nil)
		if _, err := e.putImage("bk/s3", m, fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, m)
	}
	u, _ := url.Parse(raw)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/backup-" + filepath.Base(t.TempDir())
	dest := u.String()
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	first := run("backup", dest, "--data-dir", e.dir)
	second := run("backup", dest, "--data-dir", e.dir)
	if !strings.Contains(first, "backed up 60 blobs") || !strings.Contains(second, "0 copied (0 MiB), 60 already there") {
		t.Fatalf("the backups:\n%s\n%s", first, second)
	}
	if out := run("verify", dest); !strings.Contains(out, "20 images") {
		t.Fatalf("verify of the backup in S3: %s", out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	run("restore", dest, "--data-dir", restored)
	f := startIn(t, restored)
	for i, m := range manifests {
		out, err := f.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("bk/s3"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(fmt.Sprintf("v%d", i))}}})
		if err != nil || len(out.Images) != 1 || *out.Images[0].ImageManifest != m {
			t.Fatalf("image %d after the restore: %v", i, err)
		}
		if err := pullVerified(t, f.ecr, "bk/s3", digestOf([]byte(m))); err != nil {
			t.Fatalf("image %d's blobs after the restore: %v", i, err)
		}
	}
	// A blob taken from the bucket: verify says so, and fails.
	c, _ := s3.ParseURL(dest)
	st, err := s3.Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	st.Walk(ctx, func(o berth.StoredObject) error {
		if victim == "" {
			victim = o.Key
		}
		return nil
	})
	if err := st.Delete(ctx, victim); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "verify", dest).CombinedOutput()
	if err == nil || !strings.Contains(string(out), ": 1 problems") {
		t.Fatalf("verify of the damaged backup: %v\n%s", err, out)
	}
}
