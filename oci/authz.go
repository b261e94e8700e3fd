package oci

import (
	"net/http"
	"strings"

	"github.com/berth-registry/berth/registry"
)

// The registry endpoint has no IAM actions of its own: each route is
// checked against the ECR API action it stands for (ecr-auth §1.3), so a
// policy written for ECR governs docker, podman and oras alike. Where no
// source pins the action down, the choice is berth's and docs/access.md
// says so.

// routeActions maps "kind METHOD" to the action checked on the repository.
var routeActions = map[string]string{
	"tags GET":        "ecr:ListImages",
	"manifest GET":    "ecr:BatchGetImage",
	"manifest HEAD":   "ecr:BatchGetImage",
	"manifest PUT":    "ecr:PutImage",
	"manifest DELETE": "ecr:BatchDeleteImage",
	"blob GET":        "ecr:GetDownloadUrlForLayer",
	"blob HEAD":       "ecr:BatchCheckLayerAvailability",
	"blob DELETE":     "ecr:BatchDeleteImage",
	"uploads POST":    "ecr:InitiateLayerUpload",
	"upload GET":      "ecr:UploadLayerPart",
	"upload PATCH":    "ecr:UploadLayerPart",
	"upload PUT":      "ecr:CompleteLayerUpload",
	"upload DELETE":   "ecr:InitiateLayerUpload",
	"referrers GET":   "ecr:BatchGetImage",
	"catalog GET":     "ecr:DescribeRepositories",
	"base GET":        "",
	"base HEAD":       "",
}

// authorize decides a request before it is served; a denial writes
// nothing. Unknown methods get through to ServeHTTP's 405.
func (s *Server) authorize(r *http.Request, rt route) error {
	action, ok := routeActions[rt.kind+" "+r.Method]
	if !ok || action == "" {
		return nil
	}
	ctx := r.Context()
	if s.public != nil {
		// The same actions, as ECR Public names them.
		action = "ecr-public:" + strings.TrimPrefix(action, "ecr:")
	}
	a := registry.Access{Action: action, Repository: rt.name}
	if rt.kind == "catalog" {
		// Every repository, as DescribeRepositories without names asks.
		a.AllRepositories = true
	}
	if rt.kind == "blob" && r.Method == http.MethodHead && s.reg.Allowed(ctx, registry.Access{Action: "ecr:GetDownloadUrlForLayer", Repository: rt.name}) {
		// A HEAD of a blob is a push's existence check or a pull's size
		// check: either action will do [verify]. A puller's is asked first,
		// without a word; a refusal names the push's action.
		return nil
	}
	if err := s.reg.Authorize(ctx, a); err != nil {
		return err
	}
	q := r.URL.Query()
	switch {
	case rt.kind == "uploads" && q.Get("digest") != "":
		// A monolithic upload is an upload of one part, completed.
		for _, act := range []string{"UploadLayerPart", "CompleteLayerUpload"} {
			if err := s.reg.Authorize(ctx, registry.Access{Action: s.actionPrefix() + act, Repository: rt.name}); err != nil {
				return err
			}
		}
	case rt.kind == "upload" && r.Method == http.MethodPut && r.ContentLength != 0:
		// A PUT that carries the last chunk uploads it too.
		return s.reg.Authorize(ctx, registry.Access{Action: s.actionPrefix() + "UploadLayerPart", Repository: rt.name})
	}
	return nil
}

// mayMount reports whether the caller may mount blobs from a repository:
// "Users need ecr:GetDownloadUrlForLayer IAM permission on a repository to
// mount layers from it" (ECR User Guide, blob mounting). A mount refused
// becomes an ordinary upload, as a mount the registry cannot do does.
func (s *Server) mayMount(r *http.Request, from string) bool {
	if s.public != nil {
		// Public repositories are anyone's to read.
		return registry.ValidRepositoryName(from) == nil
	}
	return registry.ValidRepositoryName(from) == nil &&
		s.reg.Authorize(r.Context(), registry.Access{Action: "ecr:GetDownloadUrlForLayer", Repository: from}) == nil
}

// actionPrefix is the service prefix of this endpoint's actions.
func (s *Server) actionPrefix() string {
	if s.public != nil {
		return "ecr-public:"
	}
	return "ecr:"
}
