package oci

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/registry"
)

// The public registry endpoint, as public.ecr.aws: images at
// /v2/<alias>/<repository>/…, anonymous pulls with a token from /token/,
// pushes with the token of 'aws ecr-public get-login-password'. Pulls are
// never IAM-controlled; pushes are, as ecr-public: actions.

type publicEndpoint struct {
	alias  string
	limits *pullLimiter
	// onPull, if set, hears of each manifest pull, anonymous or not.
	onPull func(anonymous bool)
}

// NewPublic returns the public registry endpoint over the public registry,
// whose alias leads every repository path.
func NewPublic(reg *registry.Registry, a *auth.Authenticator, alias string, onPull func(anonymous bool), log *slog.Logger) *Server {
	return &Server{reg: reg, auth: a, log: log, public: &publicEndpoint{alias: alias, onPull: onPull}}
}

// TokenPath is where the public endpoint hands out bearer tokens.
const TokenPath = "/token/"

// challengePublic answers a request without credentials as public.ecr.aws
// does: 401 and a Bearer challenge naming the token endpoint.
func (s *Server) challengePublic(w http.ResponseWriter, r *http.Request, msg string) {
	host := r.Host
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+scheme(r)+"://"+host+TokenPath+`",service="`+host+`",scope="aws"`)
	writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", msg)
}

// token is GET /token/: an anonymous token, or, with Basic credentials
// (user AWS and the password of 'aws ecr-public get-login-password', as
// docker login sends them), a token for that principal.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var tok string
	ttl := auth.AnonymousLifetime
	if user, password, ok := r.BasicAuth(); ok {
		if _, err := s.auth.VerifyBasic(r.Context(), user, password); err != nil || user != "AWS" {
			s.auth.Throttle.Failed(r.RemoteAddr, berth.Errorf(berth.EUnauthenticated, "bad login"))
			writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "The username and password are not valid; log in with user AWS and the password from 'aws ecr-public get-login-password --region us-east-1'")
			return
		}
		tok, ttl = password, auth.TokenLifetime
	} else {
		tok, ttl = s.auth.IssueAnonymous()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": int(ttl.Seconds())})
}

// authenticatePublic reads a request's Bearer token: an anonymous one, or
// a registry token (the raw authorizationToken, or its password). It
// writes the refusal itself.
func (s *Server) authenticatePublic(w http.ResponseWriter, r *http.Request) (registry.Caller, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		s.challengePublic(w, r, "authentication required: get a token from "+TokenPath+" (docker and podman do), or log in with 'aws ecr-public get-login-password --region us-east-1'")
		return registry.Caller{}, false
	case !strings.EqualFold(scheme, "Bearer"):
		// public.ecr.aws refuses the token as Basic credentials.
		writeError(w, r, http.StatusForbidden, "DENIED", "Your Authorization Token is invalid.")
		return registry.Caller{}, false
	}
	tok = strings.TrimSpace(tok)
	if auth.IsAnonymous(tok) {
		if err := s.auth.VerifyAnonymous(tok); err != nil {
			writeError(w, r, http.StatusBadRequest, "DENIED", berth.ErrorMessage(err))
			return registry.Caller{}, false
		}
		return registry.NewCaller("", "", "", r.RemoteAddr, r.TLS != nil), true
	}
	password := tok
	if raw, err := base64.StdEncoding.DecodeString(tok); err == nil && strings.HasPrefix(string(raw), "AWS:") {
		password = strings.TrimPrefix(string(raw), "AWS:")
	}
	c, err := s.auth.VerifyToken(r.Context(), password)
	switch berth.ErrorCode(err) {
	case "":
		return registry.NewCaller(c.Principal, c.Role, c.AccessKeyID, r.RemoteAddr, r.TLS != nil), true
	case berth.EUnauthenticated, berth.ETokenExpired, berth.EInvalidParameter:
		// An invalid or expired token: 400 and no challenge, as
		// public.ecr.aws answers.
		s.auth.Throttle.Failed(r.RemoteAddr, err)
		msg := berth.ErrorMessage(err)
		if berth.IsCode(err, berth.EUnauthenticated) {
			msg = "Your Authorization Token is invalid."
		}
		writeError(w, r, http.StatusBadRequest, "DENIED", msg)
	default:
		s.writeError(w, r, err)
	}
	return registry.Caller{}, false
}

// servePublic is ServeHTTP on the public endpoint.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath || r.URL.Path == strings.TrimSuffix(TokenPath, "/") {
		s.token(w, r)
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	c, ok := s.authenticatePublic(w, r)
	if !ok {
		return
	}
	anonymous := c.Principal.ARN == ""
	r = r.WithContext(registry.WithCaller(r.Context(), c))
	rt, ok := parseRoute(r.URL.Path)
	if !ok || rt.kind == "catalog" {
		writeError(w, r, http.StatusNotFound, "NOT_FOUND", "no such endpoint: "+r.URL.Path)
		return
	}
	if rt.kind != "base" {
		alias, name, _ := strings.Cut(rt.name, "/")
		if err := registry.ValidAlias(alias); err != nil {
			writeError(w, r, http.StatusBadRequest, "UNSUPPORTED", berth.ErrorMessage(err))
			return
		}
		if alias != s.public.alias || name == "" {
			writeError(w, r, http.StatusNotFound, "NAME_UNKNOWN", "The repository with name '"+name+"' does not exist in the registry with id '"+alias+"'")
			return
		}
		rt.path, rt.name = rt.name, name
		if err := registry.ValidRepositoryName(rt.name); err != nil {
			writeError(w, r, http.StatusBadRequest, "NAME_INVALID", berth.ErrorMessage(err))
			return
		}
	}
	if !pullRoute(rt, r.Method) {
		if anonymous {
			s.challengePublic(w, r, "pushing needs a login: 'aws ecr-public get-login-password --region us-east-1 | podman login --username AWS --password-stdin "+r.Host+"'")
			return
		}
		if err := s.authorize(r, rt); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if pullRoute(rt, r.Method) && rt.kind != "base" {
		key := c.Principal.Account
		if anonymous {
			key = c.SourceIP
		}
		if ok, wait := s.public.limits.allow(key, anonymous); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			writeError(w, r, http.StatusTooManyRequests, "TOOMANYREQUESTS", "Rate exceeded")
			return
		}
	}
	if rt.kind == "manifest" && r.Method == http.MethodGet && s.public.onPull != nil {
		s.public.onPull(anonymous)
	}
	s.dispatch(&aliasedWriter{ResponseWriter: w, alias: s.public.alias}, r, rt)
}

// pullRoute reports whether a request only reads: anyone may.
func pullRoute(rt route, method string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	switch rt.kind {
	case "base", "manifest", "blob", "tags", "referrers":
		return true
	}
	return false
}

// aliasedWriter puts the alias back into the Location headers the
// handlers write, which name repositories without it.
type aliasedWriter struct {
	http.ResponseWriter
	alias string
	wrote bool
}

func (w *aliasedWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		if loc := h.Get("Location"); strings.HasPrefix(loc, "/v2/") {
			h.Set("Location", "/v2/"+w.alias+"/"+strings.TrimPrefix(loc, "/v2/"))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *aliasedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the server's fast path for blob bodies.
func (w *aliasedWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *aliasedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// mountSource is the repository a mount's from= names: on the public
// endpoint, its path without the alias.
func (s *Server) mountSource(from string) string {
	if s.public == nil {
		return from
	}
	return strings.TrimPrefix(from, s.public.alias+"/")
}

// PullRates bound pulls from the public endpoint, per second: anonymous
// ones per source address, authenticated ones per account, as ECR Public
// does ("1 for unauthenticated pulls, 10 for authenticated"); 0 is no
// bound.
type PullRates struct {
	Anonymous, Authenticated float64
}

// pullLimiter keeps a token bucket per address or account.
type pullLimiter struct {
	rates PullRates
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// maxLimiters bounds the buckets kept; past it they start over.
const maxLimiters = 1 << 14

// allow reports whether one more pull of key may go now, and if not, how
// long until it may.
func (l *pullLimiter) allow(key string, anonymous bool) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	per := l.rates.Authenticated
	if anonymous {
		per = l.rates.Anonymous
	}
	if per <= 0 {
		return true, 0
	}
	l.mu.Lock()
	if l.m == nil || len(l.m) >= maxLimiters {
		l.m = map[string]*rate.Limiter{}
	}
	k := strconv.FormatBool(anonymous) + key
	lim := l.m[k]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(per), max(1, int(per)))
		l.m[k] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

// SetPullRates bounds the public endpoint's pulls.
func (s *Server) SetPullRates(r PullRates) {
	if s.public != nil {
		s.public.limits = &pullLimiter{rates: r}
	}
}
