// Package oci is the registry endpoint, /v2/, as docker, podman, skopeo,
// crane and oras reach it: the OCI distribution-spec v1.1 API over the same
// core as the ECR API. It authenticates as ECR's registry endpoint does:
// HTTP Basic with user AWS and a GetAuthorizationToken password, or an
// access key id and its secret.
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/registry"
)

// Server serves /v2/.
type Server struct {
	reg  *registry.Registry
	auth *auth.Authenticator
	log  *slog.Logger
	// public is set on the public registry endpoint (public.go).
	public *publicEndpoint
}

// New returns the registry endpoint.
func New(reg *registry.Registry, a *auth.Authenticator, log *slog.Logger) *Server {
	return &Server{reg: reg, auth: a, log: log}
}

type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// apiError is an error already in the distribution-spec's terms.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) error { return &apiError{status, code, msg} }

// codes maps domain codes to distribution-spec errors. Where ECR's
// registry endpoint has a documented mapping, it is the one used.
var codes = map[berth.Code]apiError{
	berth.EInvalidParameter:         {http.StatusBadRequest, "MANIFEST_INVALID", ""},
	berth.ERepositoryNotFound:       {http.StatusNotFound, "NAME_UNKNOWN", ""},
	berth.EImageNotFound:            {http.StatusNotFound, "MANIFEST_UNKNOWN", ""},
	berth.EImageTagAlreadyExists:    {http.StatusBadRequest, "TAG_INVALID", ""},
	berth.EImageDigestMismatch:      {http.StatusBadRequest, "DIGEST_INVALID", ""},
	berth.ELayersNotFound:           {http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", ""},
	berth.EReferencedImagesNotFound: {http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", ""},
	berth.EUploadNotFound:           {http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", ""},
	berth.EInvalidLayerPart:         {http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", ""},
	berth.EInvalidLayer:             {http.StatusBadRequest, "DIGEST_INVALID", ""},
	berth.ELimitExceeded:            {http.StatusForbidden, "DENIED", ""},
	berth.ETooManyTags:              {http.StatusForbidden, "DENIED", ""},
	berth.EInvalidTagParameter:      {http.StatusBadRequest, "TAG_INVALID", ""},
	berth.EAccessDenied:             {http.StatusForbidden, "DENIED", ""},
	berth.EConflict:                 {http.StatusMethodNotAllowed, "DENIED", ""},
	// Not in the distribution spec's table; Distribution answers it too.
	berth.EUnavailable: {http.StatusServiceUnavailable, "UNAVAILABLE", ""},
	// The spec has no code for it either: 507 says what it is.
	berth.EInsufficientStorage: {http.StatusInsufficientStorage, "UNAVAILABLE", ""},
}

// fieldCodes refine codes where the core names the member at fault.
var fieldCodes = map[berth.Code]map[string]apiError{
	berth.EInvalidParameter: {
		"imageTag":    {http.StatusBadRequest, "TAG_INVALID", ""},
		"imageDigest": {http.StatusBadRequest, "DIGEST_INVALID", ""},
		"digest":      {http.StatusBadRequest, "DIGEST_INVALID", ""},
	},
}

// retryAfter is the Retry-After of a 503: clients that honour it come
// back once the requests they raced with are done.
const retryAfter = "1"

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		code := berth.ErrorCode(err)
		m, ok := fieldCodes[code][berth.ErrorField(err)]
		if !ok {
			m, ok = codes[code]
		}
		if ok {
			ae = &apiError{m.Status, m.Code, berth.ErrorMessage(err)}
			if code == berth.ERepositoryNotFound && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodDelete {
				// A push: say how to have the repository.
				rt, _ := parseRoute(r.URL.Path)
				if s.public != nil {
					ae.Message += fmt.Sprintf(". Create it first: aws ecr-public create-repository --repository-name %s --region us-east-1", rt.name)
				} else {
					ae.Message += fmt.Sprintf(". Create it first (aws ecr create-repository --repository-name %s), or start berth with --create-on-push to create repositories on first push", rt.name)
				}
			}
			if code == berth.EInsufficientStorage {
				s.log.Error("storage is full: a push was refused", "request_id", w.Header().Get("X-Amzn-Requestid"), "operation", OperationName(r.Method, r.URL.Path), "err", err)
			}
			if code == berth.EUnavailable {
				s.log.Warn("registry request not applied; the client may retry", "request_id", w.Header().Get("X-Amzn-Requestid"),
					"operation", OperationName(r.Method, r.URL.Path), "err", err)
				w.Header().Set("Retry-After", retryAfter)
			}
		} else {
			id := w.Header().Get("X-Amzn-Requestid")
			s.log.Error("registry request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
			ae = &apiError{http.StatusInternalServerError, "UNKNOWN", "An internal error occurred (request id " + id + "); the server log has the details."}
		}
	}
	writeError(w, r, ae.Status, ae.Code, ae.Message)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(errorBody{Errors: []errorItem{{Code: code, Message: msg}}})
	}
}

// authenticate checks the Basic credentials of r, writing the refusal if
// there are none or they are wrong.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (auth.Credential, bool) {
	challenge := func(msg string) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+scheme(r)+"://"+r.Host+`/",service="ecr.amazonaws.com"`)
		writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", msg)
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		challenge("authentication required: log in with 'aws ecr get-login-password | docker login --username AWS --password-stdin " + r.Host + "'")
		return auth.Credential{}, false
	}
	c, err := s.auth.VerifyBasic(r.Context(), user, password)
	var te *auth.ThrottleError
	if errors.As(s.auth.Throttle.Failed(r.RemoteAddr, err), &te) {
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.5)))
		writeError(w, r, http.StatusTooManyRequests, "TOOMANYREQUESTS", te.Error())
		return auth.Credential{}, false
	}
	switch berth.ErrorCode(err) {
	case "":
		return c, true
	case berth.ETokenExpired:
		// ECR answers an expired token with 403 DENIED and no challenge.
		writeError(w, r, http.StatusForbidden, "DENIED", berth.ErrorMessage(err))
	case berth.EUnauthenticated:
		challenge(berth.ErrorMessage(err))
	case berth.EInvalidParameter:
		// A token of another region: ECR answers the login 400.
		writeError(w, r, http.StatusBadRequest, "DENIED", berth.ErrorMessage(err))
	default:
		// The keys could not be read: not the client's fault.
		s.writeError(w, r, err)
	}
	return auth.Credential{}, false
}

func scheme(r *http.Request) string {
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		return "https"
	}
	return "http"
}

// route is a parsed /v2/ path.
type route struct {
	kind string // base, catalog, tags, manifest, blob, uploads, upload, referrers
	name string
	ref  string // tag, digest or upload id
	// path is the name as the URL has it: on the public endpoint, with the
	// registry's alias before the repository's name.
	path string
}

// parseRoute splits a /v2/ path. Repository names contain slashes, so the
// path is read from its end.
func parseRoute(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return route{kind: "base"}, path == "/v2"
	}
	switch {
	case rest == "":
		return route{kind: "base"}, true
	case rest == "_catalog":
		return route{kind: "catalog"}, true
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return route{kind: "tags", name: name}, true
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads/"); ok {
		return route{kind: "uploads", name: name}, true
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads"); ok {
		return route{kind: "uploads", name: name}, true
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return route{}, false
	}
	ref, head := rest[i+1:], rest[:i]
	j := strings.LastIndex(head, "/")
	if j < 0 {
		return route{}, false
	}
	name, kind := head[:j], head[j+1:]
	switch kind {
	case "manifests":
		return route{kind: "manifest", name: name, ref: ref}, true
	case "blobs":
		return route{kind: "blob", name: name, ref: ref}, true
	case "referrers":
		return route{kind: "referrers", name: name, ref: ref}, true
	case "uploads":
		if n, ok := strings.CutSuffix(name, "/blobs"); ok {
			return route{kind: "upload", name: n, ref: ref}, true
		}
	}
	return route{}, false
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.public != nil {
		s.servePublic(w, r)
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	cred, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	r = r.WithContext(registry.WithCaller(r.Context(), registry.NewCaller(cred.Principal, cred.Role, cred.AccessKeyID, r.RemoteAddr, r.TLS != nil)))
	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		writeError(w, r, http.StatusNotFound, "NOT_FOUND", "no such endpoint: "+r.URL.Path)
		return
	}
	if rt.kind != "base" && rt.kind != "catalog" {
		if err := registry.ValidRepositoryName(rt.name); err != nil {
			writeError(w, r, http.StatusBadRequest, "NAME_INVALID", berth.ErrorMessage(err))
			return
		}
	}
	if err := s.authorize(r, rt); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.dispatch(w, r, rt)
}

// dispatch serves an authorized request.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt route) {
	var err error
	switch rt.kind + " " + r.Method {
	case "base GET", "base HEAD":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	case "catalog GET":
		err = s.catalog(w, r)
	case "tags GET":
		err = s.tags(w, r, rt)
	case "manifest GET", "manifest HEAD":
		err = s.getManifest(w, r, rt)
	case "manifest PUT":
		err = s.putManifest(w, r, rt)
	case "manifest DELETE":
		err = s.deleteManifest(w, r, rt)
	case "blob GET", "blob HEAD":
		err = s.getBlob(w, r, rt)
	case "blob DELETE":
		err = s.deleteBlob(w, r, rt)
	case "uploads POST":
		err = s.startUpload(w, r, rt)
	case "upload GET":
		err = s.uploadStatus(w, r, rt)
	case "upload PATCH":
		err = s.patchUpload(w, r, rt)
	case "upload PUT":
		err = s.putUpload(w, r, rt)
	case "upload DELETE":
		err = s.cancelUpload(w, r, rt)
	case "referrers GET":
		err = s.referrers(w, r, rt)
	default:
		err = errorf(http.StatusMethodNotAllowed, "UNSUPPORTED", r.Method+" is not allowed on "+r.URL.Path)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// OperationName names a registry endpoint request for metrics, such as
// "manifest PUT" or "upload PATCH".
func OperationName(method, path string) string {
	rt, ok := parseRoute(path)
	if !ok {
		return "unknown"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete:
		return rt.kind + " " + method
	}
	return rt.kind + " other"
}
