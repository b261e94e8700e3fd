package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
)

// contenders is how many writers push at once in the contention tests.
const contenders = 64

// TestContention has 64 writers push into one repository at once, half
// through the registry API and half through ECR PutImage: distinct tags,
// then one shared tag on a MUTABLE repository, then one shared tag on an
// IMMUTABLE one, then into repositories that their first pushes create.
// No answer may be a server error, an IMMUTABLE tag has exactly one
// winner, and every acknowledged image is there afterwards, with the same
// tags through ListImages, DescribeImages and the registry API.
func TestContention(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	runContention(t, []*env{e})
}

// TestReplicasContention is TestContention with the writers spread over
// two replicas of one PostgreSQL database and one bucket.
func TestReplicasContention(t *testing.T) {
	a, b := replicasWith(t, func(c *serverConfig) { c.CreateOnPush = true })
	runContention(t, []*env{a, b})
}

// contention is one run of writers against one or more replicas.
type contention struct {
	t      *testing.T
	envs   []*env
	pw     []string // a registry password per replica
	client *http.Client
	img    image // a config and a layer, pushed to "contention/distinct"

	mu     sync.Mutex
	status map[int]int         // HTTP status -> count, over every push
	acked  map[string][]string // repository -> digests acknowledged
	blobs  map[string][]byte   // the shared blobs' bytes, by digest
}

// outcome is one writer's answer: its HTTP status and, for a refusal,
// the error code (ECR __type or OCI code).
type outcome struct {
	status int
	code   string
}

func runContention(t *testing.T, envs []*env) {
	c := &contention{t: t, envs: envs, status: map[int]int{}, acked: map[string][]string{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: contenders}}}
	for _, e := range envs {
		c.pw = append(c.pw, e.loginPassword())
	}
	e := envs[0]
	e.createRepo("contention/distinct")
	c.img = e.pushImage("contention/distinct", "contention", 1)

	// Each step reports through its own subtest.
	step := func(name string, fn func(t *testing.T)) {
		t.Run(name, func(st *testing.T) {
			c.t = st
			defer func() { c.t = t }()
			fn(st)
		})
	}
	step("distinct tags", func(t *testing.T) {
		const perWriter = 4
		outs := c.race("contention/distinct", func(w int) []push {
			var ps []push
			for k := 0; k < perWriter; k++ {
				n := w*perWriter + k
				ps = append(ps, push{manifest: c.manifest(n), tag: fmt.Sprintf("t%03d", n)})
			}
			return ps
		})
		for _, o := range outs {
			if o.status >= 300 {
				t.Errorf("a push of a distinct tag was refused: %+v", o)
			}
		}
		c.consistent("contention/distinct", contenders*perWriter)
	})

	for _, m := range []types.ImageTagMutability{types.ImageTagMutabilityMutable, types.ImageTagMutabilityImmutable} {
		step("one shared tag, "+string(m), func(t *testing.T) {
			repo := "contention/" + strings.ToLower(string(m))
			e.createRepo(repo, func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = m })
			// The layers are in the repository before the race, by mount.
			for _, d := range []descriptor{c.img.config, c.img.layers[0]} {
				resp := c.do(0, "POST", "/v2/"+repo+"/blobs/uploads/?mount="+d.Digest+"&from=contention/distinct", nil)
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("mount: %d", resp.StatusCode)
				}
			}
			outs := c.race(repo, func(w int) []push {
				return []push{{manifest: c.manifest(1000 + w), tag: "shared"}}
			})
			wins := 0
			for _, o := range outs {
				switch {
				case o.status < 300:
					wins++
				case m == types.ImageTagMutabilityImmutable && (o.code == "ImageTagAlreadyExistsException" || o.code == "TAG_INVALID"):
				default:
					t.Errorf("unexpected answer %+v", o)
				}
			}
			want, images := contenders, contenders
			if m == types.ImageTagMutabilityImmutable {
				want, images = 1, 1
			}
			if wins != want {
				t.Fatalf("%d pushes won the tag, want %d", wins, want)
			}
			c.consistent(repo, images)
		})
	}

	step("repositories created on push", func(t *testing.T) {
		const repos = 8
		outs := c.race("", func(w int) []push {
			repo := fmt.Sprintf("contention/new-%d", w%repos)
			return []push{{repo: repo, blobs: true, manifest: c.manifest(2000 + w), tag: fmt.Sprintf("w%02d", w)}}
		})
		for _, o := range outs {
			if o.status >= 300 {
				t.Errorf("a push into a repository created on push was refused: %+v", o)
			}
		}
		for i := 0; i < repos; i++ {
			c.consistent(fmt.Sprintf("contention/new-%d", i), contenders/repos)
		}
	})

	var statuses []string
	for s, n := range c.status {
		statuses = append(statuses, fmt.Sprintf("%d×%d", n, s))
		if s >= 500 {
			t.Errorf("%d answers with status %d", n, s)
		}
	}
	sort.Strings(statuses)
	t.Logf("answers: %s", strings.Join(statuses, ", "))
}

// push is one writer's step: optionally upload the image's blobs into
// repo first (creating it on push), then put manifest under tag.
type push struct {
	repo     string
	blobs    bool
	manifest string
	tag      string
}

// manifest is a distinct OCI image manifest over the shared blobs.
func (c *contention) manifest(n int) string {
	return c.img.oci(map[string]any{"annotations": map[string]string{"test.berth/n": fmt.Sprint(n)}})
}

// race runs the writers at once and returns every answer. Writer w talks
// to replica w mod len(envs), through the registry API when w is even and
// through ECR PutImage when it is odd.
func (c *contention) race(repo string, steps func(w int) []push) []outcome {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var outs []outcome
	start := make(chan struct{})
	for w := 0; w < contenders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for _, p := range steps(w) {
				if p.repo == "" {
					p.repo = repo
				}
				o := c.push(w, p)
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return outs
}

func (c *contention) push(w int, p push) outcome {
	replica := w % len(c.envs)
	e := c.envs[replica]
	if p.blobs {
		for _, d := range []descriptor{c.img.config, c.img.layers[0]} {
			if o := c.pushBlob(w, p.repo, d); o.status >= 300 && o.code != "LayerAlreadyExistsException" {
				return o
			}
		}
	}
	var o outcome
	if w%2 == 0 {
		resp := c.do(replica, "PUT", "/v2/"+p.repo+"/manifests/"+p.tag, []byte(p.manifest), "Content-Type", "application/vnd.oci.image.manifest.v1+json")
		o = outcome{status: resp.StatusCode, code: ociCode(resp)}
	} else {
		_, err := e.putImage(p.repo, p.manifest, p.tag)
		o = ecrOutcome(err)
	}
	c.record(o)
	if o.status < 300 {
		c.mu.Lock()
		c.acked[p.repo] = append(c.acked[p.repo], digestOf([]byte(p.manifest)))
		c.mu.Unlock()
	}
	return o
}

// pushBlob uploads one of the shared blobs into repo: monolithically
// through the registry API, or with the ECR layer calls.
func (c *contention) pushBlob(w int, repo string, d descriptor) outcome {
	replica := w % len(c.envs)
	data := c.blobBytes(d)
	var o outcome
	if w%2 == 0 {
		resp := c.do(replica, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+d.Digest, data, "Content-Type", "application/octet-stream")
		o = outcome{status: resp.StatusCode, code: ociCode(resp)}
	} else {
		e := c.envs[replica]
		up, err := e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: &repo})
		if err == nil {
			_, err = e.part(repo, *up.UploadId, 0, data)
		}
		if err == nil {
			_, err = e.complete(repo, *up.UploadId, d.Digest)
		}
		o = ecrOutcome(err)
	}
	c.record(o)
	return o
}

// blobBytes reads a shared blob back from the repository it was pushed to.
func (c *contention) blobBytes(d descriptor) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blobs == nil {
		c.blobs = map[string][]byte{}
	}
	if b, ok := c.blobs[d.Digest]; ok {
		return b
	}
	resp := c.do(0, "GET", "/v2/contention/distinct/blobs/"+d.Digest, nil)
	b := readAll(resp)
	c.blobs[d.Digest] = b
	return b
}

func (c *contention) record(o outcome) {
	c.mu.Lock()
	c.status[o.status]++
	c.mu.Unlock()
}

// do sends a registry API request to a replica with its password.
func (c *contention) do(replica int, method, path string, body []byte, hdr ...string) *http.Response {
	req, err := http.NewRequest(method, c.envs[replica].url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth("AWS", c.pw[replica])
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return &http.Response{StatusCode: 599, Body: http.NoBody}
	}
	return resp
}

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return buf.Bytes()
}

// ociCode is the first error code of a registry API answer, or "".
func ociCode(resp *http.Response) string {
	body := readAll(resp)
	var v struct{ Errors []struct{ Code string } }
	if json.Unmarshal(body, &v) == nil && len(v.Errors) > 0 {
		return v.Errors[0].Code
	}
	return ""
}

func ecrOutcome(err error) outcome {
	if err == nil {
		return outcome{status: 200}
	}
	o := outcome{status: 599, code: err.Error()}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		o.status = re.HTTPStatusCode()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		o.code = api.ErrorCode()
	}
	return o
}

// consistent checks that repo holds every image acknowledged into it,
// that it holds images images in all, and that ListImages, DescribeImages
// and the registry API (tags list, manifest by tag) agree on every tag;
// each read goes to the next replica.
func (c *contention) consistent(repo string, images int) {
	t := c.t
	t.Helper()
	e := c.envs[len(c.envs)-1]
	listed := map[string]string{} // tag -> digest
	digests := map[string]bool{}
	for p := ecr.NewListImagesPaginator(e.ecr, &ecr.ListImagesInput{RepositoryName: &repo, MaxResults: aws.Int32(100)}); p.HasMorePages(); {
		page := must[*ecr.ListImagesOutput](t)(p.NextPage(ctx))
		for _, id := range page.ImageIds {
			digests[*id.ImageDigest] = true
			if id.ImageTag != nil {
				listed[*id.ImageTag] = *id.ImageDigest
			}
		}
	}
	described := map[string]string{}
	n := 0
	for p := ecr.NewDescribeImagesPaginator(c.envs[0].ecr, &ecr.DescribeImagesInput{RepositoryName: &repo, MaxResults: aws.Int32(100)}); p.HasMorePages(); {
		page := must[*ecr.DescribeImagesOutput](t)(p.NextPage(ctx))
		for _, d := range page.ImageDetails {
			n++
			for _, tag := range d.ImageTags {
				described[tag] = *d.ImageDigest
			}
		}
	}
	if n != images || len(digests) != images {
		t.Errorf("%s: DescribeImages shows %d images, ListImages %d, want %d", repo, n, len(digests), images)
	}
	c.mu.Lock()
	acked := slices.Clone(c.acked[repo])
	c.mu.Unlock()
	for _, d := range acked {
		if !digests[d] {
			t.Errorf("%s: acknowledged image %s is missing", repo, d)
		}
	}
	var tagList struct{ Tags []string }
	resp := c.do(0, "GET", "/v2/"+repo+"/tags/list?n=10000", nil)
	if err := json.Unmarshal(readAll(resp), &tagList); err != nil {
		t.Fatalf("%s: tags list: %v", repo, err)
	}
	if len(tagList.Tags) != len(listed) || len(described) != len(listed) {
		t.Errorf("%s: %d tags through the registry API, %d through ListImages, %d through DescribeImages", repo, len(tagList.Tags), len(listed), len(described))
	}
	for i, tag := range tagList.Tags {
		replica := i % len(c.envs)
		resp := c.do(replica, "HEAD", "/v2/"+repo+"/manifests/"+tag, nil, "Accept", "application/vnd.oci.image.manifest.v1+json")
		resp.Body.Close()
		got := resp.Header.Get("Docker-Content-Digest")
		if got != listed[tag] || got != described[tag] {
			t.Errorf("%s: tag %s is %s through the registry API, %s through ListImages, %s through DescribeImages", repo, tag, got, listed[tag], described[tag])
		}
	}
}
