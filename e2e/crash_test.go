package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// buildBerth compiles the binary once per test run, into binDir, which
// TestMain removes at the end.
var buildBerth = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "berth-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "berth")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/berth").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// process is berth running as its own process.
type process struct {
	cmd *exec.Cmd
	url string
}

const crashKey, crashSecret = "BKIACRASHTEST0000000", "crash-test-secret"

func startProcess(t *testing.T, dir string, extra ...string) *process {
	t.Helper()
	bin, err := buildBerth()
	if err != nil {
		t.Fatal(err)
	}
	meta, blobs := backends(t, dir)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--public-addr=", "--data-dir", dir, "--registry-id", testRegistryID, "--metadata", meta, "--blobs", blobs}, extra...)...)
	cmd.Env = append(os.Environ(), "BERTH_ACCESS_KEY_ID="+crashKey, "BERTH_SECRET_ACCESS_KEY="+crashSecret)
	if os.Getenv("BERTH_E2E_SERVER_LOG") != "" {
		cmd.Stderr = os.Stderr
	}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("no banner: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("banner %q", line)
	}
	return &process{cmd: cmd, url: strings.TrimSpace(line[i:])}
}

// TestCrashConsistency kills berth with SIGKILL while clients push, then
// restarts it: every acknowledged push is there, and every tag and manifest
// points only at content that exists and has the right digest.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	acked := map[string]string{} // tag -> manifest digest
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		p := startProcess(t, dir)
		e := &env{t: t, url: p.url}
		e.ecr = e.client(crashKey, crashSecret)
		if round == 0 {
			e.createRepo("crash")
		}
		verify(t, &env{t: t, url: p.url, ecr: retryingClient(e)}, acked)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					tag := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					d, err := tryPush(e, tag)
					if err != nil {
						return // the server died mid-push
					}
					mu.Lock()
					acked[tag] = d
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(300+round*200) * time.Millisecond)
		p.cmd.Process.Kill()
		close(stop)
		wg.Wait()
		p.cmd.Wait()
	}
	p := startProcess(t, dir)
	defer func() { p.cmd.Process.Kill(); p.cmd.Wait() }()
	e := &env{t: t, url: p.url}
	e.ecr = retryingClient(e)
	n := verify(t, e, acked)
	if len(acked) == 0 || n < len(acked) {
		t.Fatalf("%d acknowledged pushes, %d tags found", len(acked), n)
	}
	t.Logf("%d acknowledged pushes survived 3 SIGKILLs", len(acked))
}

// retryingClient is an ECR client with the SDK's standard retries, for
// reading back after the crashes: the test is about what the store kept,
// and aws-sdk-go-v2 now and then loses a large response to a connection
// its own stack closed while reading (aws/aws-sdk-go-v2#2737: berth has
// sent the whole response and keeps the connection), which its standard
// retryer retries and NopRetryer does not.
func retryingClient(e *env) *ecr.Client {
	return ecr.NewFromConfig(aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(crashKey, crashSecret, ""),
		Retryer:     func() aws.Retryer { return retry.NewStandard() },
	}, func(o *ecr.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// tryPush pushes a small image under tag without failing the test.
func tryPush(e *env, tag string) (string, error) {
	var descs []descriptor
	for _, content := range []string{`{"tag":"` + tag + `"}`, "layer of " + tag} {
		data := []byte(content)
		up, err := e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("crash")})
		if err != nil {
			return "", err
		}
		if _, err := e.part("crash", *up.UploadId, 0, data); err != nil {
			return "", err
		}
		if _, err := e.complete("crash", *up.UploadId, digestOf(data)); err != nil {
			return "", err
		}
		descs = append(descs, descriptor{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: digestOf(data), Size: len(data)})
	}
	descs[0].MediaType = "application/vnd.docker.container.image.v1+json"
	m := image{config: descs[0], layers: descs[1:]}.docker()
	if _, err := e.putImage("crash", m, tag); err != nil {
		return "", err
	}
	return digestOf([]byte(m)), nil
}

// verify checks every acknowledged tag and every image's content; it
// returns the number of tags found.
func verify(t *testing.T, e *env, acked map[string]string) int {
	t.Helper()
	tags := map[string]string{}
	p := ecr.NewDescribeImagesPaginator(e.ecr, &ecr.DescribeImagesInput{RepositoryName: aws.String("crash")})
	for p.HasMorePages() {
		out := must[*ecr.DescribeImagesOutput](t)(p.NextPage(ctx))
		for _, d := range out.ImageDetails {
			for _, tag := range d.ImageTags {
				tags[tag] = *d.ImageDigest
			}
			img := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("crash"),
				ImageIds: []types.ImageIdentifier{{ImageDigest: d.ImageDigest}}})).Images[0]
			if digestOf([]byte(*img.ImageManifest)) != *d.ImageDigest {
				t.Fatalf("manifest bytes of %s do not match its digest", *d.ImageDigest)
			}
			var m struct {
				Config descriptor
				Layers []descriptor
			}
			json.Unmarshal([]byte(*img.ImageManifest), &m)
			for _, b := range append(m.Layers, m.Config) {
				u := must[*ecr.GetDownloadUrlForLayerOutput](t)(e.ecr.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("crash"), LayerDigest: &b.Digest}))
				resp, err := http.Get(*u.DownloadUrl)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				io.Copy(h, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || fmt.Sprintf("sha256:%x", h.Sum(nil)) != b.Digest {
					t.Fatalf("blob %s of %s: status %d, content does not match", b.Digest, *d.ImageDigest, resp.StatusCode)
				}
			}
		}
	}
	for tag, d := range acked {
		if tags[tag] != d {
			t.Fatalf("acknowledged push of %s (%s) is missing after a crash", tag, d)
		}
	}
	return len(tags)
}
