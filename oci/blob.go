package oci

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

func blobError(err error) error {
	switch berth.ErrorCode(err) {
	case berth.ELayersNotFound:
		return errorf(http.StatusNotFound, "BLOB_UNKNOWN", berth.ErrorMessage(err))
	case berth.EInvalidParameter:
		return errorf(http.StatusBadRequest, "DIGEST_INVALID", berth.ErrorMessage(err))
	}
	return err
}

// getBlob serves a blob with http.ServeContent: ranges, HEAD without
// reading it.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := checkDigest(rt.ref); err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		// From metadata alone: no storage round trip, and no redirect (a
		// presigned URL is for one method).
		b, err := s.reg.StatBlob(r.Context(), rt.name, rt.ref)
		if err != nil {
			return blobError(err)
		}
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Docker-Content-Digest", b.Digest)
		h.Set("ETag", `"`+b.Digest+`"`)
		h.Set("Accept-Ranges", "bytes")
		h.Set("Content-Length", strconv.FormatInt(b.Size, 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	// The public endpoint streams blobs itself: its clients send a Bearer
	// token, which a redirect on the same host would carry to the bucket.
	if s.public == nil {
		if u, ok, err := s.reg.BlobURL(r.Context(), rt.name, rt.ref, redirectLifetime); err != nil {
			return blobError(err)
		} else if ok {
			// Object storage serves the bytes; berth only says where.
			w.Header().Set("Docker-Content-Digest", rt.ref)
			http.Redirect(w, r, u, http.StatusTemporaryRedirect)
			return nil
		}
	}
	b, f, err := s.reg.OpenBlob(r.Context(), rt.name, rt.ref)
	if err != nil {
		return blobError(err)
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", b.Digest)
	h.Set("ETag", `"`+b.Digest+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// redirectLifetime is how long a presigned blob URL stays valid.
const redirectLifetime = 20 * time.Minute

func (s *Server) deleteBlob(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := checkDigest(rt.ref); err != nil {
		return err
	}
	if err := s.reg.DeleteBlob(r.Context(), rt.name, rt.ref); err != nil {
		return blobError(err)
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

// uploadHeaders describes an upload in progress.
func uploadHeaders(w http.ResponseWriter, name string, u *berth.Upload) {
	h := w.Header()
	h.Set("Location", uploadLocation(name, u.ID))
	h.Set("Docker-Upload-UUID", u.ID)
	h.Set("Range", fmt.Sprintf("0-%d", max(u.Size-1, 0)))
	h.Set("Content-Length", "0")
}

func blobCreated(w http.ResponseWriter, name, digest string) {
	h := w.Header()
	h.Set("Location", "/v2/"+name+"/blobs/"+digest)
	h.Set("Docker-Content-Digest", digest)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// startUpload is POST .../blobs/uploads/: a mount, a monolithic upload
// with ?digest=, or the start of an upload session.
func (s *Server) startUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	q := r.URL.Query()
	// Refused before a session is started, which would be left behind.
	d := q.Get("digest")
	if d != "" {
		if err := checkDigest(d); err != nil {
			return err
		}
	}
	// A malformed mount digest names no blob berth could mount, and the
	// spec's answer to a mount the registry cannot do is a session (202),
	// not an error: clients then upload the blob.
	from := s.mountSource(q.Get("from"))
	if m := q.Get("mount"); m != "" && checkDigest(m) == nil && s.mayMount(r, from) {
		b, err := s.reg.MountBlob(r.Context(), rt.name, from, m)
		if err != nil {
			return err
		}
		if b != nil {
			blobCreated(w, rt.name, b.Digest)
			return nil
		}
	}
	u, err := s.reg.InitiateLayerUpload(r.Context(), rt.name)
	if err != nil {
		return err
	}
	if d != "" {
		return s.finish(w, r, rt.name, u.ID, d)
	}
	uploadHeaders(w, rt.name, u)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) uploadStatus(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := s.reg.GetUpload(r.Context(), rt.name, rt.ref)
	if err != nil {
		return err
	}
	uploadHeaders(w, rt.name, u)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// contentRange parses a chunk's Content-Range ("<start>-<end>", inclusive).
func contentRange(r *http.Request) (start, length int64, ok bool, err error) {
	v := strings.TrimPrefix(strings.TrimSpace(r.Header.Get("Content-Range")), "bytes=")
	if v == "" {
		return 0, -1, false, nil
	}
	a, b, found := strings.Cut(v, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !found || err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false, errorf(http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "Content-Range must be <start>-<end> with end >= start, got "+v)
	}
	return start, end - start + 1, true, nil
}

// chunkRange is where a chunk starts and how long it is: Content-Range if
// the client gave one, else the end of the upload and Content-Length.
// A start of -1 means wherever the upload stands.
func chunkRange(r *http.Request) (start, length int64, err error) {
	start, length, ranged, err := contentRange(r)
	if err != nil || ranged {
		return start, length, err
	}
	length = -1
	if r.ContentLength >= 0 {
		length = r.ContentLength
	}
	return -1, length, nil
}

// outOfOrder says, with the 416 it goes with, where the upload stands.
func (s *Server) outOfOrder(w http.ResponseWriter, r *http.Request, name, id string, err error) error {
	if berth.IsCode(err, berth.EInvalidLayerPart) {
		if cur, cerr := s.reg.GetUpload(r.Context(), name, id); cerr == nil {
			uploadHeaders(w, name, cur)
			w.Header().Del("Content-Length")
		}
	}
	return err
}

// appendChunk writes the request body to the upload.
func (s *Server) appendChunk(w http.ResponseWriter, r *http.Request, name, id string) (*berth.Upload, error) {
	start, length, err := chunkRange(r)
	if err != nil {
		return nil, err
	}
	next, err := s.reg.AppendUpload(r.Context(), registry.AppendInput{Repository: name, UploadID: id, Offset: start, Length: length, Body: r.Body})
	return next, s.outOfOrder(w, r, name, id, err)
}

func (s *Server) patchUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	u, err := s.appendChunk(w, r, rt.name, rt.ref)
	if err != nil {
		return err
	}
	uploadHeaders(w, rt.name, u)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// putUpload completes an upload, with an optional last chunk.
func (s *Server) putUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	d := r.URL.Query().Get("digest")
	if d == "" {
		if _, err := s.reg.GetUpload(r.Context(), rt.name, rt.ref); err != nil {
			return err // an unknown upload says so first
		}
		return errorf(http.StatusBadRequest, "DIGEST_INVALID", "the digest query parameter is required to complete an upload")
	}
	return s.finish(w, r, rt.name, rt.ref, d)
}

// finish completes the upload, with the request body, if any, as its last
// bytes (written and completed in one step).
func (s *Server) finish(w http.ResponseWriter, r *http.Request, name, id, digest string) error {
	if err := checkDigest(digest); err != nil {
		return err
	}
	in := registry.CompleteLayerUploadInput{Repository: name, UploadID: id, Digests: []string{digest}, AllowEmpty: true, AllowExisting: true}
	if r.ContentLength != 0 {
		start, length, err := chunkRange(r)
		if err != nil {
			return err
		}
		in.Final, in.FinalOffset, in.FinalLength = r.Body, start, length
	}
	d, err := s.reg.CompleteLayerUpload(r.Context(), in)
	if err != nil {
		return blobError(s.outOfOrder(w, r, name, id, err))
	}
	blobCreated(w, name, d)
	return nil
}

func (s *Server) cancelUpload(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := s.reg.CancelUpload(r.Context(), rt.name, rt.ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
