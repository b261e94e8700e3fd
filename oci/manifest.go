package oci

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
	"github.com/berth-registry/berth/registry"
)

// putManifest is PutImage: by tag, or by digest for untagged manifests.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	tag, dgst, moreTags, err := putReference(r, rt)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, manifest.MaxSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "SIZE_INVALID", "the manifest is larger than 4 MiB, the most ECR accepts")
		}
		return errorf(http.StatusBadRequest, "MANIFEST_INVALID", "the manifest could not be read: "+err.Error())
	}
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	mediaType = strings.TrimSpace(mediaType)
	if !manifest.Known(mediaType) {
		mediaType = "" // the manifest's own mediaType field decides
	}
	in := registry.PutImageInput{Repository: rt.name, Manifest: body, MediaType: mediaType, Idempotent: true,
		Tag: tag, Digest: dgst, MoreTags: moreTags}
	img, err := s.reg.PutImage(r.Context(), in)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", "/v2/"+rt.name+"/manifests/"+img.Digest)
	h.Set("Docker-Content-Digest", img.Digest)
	if img.Subject != "" {
		h.Set("OCI-Subject", img.Subject)
	}
	if len(in.MoreTags) > 0 {
		h.Set("OCI-Tag", strings.Join(img.Tags, ","))
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// putReference reads what a manifest PUT names: a tag, or a digest and
// the tags of its ?tag= parameters. The spec's grammar applies, so an empty
// reference is not an untagged push and a tag ECR would take (up to 300
// characters) but the spec would not is refused.
func putReference(r *http.Request, rt route) (tag, dgst string, moreTags []string, err error) {
	if !isDigestRef(rt.ref) {
		return rt.ref, "", nil, checkTag(rt.ref)
	}
	if err := checkDigest(rt.ref); err != nil {
		return "", "", nil, err
	}
	moreTags = r.URL.Query()["tag"]
	for _, t := range moreTags {
		if err := checkTag(t); err != nil {
			return "", "", nil, err
		}
	}
	return "", rt.ref, moreTags, nil
}

// getManifest is BatchGetImage of one tag or digest; the bytes are the
// ones pushed.
func (s *Server) getManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := checkManifestDigest(rt.ref); err != nil {
		return err
	}
	img, err := s.reg.GetImage(r.Context(), rt.name, rt.ref)
	if err != nil {
		if berth.IsCode(err, berth.EInvalidParameter) {
			return errorf(http.StatusNotFound, "MANIFEST_UNKNOWN", berth.ErrorMessage(err))
		}
		return err
	}
	h := w.Header()
	h.Set("Content-Type", img.MediaType)
	h.Set("Docker-Content-Digest", img.Digest)
	h.Set("ETag", `"`+img.Digest+`"`)
	h.Set("Content-Length", strconv.Itoa(len(img.Bytes)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(img.Bytes)
	}
	return nil
}

// checkManifestDigest refuses a malformed digest where a GET or DELETE
// names a manifest by digest. Tags are left to the core: one ECR created
// may be longer than the spec's, and one that cannot exist is unknown.
func checkManifestDigest(ref string) error {
	if isDigestRef(ref) {
		return checkDigest(ref)
	}
	return nil
}

func (s *Server) deleteManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := checkManifestDigest(rt.ref); err != nil {
		return err
	}
	if err := s.reg.DeleteManifest(r.Context(), rt.name, rt.ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
