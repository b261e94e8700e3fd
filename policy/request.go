package policy

import "strings"

// PrincipalKind is the type of caller. The zero value is Anonymous, so a
// Principal whose kind was forgotten gets the least access.
type PrincipalKind int

// The callers berth knows.
const (
	Anonymous PrincipalKind = iota
	Root
	User
	AssumedRole
)

// String is the value of aws:PrincipalType for the kind.
func (k PrincipalKind) String() string {
	switch k {
	case Root:
		return "Account"
	case User:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	}
	return "Anonymous"
}

// Principal is who is asking.
type Principal struct {
	// ARN is arn:aws:iam::111122223333:root, …:user/ci, or
	// arn:aws:sts::111122223333:assumed-role/ci-role/session1; "" for
	// Anonymous.
	ARN string
	// Account is the 12-digit account id, or "anonymous".
	Account string
	Kind    PrincipalKind
	// RoleARN is, for AssumedRole, the role's arn:aws:iam::<acct>:role/
	// <path><name>: a resource policy naming it grants every session of the
	// role, and it is aws:PrincipalArn for a session.
	RoleARN string
	// UserName is ${aws:username} (users only).
	UserName string
}

// AnonymousAccount is the Account of an anonymous caller, as AWS spells it
// in aws:PrincipalAccount and in denial messages.
const AnonymousAccount = "anonymous"

// PrincipalFromARN describes the caller an ARN names: an account root, an
// IAM user or a role session ("" and "anonymous" give Anonymous). A session
// ARN does not carry the role's path, so RoleARN is built without one; a
// caller that knows the path sets RoleARN itself.
func PrincipalFromARN(arn string) (Principal, bool) {
	if arn == "" || arn == AnonymousAccount {
		return Principal{Account: AnonymousAccount, Kind: Anonymous}, true
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) {
		return Principal{}, false
	}
	partition, service, account, res := parts[1], parts[2], parts[4], parts[5]
	switch {
	case service == "iam" && res == "root":
		return Principal{ARN: arn, Account: account, Kind: Root}, true
	case service == "iam" && strings.HasPrefix(res, "user/"):
		name := res[strings.LastIndexByte(res, '/')+1:]
		if name == "" {
			return Principal{}, false
		}
		return Principal{ARN: arn, Account: account, Kind: User, UserName: name}, true
	case service == "sts" && strings.HasPrefix(res, "assumed-role/"):
		rest := strings.Split(strings.TrimPrefix(res, "assumed-role/"), "/")
		if len(rest) != 2 || rest[0] == "" || rest[1] == "" {
			return Principal{}, false
		}
		role := "arn:" + partition + ":iam::" + account + ":role/" + rest[0]
		return Principal{ARN: arn, Account: account, Kind: AssumedRole, RoleARN: role}, true
	}
	return Principal{}, false
}

// Request is one authorization question.
type Request struct {
	Principal Principal
	// Action is the IAM action as the service spells it, e.g. "ecr:PutImage".
	Action string
	// Resource is the resource's ARN, or "*" for actions without a
	// resource type (ecr:GetAuthorizationToken).
	Resource string
	// ResourceAccount owns the resource: for "*" resources, the account of
	// the registry being addressed. When empty it is read from Resource's
	// ARN; when that fails too the request is treated as cross-account,
	// which needs a resource-policy allow, so a forgotten field denies
	// rather than grants.
	ResourceAccount string
	// Context answers condition keys; nil is an empty context.
	Context Context
}

// Context answers condition keys. Keys are case-insensitive, the part
// after a tag prefix's slash included: "The condition tag key Owner matches
// both Owner and owner because condition key names are not case-sensitive"
// (the same sentence in the IAM pages of App Runner, DMS, Keyspaces, IoT
// Events, MSK). Values are lists because some keys (aws:TagKeys) hold many.
// An implementation may resolve lazily, e.g. load a repository's tags only
// when a policy asks for ecr:ResourceTag/…. A key with an empty list is
// treated as absent.
type Context interface {
	Get(key string) (values []string, ok bool)
}

// MapContext is a Context over a map. Keys may be written in any case.
type MapContext map[string][]string

// Get looks key up exactly, then ignoring case.
func (m MapContext) Get(key string) ([]string, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// requestContext is the Context policies see: the keys berth derives from
// the request itself, then the caller's Context. The derived keys win, so a
// Context cannot contradict the Principal it came with.
type requestContext struct{ req *Request }

// Get answers the derived keys, then asks the caller's Context.
func (c requestContext) Get(key string) ([]string, bool) {
	p := &c.req.Principal
	switch {
	case strings.EqualFold(key, "aws:PrincipalArn"):
		// For a role session this is the role's ARN, not the session's
		// (IAM reference_policies_condition-keys, aws:PrincipalArn).
		switch {
		case p.Kind == Anonymous:
			return nil, false
		case p.Kind == AssumedRole && p.RoleARN != "":
			return []string{p.RoleARN}, true
		case p.ARN != "":
			return []string{p.ARN}, true
		}
	case strings.EqualFold(key, "aws:PrincipalAccount"):
		if p.Account != "" {
			return []string{p.Account}, true
		}
		if p.Kind == Anonymous {
			return []string{AnonymousAccount}, true
		}
	case strings.EqualFold(key, "aws:PrincipalType"):
		return []string{p.Kind.String()}, true
	case strings.EqualFold(key, "aws:username"):
		if p.Kind == User && p.UserName != "" {
			return []string{p.UserName}, true
		}
		return nil, false
	case strings.EqualFold(key, "aws:ResourceAccount"):
		if a := c.req.resourceAccount(); a != "" {
			return []string{a}, true
		}
	}
	if c.req.Context == nil {
		return nil, false
	}
	return c.req.Context.Get(key)
}

// lookup asks ctx for key, treating an empty list as absent.
func lookup(ctx Context, key string) ([]string, bool) {
	vals, ok := ctx.Get(key)
	if !ok || len(vals) == 0 {
		return nil, false
	}
	return vals, true
}

// resourceAccount is ResourceAccount, or the account field of Resource.
func (r *Request) resourceAccount() string {
	if r.ResourceAccount != "" {
		return r.ResourceAccount
	}
	parts := strings.SplitN(r.Resource, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}
