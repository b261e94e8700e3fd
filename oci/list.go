package oci

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
)

// Page sizes of tags/list and _catalog: the default when the client gives
// no n, and the most one page holds.
const (
	defaultPage = 1000
	maxPage     = 10000
)

// pageParams reads n and last.
func pageParams(r *http.Request) (int, string, error) {
	q := r.URL.Query()
	n := defaultPage
	if v := q.Get("n"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return 0, "", errorf(http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "n must be a number of 0 or more, got "+v)
		}
		n = min(i, maxPage)
	}
	return n, q.Get("last"), nil
}

// writePage writes a page and, when there is more, a Link to the next one.
func writePage(w http.ResponseWriter, path string, n int, next string, body any) {
	if next != "" {
		w.Header().Set("Link", "<"+path+"?"+url.Values{"n": {strconv.Itoa(n)}, "last": {next}}.Encode()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request, rt route) error {
	n, last, err := pageParams(r)
	if err != nil {
		return err
	}
	tags, next := []string{}, ""
	if n > 0 {
		if tags, next, err = s.reg.ListTags(r.Context(), rt.name, n, last); err != nil {
			return err
		}
	} else if _, err := s.reg.GetRepository(r.Context(), rt.name); err != nil {
		return err
	}
	if tags == nil {
		tags = []string{}
	}
	name := rt.name
	if rt.path != "" {
		name = rt.path
	}
	writePage(w, r.URL.Path, n, next, map[string]any{"name": name, "tags": tags})
	return nil
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request) error {
	n, last, err := pageParams(r)
	if err != nil {
		return err
	}
	names, next := []string{}, ""
	if n > 0 {
		if names, next, err = s.reg.Catalog(r.Context(), n, last); err != nil {
			return err
		}
	}
	if names == nil {
		names = []string{}
	}
	writePage(w, r.URL.Path, n, next, map[string]any{"repositories": names})
	return nil
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// referrers answers the referrers API with an image index; a subject
// without referrers gets an empty one.
func (s *Server) referrers(w http.ResponseWriter, r *http.Request, rt route) error {
	// Before the repository is looked up: a malformed digest is refused
	// even where a missing repository would get an empty list.
	if err := checkDigest(rt.ref); err != nil {
		return err
	}
	artifactType := r.URL.Query().Get("artifactType")
	refs, err := s.reg.Referrers(r.Context(), rt.name, rt.ref, artifactType)
	switch {
	case berth.IsCode(err, berth.ERepositoryNotFound):
		// The spec forbids a 404 here: a repository that does not exist
		// (yet, with create-on-push) has no referrers.
		refs = nil
	case err != nil:
		return blobError(err)
	}
	ds := make([]descriptor, 0, len(refs))
	for _, ref := range refs {
		ds = append(ds, descriptor{MediaType: ref.MediaType, Digest: ref.Digest, Size: ref.Size, ArtifactType: ref.ArtifactType, Annotations: ref.Annotations})
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", manifest.OCIIndex)
	return json.NewEncoder(w).Encode(map[string]any{"schemaVersion": 2, "mediaType": manifest.OCIIndex, "manifests": ds})
}
