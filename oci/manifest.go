package oci

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
	"github.com/berth-registry/berth/registry"
)

// putManifest is PutImage: by tag, or by digest for untagged manifests.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request, rt route) error {
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
	in := registry.PutImageInput{Repository: rt.name, Manifest: body, MediaType: mediaType, Idempotent: true}
	if strings.Contains(rt.ref, ":") {
		in.Digest = rt.ref
		in.MoreTags = r.URL.Query()["tag"]
	} else {
		in.Tag = rt.ref
	}
	img, err := s.reg.PutImage(r.Context(), in)
	if err != nil {
		if berth.IsCode(err, berth.EInvalidParameter) && in.Digest != "" && registry.ValidDigest("digest", in.Digest) != nil {
			return errorf(http.StatusBadRequest, "DIGEST_INVALID", berth.ErrorMessage(err))
		}
		if berth.IsCode(err, berth.EInvalidParameter) && slices.ContainsFunc(append(in.MoreTags, in.Tag), func(t string) bool { return t != "" && registry.ValidTag(t) != nil }) {
			return errorf(http.StatusBadRequest, "TAG_INVALID", berth.ErrorMessage(err))
		}
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

// getManifest is BatchGetImage of one tag or digest; the bytes are the
// ones pushed.
func (s *Server) getManifest(w http.ResponseWriter, r *http.Request, rt route) error {
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

func (s *Server) deleteManifest(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := s.reg.DeleteManifest(r.Context(), rt.name, rt.ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
