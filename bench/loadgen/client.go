package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

var httpClient = &http.Client{Transport: &http.Transport{
	MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true,
	WriteBufferSize: 1 << 20, ReadBufferSize: 1 << 20,
}, CheckRedirect: func(req *http.Request, via []*http.Request) error {
	// A redirect to a presigned URL elsewhere carries its own
	// authorization: Go would forward the registry's (same host name,
	// another port), and S3 refuses a request with two.
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}}

// pool is one large random buffer; blobs are slices of it made unique by
// their first eight bytes.
var pool []byte

func initPool(size int) {
	pool = make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(pool); i += 8 {
		binary.LittleEndian.PutUint64(pool[i:], r.Uint64())
	}
}

var blobSeq uint64

// blob is content to push, with its digest computed before any timing.
type blob struct {
	data   []byte
	digest string
}

func newBlob(size int) blob {
	blobSeq++
	b := make([]byte, size)
	copy(b, pool[:size])
	if size >= 8 {
		binary.LittleEndian.PutUint64(b, blobSeq^uint64(time.Now().UnixNano()))
	}
	sum := sha256.Sum256(b)
	return blob{data: b, digest: "sha256:" + hex.EncodeToString(sum[:])}
}

func (t *target) request(method, path string, body io.Reader, size int64, hdr ...string) (*http.Response, error) {
	u := path
	if !strings.HasPrefix(path, "http") {
		u = t.base() + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	switch {
	case t.bearer != "":
		req.Header.Set("Authorization", "Bearer "+t.bearer)
	case t.user != "":
		req.SetBasicAuth(t.user, t.password)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return httpClient.Do(req)
}

// expect checks a response: expect(t.request(…))(status, what).
func expect(resp *http.Response, err error) func(status int, what string) (*http.Response, error) {
	return func(status int, what string) (*http.Response, error) { return check(resp, err, status, what) }
}

func check(resp *http.Response, err error, status int, what string) (*http.Response, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != status {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: status %d, want %d: %s", what, resp.StatusCode, status, b)
	}
	return resp, nil
}

func drain(resp *http.Response) {
	discard(resp.Body)
	resp.Body.Close()
}

// discard reads r to its end in 1 MiB reads. io.Copy to io.Discard would
// read 8 KiB at a time: on two cores the client's own reads then bound a
// large pull, and both registries measure the load generator instead.
func discard(r io.Reader) (int64, error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{io.Discard}, r, *bp)
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// location resolves an upload Location header against the target.
func (t *target) location(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if strings.HasPrefix(loc, "http") {
		return loc
	}
	return t.base() + loc
}

func withQuery(loc, key, value string) string {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return loc + sep + key + "=" + url.QueryEscape(value)
}

// pushMonolithic pushes a blob as POST then PUT with the whole body.
func (t *target) pushMonolithic(repo string, b blob) error {
	resp, err := expect(t.request("POST", "/v2/"+repo+"/blobs/uploads/", nil, 0))(202, "start upload")
	if err != nil {
		return err
	}
	drain(resp)
	resp, err = expect(t.request("PUT", withQuery(t.location(resp), "digest", b.digest), bytes.NewReader(b.data), int64(len(b.data)),
		"Content-Type", "application/octet-stream"))(201, "put blob")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// pushChunked pushes a blob in PATCHes of chunk bytes, then a PUT.
func (t *target) pushChunked(repo string, b blob, chunk int) error {
	resp, err := expect(t.request("POST", "/v2/"+repo+"/blobs/uploads/", nil, 0))(202, "start upload")
	if err != nil {
		return err
	}
	drain(resp)
	loc := t.location(resp)
	for off := 0; off < len(b.data); off += chunk {
		end := min(off+chunk, len(b.data))
		resp, err = expect(t.request("PATCH", loc, bytes.NewReader(b.data[off:end]), int64(end-off),
			"Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("%d-%d", off, end-1)))(202, "patch")
		if err != nil {
			return err
		}
		drain(resp)
		loc = t.location(resp)
	}
	resp, err = expect(t.request("PUT", withQuery(loc, "digest", b.digest), nil, 0))(201, "finish upload")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func (t *target) pull(repo, digest string) (int64, error) {
	resp, err := expect(t.request("GET", "/v2/"+repo+"/blobs/"+digest, nil, -1))(200, "get blob")
	if err != nil {
		return 0, err
	}
	n, err := discard(resp.Body)
	resp.Body.Close()
	return n, err
}

const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// smallImage is a config and a layer already pushed, to make manifests of.
type smallImage struct{ config, layer blob }

func (img smallImage) manifest(n int) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}],"annotations":{"n":"%d"}}`,
		mtManifest, mtConfig, img.config.digest, len(img.config.data), mtLayer, img.layer.digest, len(img.layer.data), n))
}

func (t *target) putManifest(repo, ref string, m []byte) error {
	resp, err := expect(t.request("PUT", "/v2/"+repo+"/manifests/"+ref, bytes.NewReader(m), int64(len(m)), "Content-Type", mtManifest))(201, "put manifest")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func (t *target) getManifest(repo, ref string) error {
	resp, err := expect(t.request("GET", "/v2/"+repo+"/manifests/"+ref, nil, -1, "Accept", mtManifest))(200, "get manifest")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

func (t *target) tagsPage(repo string, n int, last string) error {
	path := fmt.Sprintf("/v2/%s/tags/list?n=%d", repo, n)
	if last != "" {
		path += "&last=" + url.QueryEscape(last)
	}
	resp, err := expect(t.request("GET", path, nil, -1))(200, "tags list")
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}
