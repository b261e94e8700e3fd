// Package oci is the registry endpoint, /v2/, as docker, podman, skopeo and
// crane reach it. It authenticates as ECR's registry endpoint does: HTTP
// Basic with user AWS and a GetAuthorizationToken password, or an access
// key id and its secret.
package oci

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/registry"
)

// Server serves /v2/.
type Server struct {
	reg  *registry.Registry
	auth *auth.Authenticator
	log  *slog.Logger
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
	c, err := s.auth.VerifyBasic(user, password)
	switch berth.ErrorCode(err) {
	case "":
		return c, true
	case berth.ETokenExpired:
		// ECR answers an expired token with 403 DENIED and no challenge.
		writeError(w, r, http.StatusForbidden, "DENIED", berth.ErrorMessage(err))
	default:
		challenge(berth.ErrorMessage(err))
	}
	return auth.Credential{}, false
}

func scheme(r *http.Request) string {
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		return "https"
	}
	return "http"
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if _, ok := s.authenticate(w, r); !ok {
		return
	}
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, r, http.StatusMethodNotAllowed, "UNSUPPORTED", "only GET and HEAD are allowed on /v2/")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	}
	writeError(w, r, http.StatusNotFound, "UNSUPPORTED", "this berth does not serve "+r.URL.Path+" yet: push and pull through the ECR API")
}
