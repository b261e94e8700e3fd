package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// ociStrict sends requests to the registry endpoint as a logged-in client.
type ociStrict struct {
	e  *env
	pw string
}

// do returns the status, the error code ("" unless the body is one error
// in the spec's format, with a message) and the Location.
func (o ociStrict) do(t *testing.T, method, path string, body []byte, hdr ...string) (status int, code, location string) {
	t.Helper()
	req := must[*http.Request](t)(http.NewRequest(method, o.e.url+path, bytes.NewReader(body)))
	req.SetBasicAuth("AWS", o.pw)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, b := o.e.raw(req)
	var eb struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(b, &eb) == nil && len(eb.Errors) == 1 && eb.Errors[0].Message != "" {
		code = eb.Errors[0].Code
	}
	return resp.StatusCode, code, resp.Header.Get("Location")
}

// TestOCIStrictReferences: every tag and digest the registry endpoint
// reads from a path or query is held to the distribution spec's grammar
// (tags of at most 128 characters; digests as go-digest parses them), and
// a malformed one is a 4xx in the spec's error format, never a 2xx or a
// 5xx.
func TestOCIStrictReferences(t *testing.T) {
	e := start(t)
	e.createRepo("strict")
	o := ociStrict{e, e.loginPassword()}
	m := e.pushImage("strict", "strict", 1).oci(nil)
	md := digestOf([]byte(m))
	ct := []string{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}
	short := "sha256:abc"
	upper := "sha256:" + strings.ToUpper(md[len("sha256:"):])
	long := md + "0"
	cases := []struct {
		name, method, path string
		body               []byte
		hdr                []string
		status             int
		code               string // "" for HEAD, which has no body
	}{
		{"put empty reference", "PUT", "/v2/strict/manifests/", []byte(m), ct, 400, "TAG_INVALID"},
		{"put 129-character tag", "PUT", "/v2/strict/manifests/" + strings.Repeat("a", 129), []byte(m), ct, 400, "TAG_INVALID"},
		{"put tag starting with '-'", "PUT", "/v2/strict/manifests/-v1", []byte(m), ct, 400, "TAG_INVALID"},
		{"put by digest with a 129-character ?tag=", "PUT", "/v2/strict/manifests/" + md + "?tag=" + strings.Repeat("b", 129), []byte(m), ct, 400, "TAG_INVALID"},
		{"put by short digest", "PUT", "/v2/strict/manifests/" + short, []byte(m), ct, 400, "DIGEST_INVALID"},
		{"put by uppercase digest", "PUT", "/v2/strict/manifests/" + upper, []byte(m), ct, 400, "DIGEST_INVALID"},
		{"get manifest by short digest", "GET", "/v2/strict/manifests/" + short, nil, nil, 400, "DIGEST_INVALID"},
		{"get manifest by digest with no encoding", "GET", "/v2/strict/manifests/sha256:", nil, nil, 400, "DIGEST_INVALID"},
		{"head manifest by long digest", "HEAD", "/v2/strict/manifests/" + long, nil, nil, 400, ""},
		{"delete manifest by short digest", "DELETE", "/v2/strict/manifests/" + short, nil, nil, 400, "DIGEST_INVALID"},
		{"get 129-character tag", "GET", "/v2/strict/manifests/" + strings.Repeat("a", 129), nil, nil, 404, "MANIFEST_UNKNOWN"},
		{"get blob by short digest", "GET", "/v2/strict/blobs/" + short, nil, nil, 400, "DIGEST_INVALID"},
		{"get blob by uppercase digest", "GET", "/v2/strict/blobs/" + upper, nil, nil, 400, "DIGEST_INVALID"},
		{"get blob by unsupported algorithm", "GET", "/v2/strict/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", nil, nil, 400, "DIGEST_INVALID"},
		{"get blob by non-digest", "GET", "/v2/strict/blobs/not-a-digest", nil, nil, 400, "DIGEST_INVALID"},
		{"head blob by short digest", "HEAD", "/v2/strict/blobs/" + short, nil, nil, 400, ""},
		{"delete blob by short digest", "DELETE", "/v2/strict/blobs/" + short, nil, nil, 400, "DIGEST_INVALID"},
		{"referrers of a non-digest", "GET", "/v2/strict/referrers/not-a-digest", nil, nil, 400, "DIGEST_INVALID"},
		{"referrers of a short digest", "GET", "/v2/strict/referrers/" + short, nil, nil, 400, "DIGEST_INVALID"},
		{"referrers of nothing", "GET", "/v2/strict/referrers/", nil, nil, 400, "DIGEST_INVALID"},
		{"referrers of a non-digest in a missing repository", "GET", "/v2/absent/referrers/not-a-digest", nil, nil, 400, "DIGEST_INVALID"},
		{"monolithic upload with a short digest", "POST", "/v2/strict/blobs/uploads/?digest=" + short, []byte("x"), nil, 400, "DIGEST_INVALID"},
		{"monolithic upload with an uppercase digest", "POST", "/v2/strict/blobs/uploads/?digest=" + strings.ToUpper(digestOf([]byte("x"))), []byte("x"), nil, 400, "DIGEST_INVALID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code, _ := o.do(t, c.method, c.path, c.body, c.hdr...)
			if status != c.status || code != c.code {
				t.Fatalf("%s %s: %d %q, want %d %q", c.method, c.path, status, code, c.status, c.code)
			}
		})
	}
	// None of the refused PUTs stored the manifest.
	if status, code, _ := o.do(t, "GET", "/v2/strict/manifests/"+md, nil); status != 404 || code != "MANIFEST_UNKNOWN" {
		t.Fatalf("after the refused PUTs, the manifest: %d %q", status, code)
	}
	t.Run("upload completed with a malformed digest", func(t *testing.T) {
		status, _, loc := o.do(t, "POST", "/v2/strict/blobs/uploads/", nil)
		if status != 202 || loc == "" {
			t.Fatalf("start: %d %q", status, loc)
		}
		for _, d := range []string{short, "not-a-digest", upper} {
			if status, code, _ := o.do(t, "PUT", loc+"?digest="+d, []byte("x")); status != 400 || code != "DIGEST_INVALID" {
				t.Fatalf("complete with %s: %d %q", d, status, code)
			}
		}
		// The upload is still there: a refused digest costs the client nothing.
		if status, code, _ := o.do(t, "PUT", loc+"?digest="+digestOf([]byte("x")), []byte("x")); status != 201 {
			t.Fatalf("complete: %d %q", status, code)
		}
	})
	// The spec lets a registry that cannot mount answer with an upload
	// session instead; a mount of a malformed digest is one it cannot do.
	t.Run("mount of a malformed digest starts an upload", func(t *testing.T) {
		for _, d := range []string{"not-a-digest", short} {
			status, code, loc := o.do(t, "POST", "/v2/strict/blobs/uploads/?from=strict&mount="+d, nil)
			if status != 202 || code != "" || !strings.HasPrefix(loc, "/v2/strict/blobs/uploads/") {
				t.Fatalf("mount %s: %d %q %q", d, status, code, loc)
			}
		}
	})
	// The limits are the spec's own: a 128-character tag is a tag.
	t.Run("128-character tag", func(t *testing.T) {
		tag := strings.Repeat("a", 128)
		if status, code, _ := o.do(t, "PUT", "/v2/strict/manifests/"+tag, []byte(m), ct...); status != 201 {
			t.Fatalf("put: %d %q", status, code)
		}
		if status, code, _ := o.do(t, "GET", "/v2/strict/manifests/"+tag, nil); status != 200 {
			t.Fatalf("get: %d %q", status, code)
		}
		if status, code, _ := o.do(t, "GET", "/v2/strict/referrers/"+md, nil); status != 200 {
			t.Fatalf("referrers: %d %q", status, code)
		}
	})
	if tags := e.tagsOf("strict", md); len(tags) != 1 || tags[0] != strings.Repeat("a", 128) {
		t.Fatalf("tags of the image: %v", tags)
	}
}

// TestStrictManifestBothDoors: a manifest with bytes after its object or
// a null where descriptors belong is refused through PutImage and the
// registry endpoint alike, as malformed JSON, and nothing is stored.
func TestStrictManifestBothDoors(t *testing.T) {
	e := start(t)
	e.createRepo("strict")
	o := ociStrict{e, e.loginPassword()}
	img := e.pushImage("strict", "doors", 1)
	good := img.oci(nil)
	ct := []string{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}
	cases := []struct{ name, manifest string }{
		{"trailing '}'", good + " }"},
		{"trailing ']'", good + "]"},
		{"layers null", img.oci(map[string]any{"layers": nil})},
		{"config null", img.oci(map[string]any{"config": nil})},
		{"subject null", img.oci(map[string]any{"subject": nil})},
		{"layers a string", img.oci(map[string]any{"layers": "none"})},
		{"index with manifests null", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.putImage("strict", c.manifest, "ecr")
			if api := wantError(t, err, "InvalidParameterException", 400); !strings.Contains(api.ErrorMessage(), "'Invalid JSON syntax'") {
				t.Fatalf("PutImage: %s", api.ErrorMessage())
			}
			if status, code, _ := o.do(t, "PUT", "/v2/strict/manifests/oci", []byte(c.manifest), ct...); status != 400 || code != "MANIFEST_INVALID" {
				t.Fatalf("registry endpoint: %d %q", status, code)
			}
		})
	}
	for _, tag := range []string{"ecr", "oci"} {
		if status, code, _ := o.do(t, "GET", "/v2/strict/manifests/"+tag, nil); status != 404 || code != "MANIFEST_UNKNOWN" {
			t.Fatalf("%s after the refusals: %d %q", tag, status, code)
		}
	}
	// Well formed, it goes in through both and is stored byte for byte,
	// trailing whitespace included.
	must[*ecr.PutImageOutput](t)(e.putImage("strict", good+"\n", "ecr"))
	if status, code, _ := o.do(t, "PUT", "/v2/strict/manifests/oci", []byte(good), ct...); status != 201 {
		t.Fatalf("registry endpoint: %d %q", status, code)
	}
	if got := out0(t, e, "strict", "ecr"); got != good+"\n" {
		t.Fatalf("stored %q", got)
	}
	if got := out0(t, e, "strict", "oci"); got != good {
		t.Fatalf("stored %q", got)
	}
}
