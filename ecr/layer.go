package ecr

import (
	"context"
	"net/http"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/registry"
)

func (s *Server) batchCheckLayerAvailability(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		LayerDigests []string `json:"layerDigests"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	layers, failures, err := s.reg.BatchCheckLayerAvailability(ctx, in.RepositoryName, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	outL := make([]layer, 0, len(layers))
	for _, l := range layers {
		outL = append(outL, layer{LayerDigest: l.Blob.Digest, LayerAvailability: "AVAILABLE", LayerSize: l.Blob.Size, MediaType: l.Blob.MediaType})
	}
	outF := make([]layerFailure, 0, len(failures))
	for _, f := range failures {
		outF = append(outF, layerFailure{LayerDigest: f.Digest, FailureCode: f.Code, FailureReason: f.Reason})
	}
	return map[string]any{"layers": outL, "failures": outF}, nil
}

func (s *Server) initiateLayerUpload(ctx context.Context, c *call) (any, error) {
	in, err := decode[repoInput](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, *in); err != nil {
		return nil, err
	}
	u, err := s.reg.InitiateLayerUpload(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"uploadId": u.ID, "partSize": registry.PartSize}, nil
}

func (s *Server) uploadLayerPart(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		UploadID      string `json:"uploadId"`
		PartFirstByte *int64 `json:"partFirstByte"`
		PartLastByte  *int64 `json:"partLastByte"`
		LayerPartBlob []byte `json:"layerPartBlob"`
	}](c)
	if err != nil {
		return nil, err
	}
	c.uploadID = in.UploadID
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	// partFirstByte, partLastByte and layerPartBlob: the model requires them.
	u, err := s.reg.UploadLayerPart(ctx, in.RepositoryName, in.UploadID, *in.PartFirstByte, *in.PartLastByte, in.LayerPartBlob)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": in.RepositoryName, "uploadId": u.ID, "lastByteReceived": u.Size - 1}, nil
}

func (s *Server) completeLayerUpload(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		UploadID     string   `json:"uploadId"`
		LayerDigests []string `json:"layerDigests"`
	}](c)
	if err != nil {
		return nil, err
	}
	c.uploadID = in.UploadID
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	d, err := s.reg.CompleteLayerUpload(ctx, registry.CompleteLayerUploadInput{
		Repository: in.RepositoryName, UploadID: in.UploadID, Digests: in.LayerDigests, RequireMinPartSize: true,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": in.RepositoryName, "uploadId": in.UploadID, "layerDigest": d}, nil
}

// DownloadPrefix is the path under which berth serves the signed layer
// URLs that GetDownloadUrlForLayer returns (where ECR would point at S3).
const DownloadPrefix = "/-/layers/"

func (s *Server) getDownloadURLForLayer(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		LayerDigest string `json:"layerDigest"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	if _, err := s.reg.CheckLayerDownload(ctx, in.RepositoryName, in.LayerDigest); err != nil {
		return nil, err
	}
	if u, ok, err := s.reg.BlobURL(ctx, in.RepositoryName, in.LayerDigest, auth.URLLifetime); err != nil {
		return nil, err
	} else if ok { // a presigned object-storage URL, as ECR returns
		return map[string]any{"downloadUrl": u, "layerDigest": in.LayerDigest}, nil
	}
	path := DownloadPrefix + in.LayerDigest + "/" + in.RepositoryName
	u := baseURL(c.r) + path + "?" + s.auth.SignURL(c.cred, path)
	return map[string]any{"downloadUrl": u, "layerDigest": in.LayerDigest}, nil
}

// Download serves the signed layer URLs of GetDownloadUrlForLayer: no other
// credentials are needed, and the URL expires.
func (s *Server) Download(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		var b strings.Builder
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>")
		xmlEscape(&b, msg)
		b.WriteString("</Message></Error>\n")
		w.Write([]byte(b.String()))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET and HEAD are allowed on a layer download URL")
		return
	}
	rest, _ := strings.CutPrefix(r.URL.Path, DownloadPrefix)
	digest, repo, ok := strings.Cut(rest, "/")
	q := r.URL.Query()
	if !ok {
		fail(http.StatusNotFound, "NoSuchKey", "No such layer URL")
		return
	}
	if err := s.auth.VerifyURL(r.Context(), r.URL.Path, q.Get("key"), q.Get("expires"), q.Get("signature")); err != nil {
		fail(http.StatusForbidden, "AccessDenied", berth.ErrorMessage(err))
		return
	}
	b, f, err := s.reg.OpenLayer(r.Context(), repo, digest)
	if err != nil {
		if berth.ErrorCode(err) == berth.EInternal {
			s.log.Error("layer download failed", "repository", repo, "digest", digest, "err", err)
			fail(http.StatusInternalServerError, "InternalError", "The layer could not be read; the server log has the details")
			return
		}
		fail(http.StatusNotFound, "NoSuchKey", berth.ErrorMessage(err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+b.Digest+`"`)
	http.ServeContent(w, r, "", timeZero, f)
}

func xmlEscape(b *strings.Builder, s string) {
	b.WriteString(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s))
}
