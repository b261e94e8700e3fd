// Package iam is the IAM and STS front end: the AWS query protocol
// (form-encoded POST /, Action and Version naming the operation, XML
// answers), SigV4-authenticated, for the subset of IAM (users, access keys,
// roles, inline and managed policies) and STS (GetCallerIdentity,
// AssumeRole) berth serves. It decodes each operation's input with the
// official models, calls the registry core, which decides who may do what,
// and encodes the output or error exactly as the AWS SDKs and the AWS CLI
// parse IAM's and STS's. It holds no rules of its own.
package iam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
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

// MaxBody is the largest request body: IAM's largest policy document
// (131072 characters), form-encoded, with room for the rest.
const MaxBody = 1 << 20

// Server serves the IAM and STS APIs on one handler; a request goes to the
// service its signature is scoped to.
type Server struct {
	reg      *registry.Registry
	auth     *auth.Authenticator
	log      *slog.Logger
	iam, sts *service
}

// service is one of the two APIs the door serves.
type service struct {
	// name is the service a request is signed for, and the prefix of its
	// actions: iam or sts.
	name  string
	model *awsproto.Model
	ops   map[string]handler
	// errors are the wire errors of the domain codes, without a message.
	errors map[berth.Code]awsproto.QueryError
	// internal is the code of an internal failure: IAM's ServiceFailure,
	// STS's InternalFailure (its model names none).
	internal string
}

var (
	iamModel = mustLoad(models.IAM)
	stsModel = mustLoad(models.STS)
)

func mustLoad(data []byte) *awsproto.Model {
	m, err := awsproto.Load(data)
	if err != nil {
		panic(err) // the embedded models are part of the binary: a test loads them
	}
	return m
}

// New returns the IAM and STS server.
func New(reg *registry.Registry, a *auth.Authenticator, log *slog.Logger) *Server {
	s := &Server{reg: reg, auth: a, log: log}
	s.iam = &service{name: "iam", model: iamModel, ops: s.iamHandlers(), internal: "ServiceFailure",
		errors: wireErrors(iamModel, map[berth.Code]string{
			berth.ENoSuchEntity:        "NoSuchEntityException",
			berth.EEntityAlreadyExists: "EntityAlreadyExistsException",
			berth.EDeleteConflict:      "DeleteConflictException",
			berth.ELimitExceeded:       "LimitExceededException",
			berth.EMalformedPolicy:     "MalformedPolicyDocumentException",
			berth.EInvalidParameter:    "InvalidInputException",
		})}
	s.sts = &service{name: "sts", model: stsModel, ops: s.stsHandlers(), internal: "InternalFailure",
		errors: wireErrors(stsModel, map[berth.Code]string{
			berth.EMalformedPolicy: "MalformedPolicyDocumentException",
		})}
	// STS names no exception for a bad parameter: it answers ValidationError,
	// as for a model constraint.
	s.sts.errors[berth.EInvalidParameter] = awsproto.QueryError{Status: http.StatusBadRequest, Type: "Sender", Code: "ValidationError"}
	return s
}

// iamHandlers maps each IAM operation served to its handler; one handler
// serves a user's and a role's policies alike.
func (s *Server) iamHandlers() map[string]handler {
	user, role := berth.PrincipalUser, berth.PrincipalRole
	return map[string]handler{
		"CreateUser": s.createUser,
		"GetUser":    s.getUser,
		"ListUsers":  s.listUsers,
		"DeleteUser": s.deleteUser,

		"CreateAccessKey": s.createAccessKey,
		"ListAccessKeys":  s.listAccessKeys,
		"UpdateAccessKey": s.updateAccessKey,
		"DeleteAccessKey": s.deleteAccessKey,

		"PutUserPolicy":            s.putPrincipalPolicy(user),
		"GetUserPolicy":            s.getPrincipalPolicy(user),
		"ListUserPolicies":         s.listPrincipalPolicies(user),
		"DeleteUserPolicy":         s.deletePrincipalPolicy(user),
		"AttachUserPolicy":         s.attachPolicy(user, true),
		"DetachUserPolicy":         s.attachPolicy(user, false),
		"ListAttachedUserPolicies": s.listAttachedPolicies(user),

		"CreatePolicy":     s.createPolicy,
		"GetPolicy":        s.getPolicy,
		"GetPolicyVersion": s.getPolicyVersion,
		"ListPolicies":     s.listPolicies,
		"DeletePolicy":     s.deletePolicy,

		"CreateRole": s.createRole,
		"GetRole":    s.getRole,
		"ListRoles":  s.listRoles,
		"DeleteRole": s.deleteRole,

		"PutRolePolicy":            s.putPrincipalPolicy(role),
		"GetRolePolicy":            s.getPrincipalPolicy(role),
		"ListRolePolicies":         s.listPrincipalPolicies(role),
		"DeleteRolePolicy":         s.deletePrincipalPolicy(role),
		"AttachRolePolicy":         s.attachPolicy(role, true),
		"DetachRolePolicy":         s.attachPolicy(role, false),
		"ListAttachedRolePolicies": s.listAttachedPolicies(role),
	}
}

// stsHandlers maps each STS operation served to its handler.
func (s *Server) stsHandlers() map[string]handler {
	return map[string]handler{
		"GetCallerIdentity": s.getCallerIdentity,
		"AssumeRole":        s.assumeRole,
		// GetServiceBearerToken (ECR Public's logins) is to come here; the
		// STS model must name it first, or ReadQuery refuses it.
	}
}

// wireErrors are the errors both services answer alike, which neither
// model names, and the exceptions of the model for the codes given.
func wireErrors(m *awsproto.Model, exceptions map[berth.Code]string) map[berth.Code]awsproto.QueryError {
	out := map[berth.Code]awsproto.QueryError{
		// IAM and STS spell it without the Exception the JSON services add.
		berth.EAccessDenied:    {Status: http.StatusForbidden, Type: "Sender", Code: "AccessDenied"},
		berth.EUnauthenticated: {Status: http.StatusForbidden, Type: "Sender", Code: "InvalidClientTokenId"},
		berth.ETokenExpired:    {Status: http.StatusForbidden, Type: "Sender", Code: "ExpiredToken"},
	}
	for code, shape := range exceptions {
		out[code] = *m.QueryErrorFor(shape, "")
	}
	return out
}

// Served returns the operations berth serves, as IAM actions name them
// ("iam:CreateUser", "sts:AssumeRole"), sorted.
func Served() []string {
	s := &Server{}
	var out []string
	for op := range s.iamHandlers() {
		out = append(out, "iam:"+op)
	}
	for op := range s.stsHandlers() {
		out = append(out, "sts:"+op)
	}
	slices.Sort(out)
	return out
}

// Handles reports whether a request to / is for this door: a POST of
// form-encoded parameters, as the query protocol sends them. The ECR door
// takes the rest (JSON 1.1, with X-Amz-Target).
func Handles(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == awsproto.FormContentType
}

// call is one request being served.
type call struct {
	r     *http.Request
	svc   *service
	op    *awsproto.Operation
	input []byte // checked against the operation's input shape
	cred  auth.Credential
}

type handler func(ctx context.Context, c *call) (any, error)

// decode reads the checked input of an operation.
func decode[T any](c *call) (*T, error) { return awsproto.Decode[T](c.input) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := w.Header().Get("X-Amzn-Requestid")
	if reqID == "" {
		reqID = uuid.NewString()
		w.Header().Set("X-Amzn-Requestid", reqID)
	}
	c := &call{r: r, svc: s.serviceOf(r)}
	out, err := s.serve(r.Context(), c)
	if err == nil {
		if err = awsproto.WriteQuery(w, c.svc.model, c.op, reqID, out); err == nil {
			return
		}
		// The answer does not fit the model: the door's bug. Nothing was written.
		err = fmt.Errorf("writing the %s answer: %w", c.op.Name, err)
	}
	s.writeError(w, c, reqID, err)
}

func (s *Server) serve(ctx context.Context, c *call) (any, error) {
	op, body, input, err := awsproto.ReadQuery(c.r, c.svc.model, MaxBody)
	if err != nil {
		return nil, err
	}
	c.op = op
	h := c.svc.ops[op.Name]
	if h == nil {
		return nil, &awsproto.QueryError{Status: http.StatusBadRequest, Type: "Sender", Code: "InvalidAction",
			Message: fmt.Sprintf("berth does not serve the %s operation %s; docs/access.md lists the operations it serves", strings.ToUpper(c.svc.name), op.Name)}
	}
	if c.cred, err = s.auth.VerifySigV4(c.r, body, c.svc.name); err != nil {
		return nil, s.auth.Throttle.Failed(c.r.RemoteAddr, err)
	}
	if c.input, err = awsproto.CheckQuery(op.Input, input); err != nil {
		return nil, err
	}
	ctx = registry.WithCaller(ctx, registry.NewCaller(c.cred.Principal, c.cred.Role, c.cred.AccessKeyID, c.r.RemoteAddr, secure(c.r)))
	return h(ctx, c)
}

// serviceOf is the service a request is for: the one its signature is
// scoped to, or for an unsigned request (or one signed for neither) the one
// whose model has its Action, so that it is refused in that service's
// terms.
func (s *Server) serviceOf(r *http.Request) *service {
	switch signedService(r.Header.Get("Authorization")) {
	case s.iam.name:
		return s.iam
	case s.sts.name:
		return s.sts
	}
	action := r.URL.Query().Get("Action")
	if r.Method == http.MethodPost && r.Body != nil {
		// Peek at the body, and put it back for ReadQuery, which bounds it.
		peeked, _ := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(peeked), r.Body), r.Body}
		if form, err := url.ParseQuery(string(peeked)); err == nil && form.Has("Action") {
			action = form.Get("Action")
		}
	}
	if s.sts.model.Operations[action] != nil && s.iam.model.Operations[action] == nil {
		return s.sts
	}
	return s.iam
}

// signedService is the service of a SigV4 Authorization header's
// credential scope (Credential=AKID/date/region/service/aws4_request), or "".
func signedService(authorization string) string {
	_, cred, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// secure reports whether the request came over TLS.
func secure(r *http.Request) bool {
	// Not X-Forwarded-Proto: a client could send it, and aws:SecureTransport
	// must say how this request reached berth.
	return r.TLS != nil
}

// sigv4Errors are the authentication failures as IAM and STS answer them:
// the query services' codes, and their statuses (all 403 but a malformed
// signature's 400).
var sigv4Errors = map[string]awsproto.QueryError{
	auth.MissingAuthenticationToken: {Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"},
	auth.IncompleteSignature:        {Status: http.StatusBadRequest, Code: "IncompleteSignature"},
	auth.InvalidSignature:           {Status: http.StatusForbidden, Code: "SignatureDoesNotMatch"},
	auth.UnrecognizedClient:         {Status: http.StatusForbidden, Code: "InvalidClientTokenId"},
	auth.ExpiredToken:               {Status: http.StatusForbidden, Code: "ExpiredToken"},
}

func (s *Server) writeError(w http.ResponseWriter, c *call, reqID string, err error) {
	awsproto.WriteQueryError(w, c.svc.model, reqID, s.wireError(w, c, reqID, err))
}

// wireError is err in the query protocol's terms, for the service c is for.
func (s *Server) wireError(w http.ResponseWriter, c *call, reqID string, err error) *awsproto.QueryError {
	var qe *awsproto.QueryError
	var te *auth.ThrottleError
	var se *auth.SigV4Error
	var je *awsproto.Error
	var be *berth.Error
	switch {
	case errors.As(err, &qe):
		return qe
	case errors.As(err, &te):
		// Retried by the SDKs, after their back-off.
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds()+0.5)))
		return &awsproto.QueryError{Status: http.StatusBadRequest, Type: "Sender", Code: "Throttling", Message: te.Error()}
	case errors.As(err, &se):
		e, ok := sigv4Errors[se.Type]
		if !ok {
			e = awsproto.QueryError{Status: se.Status, Code: strings.TrimSuffix(se.Type, "Exception")}
		}
		e.Type = "Sender"
		if e.Message == "" {
			e.Message = se.Message
		}
		return &e
	case errors.As(err, &je):
		// Decode's: an input the model's check passed that JSON could not read.
		return &awsproto.QueryError{Status: http.StatusBadRequest, Type: "Sender", Code: "InvalidParameterValue", Message: je.Message}
	case errors.As(err, &be) && c.svc.errors[be.Code].Code != "":
		e := c.svc.errors[be.Code]
		e.Message = be.Message
		return &e
	}
	op := "unknown"
	if c.op != nil {
		op = c.op.Name
	}
	if berth.IsCode(err, berth.EUnavailable) {
		// A 503, which the SDKs retry, that says so.
		s.log.Warn("IAM API request not applied; the client may retry", "request_id", reqID, "service", c.svc.name, "operation", op, "err", err)
		return &awsproto.QueryError{Status: http.StatusServiceUnavailable, Type: "Receiver", Code: "ServiceUnavailable",
			Message: fmt.Sprintf("%s (request id %s)", berth.ErrorMessage(err), reqID)}
	}
	s.log.Error("IAM API request failed", "request_id", reqID, "service", c.svc.name, "operation", op, "err", err)
	return &awsproto.QueryError{Status: http.StatusInternalServerError, Type: "Receiver", Code: c.svc.internal,
		Message: fmt.Sprintf("An internal error occurred (request id %s); the server log has the details.", reqID)}
}

// unsupported refuses a parameter berth does not act on, rather than
// ignore one that would change what the request grants or means.
func unsupported(op, member, why string) error {
	return berth.Errorf(berth.EInvalidParameter, "berth does not support %s in %s: %s", member, op, why)
}
