// Package manifest parses and validates every manifest media type berth
// accepts (Docker schema 1 and 2, Docker manifest lists, OCI manifests and
// indexes) and extracts what the registry must check and record: the blobs
// an image needs, the manifests an index names, the subject, the artifact
// type and the image size.
package manifest

import (
	"bytes"
	_ "crypto/sha512" // makes sha512 digests available to go-digest
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/opencontainers/go-digest"
)

// Media types.
const (
	DockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	DockerSchema2       = "application/vnd.docker.distribution.manifest.v2+json"
	DockerList          = "application/vnd.docker.distribution.manifest.list.v2+json"
	OCIManifest         = "application/vnd.oci.image.manifest.v1+json"
	OCIIndex            = "application/vnd.oci.image.index.v1+json"
	DockerConfig        = "application/vnd.docker.container.image.v1+json"
	OCIConfig           = "application/vnd.oci.image.config.v1+json"
	OCIEmpty            = "application/vnd.oci.empty.v1+json"
	DockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	ociNonDistributable = "application/vnd.oci.image.layer.nondistributable."
)

// MaxSize is the largest manifest accepted, ECR's 4 MiB.
const MaxSize = 4 << 20

// Known reports whether mediaType is a manifest media type berth stores.
func Known(mediaType string) bool {
	switch mediaType {
	case DockerSchema1, DockerSchema1Signed, DockerSchema2, DockerList, OCIManifest, OCIIndex:
		return true
	}
	return false
}

// IsIndex reports whether mediaType names a list of manifests.
func IsIndex(mediaType string) bool { return mediaType == DockerList || mediaType == OCIIndex }

// Foreign reports whether a layer of this media type is never uploaded
// (Windows foreign layers, OCI non-distributable layers).
func Foreign(mediaType string) bool {
	return mediaType == DockerForeignLayer || strings.HasPrefix(mediaType, ociNonDistributable)
}

// Descriptor is a content descriptor as manifests carry it.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     json.RawMessage   `json:"platform,omitempty"`
}

// wire is the union of every manifest format's top-level fields.
type wire struct {
	SchemaVersion *int         `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	ArtifactType  string       `json:"artifactType"`
	Config        *Descriptor  `json:"config"`
	Layers        []Descriptor `json:"layers"`
	Manifests     []Descriptor `json:"manifests"`
	Subject       *Descriptor  `json:"subject"`
	FSLayers      []struct {
		BlobSum string `json:"blobSum"`
	} `json:"fsLayers"`
	Signatures json.RawMessage `json:"signatures"`
}

// Manifest is a parsed, validated manifest.
type Manifest struct {
	MediaType string
	// ArtifactType is artifactType if set, else the config media type.
	ArtifactType string
	Config       *Descriptor
	Layers       []Descriptor
	Manifests    []Descriptor
	Subject      *Descriptor
}

// Blobs returns the blobs the manifest needs uploaded first: the config
// and every distributable layer, each once.
func (m *Manifest) Blobs() []berth.BlobRef {
	var out []berth.BlobRef
	seen := map[string]bool{}
	add := func(d Descriptor) {
		if !seen[d.Digest] && !Foreign(d.MediaType) {
			seen[d.Digest] = true
			out = append(out, berth.BlobRef{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType})
		}
	}
	if m.Config != nil {
		add(*m.Config)
	}
	for _, l := range m.Layers {
		add(l)
	}
	return out
}

// Children returns the digests of the manifests an index names, each once.
func (m *Manifest) Children() []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range m.Manifests {
		if !seen[d.Digest] {
			seen[d.Digest] = true
			out = append(out, d.Digest)
		}
	}
	return out
}

// ImageSize is ECR's imageSizeInBytes for an image manifest: the config
// plus every distributable layer, as stored (compressed).
func (m *Manifest) ImageSize() int64 {
	var n int64
	for _, b := range m.Blobs() {
		n += b.Size
	}
	return n
}

// invalidManifest is ECR's answer to a manifest it cannot read; the text is
// the one AWS sends, misleading as it is, so that scripts matching it work.
func invalidManifest(detail string) error {
	return &berth.Error{Code: berth.EInvalidParameter,
		Message: "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
		Err:     fmt.Errorf("%s", detail)}
}

func invalid(format string, args ...any) error {
	return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'ImageManifest' failed to satisfy constraint: '"+format+"'", args...)
}

// Parse validates manifest bytes. mediaType is the media type the client
// declared outside the manifest ("" if none); it must agree with the
// manifest's own mediaType field when both are present.
func Parse(b []byte, mediaType string) (*Manifest, error) {
	if len(b) == 0 {
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length greater than or equal to 1'")
	}
	if len(b) > MaxSize {
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length less than or equal to %d'; the manifest is %d bytes", MaxSize, len(b))
	}
	var w wire
	if err := decode(b, &w); err != nil {
		return nil, err
	}
	if w.SchemaVersion == nil {
		return nil, invalid("schemaVersion is required")
	}
	mt := w.MediaType
	switch {
	case mt != "" && mediaType != "" && mt != mediaType:
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'must match the mediaType %q of the manifest', got %q", mt, mediaType)
	case mt == "":
		mt = mediaType
	}
	if *w.SchemaVersion == 1 {
		return parseSchema1(&w, mt)
	}
	if *w.SchemaVersion != 2 {
		return nil, invalid("schemaVersion %d is not supported; use 2", *w.SchemaVersion)
	}
	if mt == "" {
		// ECR requires a media type for schema 2 manifests and says so with
		// this (real) message.
		return nil, invalidManifest("no mediaType in the manifest and no imageManifestMediaType")
	}
	if !Known(mt) {
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'unsupported manifest media type %q'", mt)
	}
	m := &Manifest{MediaType: mt, ArtifactType: w.ArtifactType, Subject: w.Subject}
	if err := checkMediaType("artifactType", w.ArtifactType, false); err != nil {
		return nil, err
	}
	if w.Subject != nil {
		if err := checkDescriptor("subject", *w.Subject); err != nil {
			return nil, err
		}
	}
	if IsIndex(mt) {
		if w.Config != nil || w.Layers != nil {
			return nil, invalid("an index has manifests, not config or layers")
		}
		if w.Manifests == nil {
			return nil, invalid("manifests is required in %s", mt)
		}
		for i, d := range w.Manifests {
			if err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), d); err != nil {
				return nil, err
			}
		}
		m.Manifests = w.Manifests
		return m, nil
	}
	if w.Manifests != nil {
		return nil, invalid("an image manifest has config and layers, not manifests")
	}
	if w.Config == nil {
		return nil, invalid("config is required in %s", mt)
	}
	if err := checkDescriptor("config", *w.Config); err != nil {
		return nil, err
	}
	if w.Layers == nil && mt == DockerSchema2 {
		return nil, invalid("layers is required in %s", mt)
	}
	for i, d := range w.Layers {
		if err := checkDescriptor(fmt.Sprintf("layers[%d]", i), d); err != nil {
			return nil, err
		}
	}
	m.Config, m.Layers = w.Config, w.Layers
	if m.ArtifactType == "" {
		m.ArtifactType = w.Config.MediaType
	}
	return m, nil
}

// decode reads b, which must be exactly one JSON object (json.Unmarshal
// refuses anything but whitespace after it), into w. encoding/json reads a
// null as absent, so the fields descriptors sit in are checked for their
// JSON type themselves: a null there is a malformed manifest, not a
// missing field.
func decode(b []byte, w *wire) error {
	if err := json.Unmarshal(b, w); err != nil {
		return invalidManifest(err.Error())
	}
	if bytes.TrimLeft(b, " \t\r\n")[0] != '{' {
		return invalidManifest("a manifest is a JSON object")
	}
	var shape struct {
		Config, Subject, Layers, Manifests json.RawMessage
	}
	if err := json.Unmarshal(b, &shape); err != nil {
		return invalidManifest(err.Error())
	}
	for _, err := range []error{checkObject("config", shape.Config), checkObject("subject", shape.Subject),
		checkList("layers", shape.Layers), checkList("manifests", shape.Manifests)} {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkObject refuses a field that is present but not a JSON object.
func checkObject(name string, raw json.RawMessage) error {
	if raw != nil && raw[0] != '{' {
		return invalidManifest(name + " must be a JSON object")
	}
	return nil
}

// checkList refuses a field that is present but not a JSON array of
// objects.
func checkList(name string, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return invalidManifest(name + " must be a JSON array")
	}
	for i, item := range items {
		if err := checkObject(fmt.Sprintf("%s[%d]", name, i), item); err != nil {
			return err
		}
	}
	return nil
}

func parseSchema1(w *wire, mt string) (*Manifest, error) {
	if mt == "" {
		mt = DockerSchema1
		if len(w.Signatures) > 0 {
			mt = DockerSchema1Signed
		}
	}
	if mt != DockerSchema1 && mt != DockerSchema1Signed {
		return nil, invalid("schemaVersion 1 needs media type %s or %s, not %s", DockerSchema1, DockerSchema1Signed, mt)
	}
	if len(w.FSLayers) == 0 {
		return nil, invalid("fsLayers is required in a schema 1 manifest")
	}
	m := &Manifest{MediaType: mt}
	for i, l := range w.FSLayers {
		if _, err := digest.Parse(l.BlobSum); err != nil {
			return nil, invalid("fsLayers[%d].blobSum %q is not a valid digest", i, l.BlobSum)
		}
		m.Layers = append(m.Layers, Descriptor{Digest: l.BlobSum, MediaType: "application/vnd.docker.container.image.rootfs.diff+x-gtar"})
	}
	return m, nil
}

func checkDescriptor(field string, d Descriptor) error {
	if _, err := digest.Parse(d.Digest); err != nil {
		return invalid("%s.digest %q is not a valid digest (algorithm:hex, e.g. sha256:<64 hex>)", field, d.Digest)
	}
	if d.Size < 0 {
		return invalid("%s.size must not be negative", field)
	}
	if err := checkMediaType(field+".mediaType", d.MediaType, true); err != nil {
		return err
	}
	return checkMediaType(field+".artifactType", d.ArtifactType, false)
}

// checkMediaType enforces RFC 6838 shape; ECR rejects parameters (';').
func checkMediaType(field, mt string, required bool) error {
	if mt == "" {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if strings.Contains(mt, ";") {
		return invalid("%s %q must not have parameters (';')", field, mt)
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" || len(mt) > 255 || strings.ContainsAny(mt, " \t\"\\,") {
		return invalid("%s %q is not a media type (type/subtype)", field, mt)
	}
	return nil
}

// Digest returns the digest of manifest bytes under the algorithm of want
// ("" or any sha256 digest: sha256), or an error if the algorithm is not
// available.
func Digest(b []byte, want string) (string, error) {
	alg := digest.SHA256
	if want != "" {
		d, err := digest.Parse(want)
		if err != nil {
			return "", berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'must be a digest such as sha256:<64 hex digits>', got %q", want)
		}
		alg = d.Algorithm()
	}
	if !alg.Available() {
		return "", berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'the digest algorithm %s is not supported; use sha256 or sha512'", alg)
	}
	return alg.FromBytes(b).String(), nil
}

// Annotations returns the top-level annotations of manifest bytes, or nil.
func Annotations(b []byte) map[string]string {
	var w struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.Unmarshal(b, &w) != nil {
		return nil
	}
	return w.Annotations
}
