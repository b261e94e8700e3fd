package manifest

import (
	"strings"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/opencontainers/go-digest"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, manifest, mediaType string
		wantType                  string // "" means an error is expected
		wantBlobs, wantChildren   int
	}{
		{"docker", `{"schemaVersion":2,"mediaType":"` + DockerSchema2 + `","config":{"mediaType":"` + DockerConfig + `","digest":"` + d1 + `","size":1},"layers":[{"mediaType":"x/y","digest":"` + d2 + `","size":2}]}`, "", DockerSchema2, 2, 0},
		{"duplicate layer counted once", `{"schemaVersion":2,"mediaType":"` + DockerSchema2 + `","config":{"mediaType":"` + DockerConfig + `","digest":"` + d1 + `","size":1},"layers":[{"mediaType":"x/y","digest":"` + d2 + `","size":2},{"mediaType":"x/y","digest":"` + d2 + `","size":2}]}`, "", DockerSchema2, 2, 0},
		{"foreign layer skipped", `{"schemaVersion":2,"mediaType":"` + DockerSchema2 + `","config":{"mediaType":"` + DockerConfig + `","digest":"` + d1 + `","size":1},"layers":[{"mediaType":"` + DockerForeignLayer + `","digest":"` + d2 + `","size":2}]}`, "", DockerSchema2, 1, 0},
		{"oci from parameter", `{"schemaVersion":2,"config":{"mediaType":"` + OCIConfig + `","digest":"` + d1 + `","size":1},"layers":[]}`, OCIManifest, OCIManifest, 1, 0},
		{"index", `{"schemaVersion":2,"mediaType":"` + OCIIndex + `","manifests":[{"mediaType":"` + OCIManifest + `","digest":"` + d1 + `","size":1},{"mediaType":"` + OCIManifest + `","digest":"` + d1 + `","size":1}]}`, "", OCIIndex, 0, 1},
		{"schema1 inferred", `{"schemaVersion":1,"fsLayers":[{"blobSum":"` + d1 + `"}]}`, "", DockerSchema1, 1, 0},
		{"schema1 signed inferred", `{"schemaVersion":1,"fsLayers":[{"blobSum":"` + d1 + `"}],"signatures":[{}]}`, "", DockerSchema1Signed, 1, 0},
		{"no media type", `{"schemaVersion":2,"config":{"mediaType":"` + OCIConfig + `","digest":"` + d1 + `","size":1}}`, "", "", 0, 0},
		{"contradicting media type", `{"schemaVersion":2,"mediaType":"` + DockerSchema2 + `"}`, OCIManifest, "", 0, 0},
		{"unknown media type", `{"schemaVersion":2,"mediaType":"application/json"}`, "", "", 0, 0},
		{"schema 3", `{"schemaVersion":3,"mediaType":"` + OCIManifest + `"}`, "", "", 0, 0},
		{"no schemaVersion", `{"mediaType":"` + OCIManifest + `"}`, "", "", 0, 0},
		{"bad digest", `{"schemaVersion":2,"mediaType":"` + OCIManifest + `","config":{"mediaType":"` + OCIConfig + `","digest":"sha256:abc","size":1}}`, "", "", 0, 0},
		{"negative size", `{"schemaVersion":2,"mediaType":"` + OCIManifest + `","config":{"mediaType":"` + OCIConfig + `","digest":"` + d1 + `","size":-1}}`, "", "", 0, 0},
		{"config missing", `{"schemaVersion":2,"mediaType":"` + OCIManifest + `","layers":[]}`, "", "", 0, 0},
		{"index with layers", `{"schemaVersion":2,"mediaType":"` + OCIIndex + `","manifests":[],"layers":[]}`, "", "", 0, 0},
		{"manifest with manifests", `{"schemaVersion":2,"mediaType":"` + OCIManifest + `","config":{"mediaType":"` + OCIConfig + `","digest":"` + d1 + `","size":1},"manifests":[]}`, "", "", 0, 0},
		{"media type with parameters", `{"schemaVersion":2,"mediaType":"` + OCIManifest + `","config":{"mediaType":"a/b;x=y","digest":"` + d1 + `","size":1}}`, "", "", 0, 0},
		{"trailing data", `{"schemaVersion":2,"mediaType":"` + OCIIndex + `","manifests":[]} {}`, "", "", 0, 0},
		{"empty", ``, "", "", 0, 0},
		{"too large", `{"schemaVersion":2,"x":"` + strings.Repeat("a", MaxSize) + `"}`, "", "", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.manifest), c.mediaType)
			if c.wantType == "" {
				if err == nil || berth.ErrorCode(err) != berth.EInvalidParameter {
					t.Fatalf("want InvalidParameter, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != c.wantType || len(m.Blobs()) != c.wantBlobs || len(m.Children()) != c.wantChildren {
				t.Fatalf("got %s, %d blobs, %d children", m.MediaType, len(m.Blobs()), len(m.Children()))
			}
		})
	}
}

// TestParseStrictJSON: a manifest is exactly one JSON object, and the
// fields it nests descriptors in have their JSON type; encoding/json alone
// would take a trailing '}' or a null as nothing. Both are refused as ECR
// refuses malformed JSON, and what is accepted is left byte for byte as
// sent.
func TestParseStrictJSON(t *testing.T) {
	cfg := `"config":{"mediaType":"` + OCIConfig + `","digest":"` + d1 + `","size":1}`
	layer := `{"mediaType":"x/y","digest":"` + d2 + `","size":2}`
	child := `{"mediaType":"` + OCIManifest + `","digest":"` + d1 + `","size":1}`
	doc := func(mediaType, fields string) string {
		return `{"schemaVersion":2,"mediaType":"` + mediaType + `",` + fields + `}`
	}
	oci := func(fields string) string { return doc(OCIManifest, fields) }
	docker := func(fields string) string { return doc(DockerSchema2, fields) }
	idx := func(fields string) string { return doc(OCIIndex, fields) }
	refused := []struct{ name, manifest string }{
		{"trailing '}'", oci(cfg+`,"layers":[]`) + ` }`},
		{"trailing ']'", oci(cfg+`,"layers":[]`) + `]`},
		{"second object", oci(cfg+`,"layers":[]`) + `{}`},
		{"trailing word", oci(cfg+`,"layers":[]`) + ` null`},
		{"top-level null", `null`},
		{"top-level array", `[` + oci(cfg+`,"layers":[]`) + `]`},
		{"top-level string", `"` + OCIManifest + `"`},
		{"layers null", oci(cfg + `,"layers":null`)},
		{"layers null in docker", docker(cfg + `,"layers":null`)},
		{"layers object", oci(cfg + `,"layers":` + layer)},
		{"layers string", oci(cfg + `,"layers":"x"`)},
		{"layers number", oci(cfg + `,"layers":1`)},
		{"layers bool", oci(cfg + `,"layers":true`)},
		{"layer null", oci(cfg + `,"layers":[null]`)},
		{"layer string", oci(cfg + `,"layers":["` + d2 + `"]`)},
		{"config null", oci(`"config":null,"layers":[]`)},
		{"config array", oci(`"config":[],"layers":[]`)},
		{"config string", oci(`"config":"` + d1 + `","layers":[]`)},
		{"config number", oci(`"config":0,"layers":[]`)},
		{"subject null", oci(cfg + `,"layers":[],"subject":null`)},
		{"subject string", oci(cfg + `,"layers":[],"subject":"` + d1 + `"`)},
		{"subject bool", oci(cfg + `,"layers":[],"subject":false`)},
		{"manifests null in an index", idx(`"manifests":null`)},
		{"manifests null in a manifest", oci(cfg + `,"layers":[],"manifests":null`)},
		{"manifests object", idx(`"manifests":` + child)},
		{"manifests number", idx(`"manifests":2`)},
		{"manifest null", idx(`"manifests":[null]`)},
		{"layers null in an index", idx(`"manifests":[],"layers":null`)},
		{"config null in an index", idx(`"manifests":[],"config":null`)},
		{"null under another case", oci(cfg + `,"Layers":null`)},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.manifest), "")
			if berth.ErrorCode(err) != berth.EInvalidParameter || berth.ErrorMessage(err) != "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'" {
				t.Fatalf("want InvalidParameter 'Invalid JSON syntax', got %v", err)
			}
		})
	}
	accepted := []struct{ name, manifest, mediaType string }{
		{"trailing whitespace", oci(cfg+`,"layers":[`+layer+`]`) + " \n\t\r\n", ""},
		{"leading whitespace", "\n  " + oci(cfg+`,"layers":[]`), ""},
		{"layers empty", oci(cfg + `,"layers":[]`), ""},
		{"layers absent", oci(cfg), ""},
		{"layers empty in docker", docker(strings.Replace(cfg, OCIConfig, DockerConfig, 1) + `,"layers":[]`), ""},
		{"subject", oci(cfg + `,"layers":[],"subject":` + child), ""},
		{"index empty", idx(`"manifests":[]`), ""},
		{"index", idx(`"manifests":[` + child + `]`), ""},
		{"docker list", doc(DockerList, `"manifests":[`+child+`]`), ""},
		{"media type from the request", `{"schemaVersion":2,` + cfg + `,"layers":[` + layer + `]}`, OCIManifest},
		{"schema1 with a trailing newline", `{"schemaVersion":1,"fsLayers":[{"blobSum":"` + d1 + `"}]}` + "\n", ""},
	}
	for _, c := range accepted {
		t.Run(c.name, func(t *testing.T) {
			b := []byte(c.manifest)
			if _, err := Parse(b, c.mediaType); err != nil {
				t.Fatal(err)
			}
			if string(b) != c.manifest {
				t.Fatalf("Parse changed the bytes to %q", b)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	b := []byte("{}")
	if d, _ := Digest(b, ""); d != digest.FromBytes(b).String() {
		t.Fatal(d)
	}
	if d, _ := Digest(b, digest.SHA512.FromBytes(nil).String()); d != digest.SHA512.FromBytes(b).String() {
		t.Fatal(d)
	}
	if _, err := Digest(b, "md5:abc"); err == nil {
		t.Fatal("md5 accepted")
	}
}

// FuzzParse checks that no input panics and that anything accepted is
// internally consistent.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"`+OCIManifest+`","config":{"mediaType":"`+OCIConfig+`","digest":"`+d1+`","size":1},"layers":[]}`), "")
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"`+OCIIndex+`","manifests":[{"mediaType":"`+OCIManifest+`","digest":"`+d1+`","size":1}]}`), "")
	f.Add([]byte(`{"schemaVersion":1,"fsLayers":[{"blobSum":"`+d1+`"}]}`), DockerSchema1)
	f.Add([]byte(`{"schemaVersion":2}`), DockerSchema2)
	f.Fuzz(func(t *testing.T, b []byte, mediaType string) {
		m, err := Parse(b, mediaType)
		if err != nil {
			if berth.ErrorCode(err) != berth.EInvalidParameter {
				t.Fatalf("error with code %s: %v", berth.ErrorCode(err), err)
			}
			return
		}
		if !Known(m.MediaType) {
			t.Fatalf("accepted unknown media type %q", m.MediaType)
		}
		for _, r := range m.Blobs() {
			if _, err := digest.Parse(r.Digest); err != nil || r.Size < 0 {
				t.Fatalf("accepted bad blob %+v", r)
			}
		}
		if IsIndex(m.MediaType) != (m.Config == nil && len(m.Layers) == 0) && !IsIndex(m.MediaType) && m.MediaType != DockerSchema1 && m.MediaType != DockerSchema1Signed {
			t.Fatalf("image manifest without config: %+v", m)
		}
	})
}
