// Package ecr is the ECR API front end: AWS JSON 1.1 on POST /, dispatched
// by X-Amz-Target, SigV4-authenticated. It decodes each operation's input,
// calls the registry core and encodes the output or error exactly as the
// AWS SDKs parse them. It holds no rules of its own.
package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
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

const contentType = "application/x-amz-json-1.1"

// Server serves the ECR API.
type Server struct {
	reg    *registry.Registry
	auth   *auth.Authenticator
	region string
	log    *slog.Logger
	ops    map[string]handler
	model  *awsproto.Model
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

// wireError is an error already in ECR's terms.
type wireError struct {
	Type    string
	Status  int
	Message string
}

func (e *wireError) Error() string { return e.Type + ": " + e.Message }

// exceptions maps each domain code to its ECR exception. Every ECR client
// exception is HTTP 400; ServerException is 500.
var exceptions = map[berth.Code]string{
	berth.EInvalidParameter:         "InvalidParameterException",
	berth.EInvalidTagParameter:      "InvalidTagParameterException",
	berth.ETooManyTags:              "TooManyTagsException",
	berth.ELimitExceeded:            "LimitExceededException",
	berth.ERepositoryNotFound:       "RepositoryNotFoundException",
	berth.ERepositoryAlreadyExists:  "RepositoryAlreadyExistsException",
	berth.ERepositoryNotEmpty:       "RepositoryNotEmptyException",
	berth.EImageNotFound:            "ImageNotFoundException",
	berth.EImageAlreadyExists:       "ImageAlreadyExistsException",
	berth.EImageTagAlreadyExists:    "ImageTagAlreadyExistsException",
	berth.EImageDigestMismatch:      "ImageDigestDoesNotMatchException",
	berth.ELayersNotFound:           "LayersNotFoundException",
	berth.EReferencedImagesNotFound: "ReferencedImagesNotFoundException",
	berth.ELayerInaccessible:        "LayerInaccessibleException",
	berth.EUploadNotFound:           "UploadNotFoundException",
	berth.EInvalidLayerPart:         "InvalidLayerPartException",
	berth.EInvalidLayer:             "InvalidLayerException",
	berth.ELayerPartTooSmall:        "LayerPartTooSmallException",
	berth.ELayerAlreadyExists:       "LayerAlreadyExistsException",
	berth.EEmptyUpload:              "EmptyUploadException",
	berth.EAccessDenied:             "AccessDeniedException",
	berth.EUnauthenticated:          "UnrecognizedClientException",
	berth.ETokenExpired:             "ExpiredTokenException",
	berth.ETemplateNotFound:         "TemplateNotFoundException",
	berth.ETemplateAlreadyExists:    "TemplateAlreadyExistsException",
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := w.Header().Get("X-Amzn-Requestid")
	if reqID == "" {
		reqID = uuid.NewString()
		w.Header().Set("X-Amzn-Requestid", reqID)
	}
	c := &call{r: r}
	out, err := s.serve(r.Context(), c)
	if err != nil {
		s.writeError(w, c, reqID, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		s.writeError(w, c, reqID, err)
		return
	}
	w.Write(buf.Bytes())
}

func (s *Server) serve(ctx context.Context, c *call) (any, error) {
	r := c.r
	if r.Method != http.MethodPost {
		return nil, &wireError{"UnknownOperationException", http.StatusBadRequest, "The ECR API takes POST / with an X-Amz-Target header"}
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, TargetPrefix)
	model := s.model.Operations[op]
	if !ok || model == nil {
		return nil, &wireError{"UnknownOperationException", http.StatusBadRequest, fmt.Sprintf("Operation %q is not an ECR operation; X-Amz-Target must be %s<Operation>", target, TargetPrefix)}
	}
	h := s.ops[op]
	if h == nil {
		return nil, &wireError{"UnsupportedOperationException", http.StatusBadRequest, fmt.Sprintf("berth does not serve the ECR operation %s; docs/api.md lists the operations it serves", op)}
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != contentType {
		return nil, &wireError{"UnknownOperationException", http.StatusBadRequest, fmt.Sprintf("Content-Type must be %s, got %q", contentType, r.Header.Get("Content-Type"))}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &wireError{"InvalidParameterException", http.StatusBadRequest, fmt.Sprintf("The request body is larger than %d bytes; a layer part may be at most %d bytes", MaxBody, registry.MaxPartSize)}
		}
		return nil, &wireError{"SerializationException", http.StatusBadRequest, "The request body could not be read: " + err.Error()}
	}
	if c.cred, err = s.auth.VerifySigV4(r, body, "ecr"); err != nil {
		return nil, err
	}
	if c.body, err = awsproto.Check(model.Input, body); err != nil {
		return nil, protocolError(err)
	}
	return h(ctx, c)
}

// protocolError is ECR's answer to a body the model refuses: the first
// constraint it breaks, in ECR's words, or a SerializationException.
func protocolError(err error) error {
	var se *awsproto.SerializationError
	var ve *awsproto.ValidationError
	switch {
	case errors.As(err, &se):
		return &wireError{"SerializationException", http.StatusBadRequest, se.Message}
	case errors.As(err, &ve):
		v := ve.Violations[0]
		return &wireError{"InvalidParameterException", http.StatusBadRequest, fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: '%s'", v.Path, v.Constraint)}
	}
	return err
}

// decode reads the JSON input of an operation. Unknown members are ignored,
// as AWS does; a member of the wrong type is a SerializationException.
func decode[T any](c *call) (*T, error) {
	var in T
	body := c.body
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, &in); err != nil {
		msg := "The request body is not valid JSON"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			msg = fmt.Sprintf("Member '%s' must be of type %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return nil, &wireError{"SerializationException", http.StatusBadRequest, msg}
	}
	return &in, nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "struct", "map", "ptr":
		return "structure"
	}
	return "number"
}

func required(field, v string) error {
	if v == "" {
		return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at '%s' failed to satisfy constraint: 'Member must not be null'", field)
	}
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, c *call, reqID string, err error) {
	typ, status, msg := "ServerException", http.StatusInternalServerError, berth.ErrorMessage(err)
	body := map[string]any{}
	var we *wireError
	var se *auth.SigV4Error
	var be *berth.Error
	switch {
	case errors.As(err, &we):
		typ, status, msg = we.Type, we.Status, we.Message
	case errors.As(err, &se):
		typ, status, msg = se.Type, se.Status, se.Message
	case errors.As(err, &be) && exceptions[be.Code] != "":
		typ, status = exceptions[be.Code], http.StatusBadRequest
		if be.Code == berth.EInvalidLayerPart {
			body["registryId"] = s.reg.ID()
			body["repositoryName"] = c.repo
			body["uploadId"] = c.uploadID
			body["lastValidByteReceived"] = be.LastValidByte
		}
	}
	switch {
	case berth.IsCode(err, berth.EUnavailable):
		// A ServerException, which the SDKs retry, that says so.
		s.log.Warn("ECR API request not applied; the client may retry", "request_id", reqID, "operation", OperationName(c.r.Header.Get("X-Amz-Target")), "err", err)
		msg = fmt.Sprintf("%s (request id %s)", msg, reqID)
	case status >= 500:
		s.log.Error("ECR API request failed", "request_id", reqID, "target", c.r.Header.Get("X-Amz-Target"), "err", err)
		msg = fmt.Sprintf("An internal error occurred (request id %s); the server log has the details.", reqID)
	}
	body["__type"] = typ
	body["message"] = msg
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
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
	s := New(nil, nil, "", nil)
	m := map[string]bool{}
	for op := range s.ops {
		m[op] = true
	}
	return m
}()
