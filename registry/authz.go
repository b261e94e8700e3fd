package registry

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

// This file is berth's one decision point: every door authenticates, puts
// the caller in the request's context (WithCaller), and asks Authorize
// before it calls the operation. The decision is IAM's (package policy):
// the caller's identity policies, the repository's policy and the registry
// policy, evaluated afresh on every request.

// Caller is who makes a request, as a door authenticated it.
type Caller struct {
	Principal policy.Principal
	// SourceIP is the client's address (aws:SourceIp).
	SourceIP string
	// Secure is whether the request came over TLS (aws:SecureTransport).
	Secure bool
	// KeyID is the access key the request was signed with, or that its
	// registry token was issued to.
	KeyID string
}

// NewCaller is the caller a door authenticated: the principal of the
// credential (and for a role session, the role), from remoteAddr, over
// TLS or not.
func NewCaller(principalARN, roleARN, keyID, remoteAddr string, secure bool) Caller {
	p, ok := policy.PrincipalFromARN(principalARN)
	if !ok {
		// Not an ARN berth issues: a principal no policy names.
		p = policy.Principal{ARN: principalARN, Kind: policy.User}
	}
	if roleARN != "" {
		p.RoleARN = roleARN
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if _, err := netip.ParseAddr(host); err != nil {
		host = "" // not an address: aws:SourceIp is absent
	}
	return Caller{Principal: p, SourceIP: host, Secure: secure, KeyID: keyID}
}

type callerKey struct{}

// WithCaller returns ctx carrying the caller of a request.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, &c)
}

// WithoutCaller returns ctx as berth's own work: for a read the caller was
// already authorized for under another action.
func WithoutCaller(ctx context.Context) context.Context {
	return context.WithValue(ctx, callerKey{}, (*Caller)(nil))
}

// CallerOf returns the caller ctx carries. A context without one is
// berth's own work (lifecycle runs, garbage collection, the berth
// command), which no policy governs.
func CallerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	if !ok || c == nil {
		return Caller{}, false
	}
	return *c, true
}

// Access is what a request asks to do.
type Access struct {
	// Action is the IAM action, e.g. "ecr:PutImage".
	Action string
	// Repository is the repository acted on; "" for actions whose
	// resource is "*" (ecr:GetAuthorizationToken) and for listing all
	// repositories, which asks for repository/*.
	Repository string
	// AllRepositories asks for the action on every repository
	// (DescribeRepositories without names: "…:repository/*").
	AllRepositories bool
	// Resource, if set, is the resource's ARN, for actions on another
	// resource than a repository (ECR Public's registry actions).
	Resource string
	// RequestTags are the tags the request sets (aws:RequestTag/…,
	// aws:TagKeys); TagKeys the keys it removes (aws:TagKeys).
	RequestTags []berth.ResourceTag
	TagKeys     []string
}

// RepositoryARN is the ARN of a repository of this registry; ECR
// Public's have no region.
func (r *Registry) RepositoryARN(name string) string {
	if r.public {
		return "arn:aws:ecr-public::" + r.id + ":repository/" + name
	}
	return "arn:aws:ecr:" + r.region + ":" + r.id + ":repository/" + name
}

// cacheName is a repository's name in the decisions' cache, which the
// public registry shares with the private one, where the same name may
// name another repository.
func (r *Registry) cacheName(repo string) string {
	if r.public {
		return "public:" + repo
	}
	return repo
}

// RegistryARN is the ARN of the public registry, the resource of ECR
// Public's registry actions.
func (r *Registry) RegistryARN() string {
	return "arn:aws:ecr-public::" + r.id + ":registry/" + r.id
}

// resource is the ARN a request for a is checked against.
func (r *Registry) resource(a Access) string {
	switch {
	case a.Resource != "":
		return a.Resource
	case a.AllRepositories:
		return r.RepositoryARN("*")
	case a.Repository != "":
		return r.RepositoryARN(a.Repository)
	}
	return "*"
}

// Authorize decides whether the caller in ctx may do a, and any action a
// needs besides its own (alsoRequired), and returns nil or EAccessDenied
// with AWS's text. It writes nothing, so a denied request has changed
// nothing when it ends.
func (r *Registry) Authorize(ctx context.Context, a Access) error {
	if err := r.authorize(ctx, a); err != nil {
		return err
	}
	if also, ok := alsoRequired[a.Action]; ok {
		return r.authorize(ctx, Access{Action: also})
	}
	return nil
}

// alsoRequired are the actions an action needs besides its own: ECR
// Public's registry token is an STS bearer token, so a caller needs
// sts:GetServiceBearerToken as well.
var alsoRequired = map[string]string{"ecr-public:GetAuthorizationToken": "sts:GetServiceBearerToken"}

// authorize decides a alone.
func (r *Registry) authorize(ctx context.Context, a Access) error {
	c, ok := CallerOf(ctx)
	if !ok {
		return nil
	}
	if policyActions[a.Action] && c.Principal.Kind == policy.Root && c.Principal.Account == r.id {
		// The root may always read, replace and delete the registry's
		// policies, so that no policy locks the account out of its
		// registry for good (as S3 lets a bucket owner's root do with a
		// bucket policy) [verify].
		return nil
	}
	if ownAccountActions[a.Action] && c.Principal.Account != policy.AnonymousAccount && c.Principal.Account != "" {
		// A registry token is the caller's, for any registry it may reach:
		// its own account decides, with no resource policy of this one.
		return r.decide(ctx, c, a, "*", c.Principal.Account, nil)
	}
	// A decision that allowed is kept while the policies stay the same, if
	// they depend on nothing but who asks, what, from where.
	key := decisionKey{principal: c.Principal.ARN, role: c.Principal.RoleARN, action: a.Action, repo: r.cacheName(a.Repository), resource: a.Resource, ip: c.SourceIP,
		all: a.AllRepositories, secure: c.Secure}
	keep := len(a.RequestTags) == 0 && len(a.TagKeys) == 0
	epoch, ok, err := r.allowedBefore(ctx, key)
	if err != nil {
		return err
	}
	if ok && keep {
		return nil
	}
	resource, err := r.resourcePolicies(ctx, a)
	if err != nil {
		return err
	}
	identity, err := r.identityPolicies(ctx, c.Principal)
	if err != nil {
		return err
	}
	err = r.evaluate(ctx, c, a, r.resource(a), r.id, identity.list, resource.list)
	if err == nil && keep && identity.stable && resource.stable {
		r.keepAllowed(epoch, key)
	}
	return err
}

// policyActions are the actions on the registry's policies.
var policyActions = map[string]bool{
	"ecr:GetRepositoryPolicy": true, "ecr:SetRepositoryPolicy": true, "ecr:DeleteRepositoryPolicy": true,
	"ecr:GetRegistryPolicy": true, "ecr:PutRegistryPolicy": true, "ecr:DeleteRegistryPolicy": true,
}

// ownAccountActions are decided in the caller's own account, wherever the
// registry it then reaches is.
var ownAccountActions = map[string]bool{"ecr:GetAuthorizationToken": true, "ecr-public:GetAuthorizationToken": true, "sts:GetServiceBearerToken": true}

// Allowed is Authorize that writes no audit event for a denial: for a
// request that may go on under another action if this one is denied.
func (r *Registry) Allowed(ctx context.Context, a Access) bool {
	return r.Authorize(context.WithValue(ctx, quietKey{}, true), a) == nil
}

type quietKey struct{}

// decide evaluates a request for a on resource, owned by account, against
// the caller's identity policies and the resource policies given.
func (r *Registry) decide(ctx context.Context, c Caller, a Access, resource, account string, resourcePolicies []policy.Named) error {
	identity, err := r.identityPolicies(ctx, c.Principal)
	if err != nil {
		return err
	}
	return r.evaluate(ctx, c, a, resource, account, identity.list, resourcePolicies)
}

// evaluate asks the policies and turns a denial into AWS's error, with
// its audit event.
func (r *Registry) evaluate(ctx context.Context, c Caller, a Access, resource, account string, identity, resourcePolicies []policy.Named) error {
	req := policy.Request{Principal: c.Principal, Action: a.Action, Resource: resource, ResourceAccount: account}
	req.Context = &requestKeys{r: r, ctx: ctx, c: &c, a: &a, now: r.nowUTC()}
	d := policy.Evaluate(req, identity, resourcePolicies)
	if d.Allowed {
		return nil
	}
	msg := d.Message(req)
	if ctx.Value(quietKey{}) != nil {
		return berth.Errorf(berth.EAccessDenied, "%s", msg)
	}
	r.audit(ctx, "denied", slog.String("principal", c.Principal.ARN), slog.String("action", a.Action),
		slog.String("resource", req.Resource), slog.String("reason", d.Reason.String()), slog.String("policy", d.Policy),
		slog.String("source_ip", c.SourceIP))
	if r.onDeny != nil {
		r.onDeny(a.Action)
	}
	return berth.Errorf(berth.EAccessDenied, "%s", msg)
}

// audit writes an audit event: decisions that deny, and every change to
// principals and policies. Never a secret.
func (r *Registry) audit(ctx context.Context, event string, attrs ...slog.Attr) {
	if r.onAudit != nil {
		r.onAudit(event)
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit: "+event, append([]slog.Attr{slog.String("audit", event)}, attrs...)...)
}

// Audit writes an audit event of a door's own (a console sign-in).
func (r *Registry) Audit(ctx context.Context, event string, attrs ...slog.Attr) {
	r.audit(ctx, event, attrs...)
}

// requestKeys answers the condition keys of one request. Repository tags
// are read only if a policy asks for them.
type requestKeys struct {
	r   *Registry
	ctx context.Context
	c   *Caller
	a   *Access
	now time.Time

	tags       []berth.ResourceTag
	tagsLoaded bool
}

func (k *requestKeys) Get(key string) ([]string, bool) {
	lower := key
	if strings.ContainsFunc(key, unicode.IsUpper) {
		lower = strings.ToLower(key)
	}
	switch lower {
	case "aws:sourceip":
		if k.c.SourceIP == "" {
			return nil, false
		}
		return []string{k.c.SourceIP}, true
	case "aws:securetransport":
		return []string{strconv.FormatBool(k.c.Secure)}, true
	case "aws:currenttime":
		return []string{k.now.Format(time.RFC3339)}, true
	case "aws:epochtime":
		return []string{strconv.FormatInt(k.now.Unix(), 10)}, true
	case "aws:requestedregion":
		return []string{k.r.region}, true
	case "aws:resourceaccount":
		return []string{k.r.id}, true
	case "aws:tagkeys":
		keys := k.a.TagKeys
		for _, t := range k.a.RequestTags {
			keys = append(keys, t.Key)
		}
		if len(keys) == 0 {
			return nil, false
		}
		return keys, true
	}
	if tag, ok := cutPrefixFold(key, "aws:RequestTag/"); ok {
		for _, t := range k.a.RequestTags {
			if strings.EqualFold(t.Key, tag) {
				return []string{t.Value}, true
			}
		}
		return nil, false
	}
	tag, ok := cutPrefixFold(key, "ecr:ResourceTag/")
	if !ok {
		tag, ok = cutPrefixFold(key, "aws:ResourceTag/")
	}
	if ok && k.a.Repository != "" {
		if !k.tagsLoaded {
			k.tagsLoaded = true
			_ = k.r.meta.View(berth.ReadsApart(k.ctx), func(tx berth.MetaTx) error {
				repo, err := tx.GetRepository(k.ctx, k.a.Repository)
				if err == nil {
					k.tags = repo.Tags
				}
				return nil
			})
		}
		for _, t := range k.tags {
			if strings.EqualFold(t.Key, tag) {
				return []string{t.Value}, true
			}
		}
	}
	return nil, false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
