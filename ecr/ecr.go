// Package ecr is the ECR API front end: AWS JSON 1.1 on POST /, dispatched
// by X-Amz-Target, SigV4-authenticated. It decodes each operation's input,
// calls the registry core and encodes the output or error exactly as the
// AWS SDKs parse them. It holds no rules of its own.
package ecr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/models"
	"github.com/berth-registry/berth/registry"
	"github.com/google/uuid"
)

// TargetPrefix is the X-Amz-Target prefix of the ECR API.
const TargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// MaxBody is the largest request body: a 20 MiB layer part in base64 plus
// the rest of the JSON.
const MaxBody = 30 << 20

const contentType = awsproto.JSONContentType

// Server serves the ECR API.
type Server struct {
	reg    *registry.Registry
	auth   *auth.Authenticator
	region string
	log    *slog.Logger
	ops    map[string]handler
	model  *awsproto.Model
	// public is set on the ECR Public API's server (public.go).
	public *publicAPI
}

// Model is the ECR API model every request is checked against.
var Model = mustLoad(models.ECR)

func mustLoad(data []byte) *awsproto.Model {
	m, err := awsproto.Load(data)
	if err != nil {
		panic(err) // the embedded model is part of the binary: a test loads it
	}
	return m
}

// New returns an ECR API server.
func New(reg *registry.Registry, a *auth.Authenticator, region string, log *slog.Logger) *Server {
	s := &Server{reg: reg, auth: a, region: region, log: log, model: Model}
	s.ops = s.handlers()
	return s
}

// Served returns the names of the operations berth serves, sorted.
func Served() []string {
	return slices.Sorted(maps.Keys((&Server{}).handlers()))
}

// handlers maps each served operation to its handler.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"CreateRepository":              s.createRepository,
		"DescribeRepositories":          s.describeRepositories,
		"DeleteRepository":              s.deleteRepository,
		"PutImageTagMutability":         s.putImageTagMutability,
		"PutImageScanningConfiguration": s.putImageScanningConfiguration,
		"TagResource":                   s.tagResource,
		"UntagResource":                 s.untagResource,
		"ListTagsForResource":           s.listTagsForResource,
		"BatchCheckLayerAvailability":   s.batchCheckLayerAvailability,
		"InitiateLayerUpload":           s.initiateLayerUpload,
		"UploadLayerPart":               s.uploadLayerPart,
		"CompleteLayerUpload":           s.completeLayerUpload,
		"GetDownloadUrlForLayer":        s.getDownloadURLForLayer,
		"PutImage":                      s.putImage,
		"BatchGetImage":                 s.batchGetImage,
		"DescribeImages":                s.describeImages,
		"ListImages":                    s.listImages,
		"BatchDeleteImage":              s.batchDeleteImage,
		"GetAuthorizationToken":         s.getAuthorizationToken,
		"ListImageReferrers":            s.listImageReferrers,

		"CreateRepositoryCreationTemplate":    s.createRepositoryCreationTemplate,
		"DescribeRepositoryCreationTemplates": s.describeRepositoryCreationTemplates,
		"UpdateRepositoryCreationTemplate":    s.updateRepositoryCreationTemplate,
		"DeleteRepositoryCreationTemplate":    s.deleteRepositoryCreationTemplate,

		"PutLifecyclePolicy":          s.putLifecyclePolicy,
		"GetLifecyclePolicy":          s.getLifecyclePolicy,
		"DeleteLifecyclePolicy":       s.deleteLifecyclePolicy,
		"StartLifecyclePolicyPreview": s.startLifecyclePolicyPreview,
		"GetLifecyclePolicyPreview":   s.getLifecyclePolicyPreview,
		"UpdateImageStorageClass":     s.updateImageStorageClass,

		"SetRepositoryPolicy":    s.setRepositoryPolicy,
		"GetRepositoryPolicy":    s.getRepositoryPolicy,
		"DeleteRepositoryPolicy": s.deleteRepositoryPolicy,
		"PutRegistryPolicy":      s.putRegistryPolicy,
		"GetRegistryPolicy":      s.getRegistryPolicy,
		"DeleteRegistryPolicy":   s.deleteRegistryPolicy,
		"GetAccountSetting":      s.getAccountSetting,
		"PutAccountSetting":      s.putAccountSetting,
	}
}

// call is one request being served.
type call struct {
	r    *http.Request
	body []byte
	cred auth.Credential
	// Set by handlers that know them, for exceptions that carry them.
	repo, uploadID string
}

type handler func(ctx context.Context, c *call) (any, error)

// exceptions maps each domain code to its ECR exception. Every ECR client
// exception is HTTP 400; ServerException is 500.
var exceptions = map[berth.Code]string{
	berth.EInvalidParameter:               "InvalidParameterException",
	berth.EInvalidTagParameter:            "InvalidTagParameterException",
	berth.ETooManyTags:                    "TooManyTagsException",
	berth.ELimitExceeded:                  "LimitExceededException",
	berth.ERepositoryNotFound:             "RepositoryNotFoundException",
	berth.ERepositoryAlreadyExists:        "RepositoryAlreadyExistsException",
	berth.ERepositoryNotEmpty:             "RepositoryNotEmptyException",
	berth.EImageNotFound:                  "ImageNotFoundException",
	berth.EImageAlreadyExists:             "ImageAlreadyExistsException",
	berth.EImageTagAlreadyExists:          "ImageTagAlreadyExistsException",
	berth.EImageDigestMismatch:            "ImageDigestDoesNotMatchException",
	berth.ELayersNotFound:                 "LayersNotFoundException",
	berth.EReferencedImagesNotFound:       "ReferencedImagesNotFoundException",
	berth.ELayerInaccessible:              "LayerInaccessibleException",
	berth.EUploadNotFound:                 "UploadNotFoundException",
	berth.EInvalidLayerPart:               "InvalidLayerPartException",
	berth.EInvalidLayer:                   "InvalidLayerException",
	berth.ELayerPartTooSmall:              "LayerPartTooSmallException",
	berth.ELayerAlreadyExists:             "LayerAlreadyExistsException",
	berth.EEmptyUpload:                    "EmptyUploadException",
	berth.EAccessDenied:                   "AccessDeniedException",
	berth.EUnauthenticated:                "UnrecognizedClientException",
	berth.ETokenExpired:                   "ExpiredTokenException",
	berth.ETemplateNotFound:               "TemplateNotFoundException",
	berth.ETemplateAlreadyExists:          "TemplateAlreadyExistsException",
	berth.ELifecyclePolicyNotFound:        "LifecyclePolicyNotFoundException",
	berth.ELifecyclePreviewInProgress:     "LifecyclePolicyPreviewInProgressException",
	berth.ELifecyclePreviewNotFound:       "LifecyclePolicyPreviewNotFoundException",
	berth.EStorageClassUpdateNotSupported: "ImageStorageClassUpdateNotSupportedException",
	berth.ERepositoryPolicyNotFound:       "RepositoryPolicyNotFoundException",
	berth.ERegistryPolicyNotFound:         "RegistryPolicyNotFoundException",
}

// ExceptionName is the ECR exception a domain error code is answered
// with ("" for none: a server error), for other doors that speak of
// errors as the ECR API names them (the console).
func ExceptionName(code berth.Code) string { return exceptions[code] }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := w.Header().Get("X-Amzn-Requestid")
	if reqID == "" {
		reqID = uuid.NewString()
		w.Header().Set("X-Amzn-Requestid", reqID)
	}
	c := &call{r: r}
	out, err := s.serve(r.Context(), c)
	if err == nil {
		err = awsproto.WriteJSON(w, out)
	}
	if err != nil {
		s.writeError(w, c, reqID, err)
	}
}

func (s *Server) serve(ctx context.Context, c *call) (any, error) {
	op, body, err := awsproto.ReadJSON(c.r, s.model, MaxBody,
		fmt.Sprintf("The request body is larger than %d bytes; a layer part may be at most %d bytes", MaxBody, registry.MaxPartSize))
	if err != nil {
		return nil, err
	}
	h := s.ops[op.Name]
	if h == nil {
		return nil, awsproto.Errorf("UnsupportedOperationException", "berth does not serve the ECR operation %s; docs/api.md lists the operations it serves", op.Name)
	}
	if c.cred, err = s.auth.VerifySigV4(c.r, body, s.model.Metadata.SigningName); err != nil {
		return nil, s.auth.Throttle.Failed(c.r.RemoteAddr, err)
	}
	if c.body, err = awsproto.CheckJSON(op.Input, body, "InvalidParameterException"); err != nil {
		return nil, err
	}
	ctx = registry.WithCaller(ctx, registry.NewCaller(c.cred.Principal, c.cred.Role, c.cred.AccessKeyID, c.r.RemoteAddr, c.r.TLS != nil))
	if err := s.authorize(ctx, op.Name, c.body); err != nil {
		return nil, err
	}
	out, err := h(ctx, c)
	if err == nil && s.public != nil {
		// One handler serves both models: ECR Public's outputs have fewer
		// members.
		return awsproto.Shaped(op.Output, out)
	}
	return out, err
}

// decode reads the checked input of an operation.
func decode[T any](c *call) (*T, error) { return awsproto.Decode[T](c.body) }

func required(field, v string) error {
	if v == "" {
		return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at '%s' failed to satisfy constraint: 'Member must not be null'", field)
	}
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, c *call, reqID string, err error) {
	e := &awsproto.Error{Type: "ServerException", Status: http.StatusInternalServerError, Message: berth.ErrorMessage(err)}
	var we *awsproto.Error
	var se *auth.SigV4Error
	var be *berth.Error
	var te *auth.ThrottleError
	switch {
	case errors.As(err, &we):
		e = we
	case errors.As(err, &te):
		// Retried by the SDKs, after their back-off.
		e = &awsproto.Error{Type: "ThrottlingException", Status: http.StatusBadRequest, Message: te.Error()}
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.5)))
	case errors.As(err, &se):
		e = &awsproto.Error{Type: se.Type, Status: se.Status, Message: se.Message}
	case errors.As(err, &be) && exceptions[be.Code] != "":
		e.Type, e.Status = exceptions[be.Code], http.StatusBadRequest
		if be.Code == berth.EInvalidLayerPart {
			e.Extra = map[string]any{"registryId": s.reg.ID(), "repositoryName": c.repo, "uploadId": c.uploadID, "lastValidByteReceived": be.LastValidByte}
		}
	}
	switch {
	case berth.IsCode(err, berth.EInsufficientStorage):
		// A ServerException that names the cause: the operator must act.
		s.log.Error("storage is full: a request was refused", "request_id", reqID, "operation", OperationName(c.r.Header.Get("X-Amz-Target")), "err", err)
		e.Message = fmt.Sprintf("%s (request id %s)", e.Message, reqID)
	case berth.IsCode(err, berth.EUnavailable):
		// A ServerException, which the SDKs retry, that says so.
		s.log.Warn("ECR API request not applied; the client may retry", "request_id", reqID, "operation", OperationName(c.r.Header.Get("X-Amz-Target")), "err", err)
		e.Message = fmt.Sprintf("%s (request id %s)", e.Message, reqID)
	case e.Status >= 500:
		s.log.Error("ECR API request failed", "request_id", reqID, "target", c.r.Header.Get("X-Amz-Target"), "err", err)
		e.Message = fmt.Sprintf("An internal error occurred (request id %s); the server log has the details.", reqID)
	}
	awsproto.WriteError(w, e)
}

// baseURL is this server's URL as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// OperationName returns the ECR operation an X-Amz-Target names, or
// "unknown", for metrics.
func OperationName(target string) string {
	op, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok || !knownOperations[op] {
		return "unknown"
	}
	return op
}

var knownOperations = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range Served() {
		m[op] = true
	}
	return m
}()
