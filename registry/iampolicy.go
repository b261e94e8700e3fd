package registry

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

// Identity policies (inline and managed), roles and their sessions.

// validIdentityPolicy parses and validates the document of an identity or
// trust policy, with IAM's MalformedPolicyDocument and size texts.
func validIdentityPolicy(doc string, kind policy.Kind, limit int, owner string) (*policy.Policy, error) {
	if n := policySize(doc); n > limit {
		if owner != "" {
			return nil, berth.Errorf(berth.ELimitExceeded, "Maximum policy size of %d bytes exceeded for %s", limit, owner)
		}
		return nil, berth.Errorf(berth.ELimitExceeded, "Cannot exceed quota for PolicySize: %d", limit)
	}
	p, err := policy.Parse(doc)
	if err == nil {
		err = policy.Validate(p, kind, policy.ValidateOptions{RequireCurrentVersion: kind == policy.Identity && owner == ""})
	}
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*policy.Error); ok {
			msg = pe.Message
		}
		return nil, berth.Errorf(berth.EMalformedPolicy, "%s", msg)
	}
	return p, nil
}

// policySize counts a policy as IAM's quotas do: without whitespace.
func policySize(doc string) int {
	n := 0
	for _, c := range doc {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

// PutPrincipalPolicy sets an inline policy of a user or role.
func (r *Registry) PutPrincipalPolicy(ctx context.Context, kind, name, policyName, doc string) error {
	action, limit, owner := "iam:PutUserPolicy", maxUserPolicySize, "user "+name
	if kind == berth.PrincipalRole {
		action, limit, owner = "iam:PutRolePolicy", maxRolePolicySize, "role "+name
	}
	if _, err := validIdentityPolicy(doc, policy.Identity, limit, owner); err != nil {
		return err
	}
	p, err := r.principalFor(ctx, kind, name, action)
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, "inline policy put", func(tx berth.MetaTx) error {
		return tx.PutInlinePolicy(ctx, p.ARN, policyName, doc)
	}, slog.String(kind, p.ARN), slog.String("policy", policyName))
}

// principalFor reads a user or role of the caller's account that the
// caller must be allowed action on.
func (r *Registry) principalFor(ctx context.Context, kind, name, action string) (*berth.Principal, error) {
	account := r.callerAccount(ctx)
	var p *berth.Principal
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		p, err = getPrincipal(ctx, tx, account, kind, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, r.authorizeIAM(ctx, action, p.ARN)
}

func noSuchInline(kind, name string) error {
	return berth.Errorf(berth.ENoSuchEntity, "The %s policy with name %s cannot be found.", kind, name)
}

// GetPrincipalPolicy returns the document of an inline policy.
func (r *Registry) GetPrincipalPolicy(ctx context.Context, kind, name, policyName string) (string, error) {
	p, err := r.principalFor(ctx, kind, name, "iam:Get"+titleKind(kind)+"Policy")
	if err != nil {
		return "", err
	}
	docs, err := r.principalDocs(ctx, p.ARN)
	if err != nil {
		return "", err
	}
	for _, d := range docs {
		if d.Inline && d.Name == policyName {
			return d.Document, nil
		}
	}
	return "", noSuchInline(kind, policyName)
}

func titleKind(kind string) string {
	if kind == berth.PrincipalRole {
		return "Role"
	}
	return "User"
}

func (r *Registry) principalDocs(ctx context.Context, arn string) ([]berth.PolicyDocument, error) {
	var docs []berth.PolicyDocument
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		docs, err = tx.PrincipalPolicies(ctx, arn)
		return err
	})
	return docs, err
}

// ListPrincipalPolicies returns the names of a principal's inline
// policies (inline true) or the ARNs of its attached ones.
func (r *Registry) ListPrincipalPolicies(ctx context.Context, kind, name string, inline bool) ([]string, error) {
	action := "iam:List" + titleKind(kind) + "Policies"
	if !inline {
		action = "iam:ListAttached" + titleKind(kind) + "Policies"
	}
	p, err := r.principalFor(ctx, kind, name, action)
	if err != nil {
		return nil, err
	}
	docs, err := r.principalDocs(ctx, p.ARN)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, d := range docs {
		if d.Inline == inline {
			out = append(out, d.Name)
		}
	}
	return out, nil
}

// DeletePrincipalPolicy removes an inline policy.
func (r *Registry) DeletePrincipalPolicy(ctx context.Context, kind, name, policyName string) error {
	p, err := r.principalFor(ctx, kind, name, "iam:Delete"+titleKind(kind)+"Policy")
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, "inline policy deleted", func(tx berth.MetaTx) error {
		err := tx.DeleteInlinePolicy(ctx, p.ARN, policyName)
		if berth.IsCode(err, berth.ENotFound) {
			return noSuchInline(kind, policyName)
		}
		return err
	}, slog.String(kind, p.ARN), slog.String("policy", policyName))
}

// ManagedPolicyInfo is a managed policy as IAM describes it: a customer's
// or one of AWS's.
type ManagedPolicyInfo struct {
	berth.ManagedPolicy
	VersionID       string
	AttachmentCount int
}

// CreatePolicy creates a customer managed policy in the caller's account.
func (r *Registry) CreatePolicy(ctx context.Context, name, path, description, doc string) (*ManagedPolicyInfo, error) {
	if _, err := validIdentityPolicy(doc, policy.Identity, maxManagedPolicySize, ""); err != nil {
		return nil, err
	}
	account := r.callerAccount(ctx)
	path = normalPath(path)
	now := r.nowUTC().Truncate(time.Second)
	p := &berth.ManagedPolicy{ARN: iamARN(account, "policy", path, name), Account: account, Name: name, Path: path, ID: newKeyID("ANPA"),
		Description: description, Document: doc, Created: now, Updated: now}
	if err := r.authorizeIAM(ctx, "iam:CreatePolicy", p.ARN); err != nil {
		return nil, err
	}
	err := r.changeIAM(ctx, "policy created", func(tx berth.MetaTx) error {
		err := tx.CreateManagedPolicy(ctx, p)
		if berth.IsCode(err, berth.EConflict) {
			return berth.Errorf(berth.EEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		return err
	}, slog.String("policy", p.ARN))
	return &ManagedPolicyInfo{ManagedPolicy: *p, VersionID: "v1"}, err
}

// awsManaged returns an AWS managed policy as IAM describes it.
func awsManaged(m policy.ManagedPolicy) *ManagedPolicyInfo {
	return &ManagedPolicyInfo{ManagedPolicy: berth.ManagedPolicy{ARN: m.ARN, Account: "aws", Name: m.Name, Path: "/", ID: "ANPA" + strings.ToUpper(m.Name[:min(16, len(m.Name))]),
		Description: m.Description, Document: m.Document, Created: m.Created, Updated: m.Updated}, VersionID: m.VersionID}
}

func noSuchPolicy(arn string) error {
	return berth.Errorf(berth.ENoSuchEntity, "Policy %s was not found.", arn)
}

// GetPolicy describes a managed policy, a customer's or AWS's.
func (r *Registry) GetPolicy(ctx context.Context, arn string) (*ManagedPolicyInfo, error) {
	if err := r.authorizeIAM(ctx, "iam:GetPolicy", arn); err != nil {
		return nil, err
	}
	var out *ManagedPolicyInfo
	err := r.meta.View(ctx, func(tx berth.MetaTx) error {
		if m, ok := policy.ManagedByARN(arn); ok {
			out = awsManaged(m)
		} else {
			p, err := tx.GetManagedPolicy(ctx, arn)
			if berth.IsCode(err, berth.ENotFound) {
				return noSuchPolicy(arn)
			}
			if err != nil {
				return err
			}
			out = &ManagedPolicyInfo{ManagedPolicy: *p, VersionID: "v1"}
		}
		n, err := tx.PolicyAttachments(ctx, arn)
		out.AttachmentCount = n
		return err
	})
	return out, err
}

// GetPolicyVersion returns a version of a managed policy: berth keeps
// one, the default, v1 for a customer's.
func (r *Registry) GetPolicyVersion(ctx context.Context, arn, versionID string) (*ManagedPolicyInfo, error) {
	if err := r.authorizeIAM(ctx, "iam:GetPolicyVersion", arn); err != nil {
		return nil, err
	}
	p, err := r.GetPolicy(WithoutCaller(ctx), arn)
	if err != nil {
		return nil, err
	}
	if p.VersionID != versionID {
		return nil, berth.Errorf(berth.ENoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, versionID)
	}
	return p, nil
}

// ListPolicies lists managed policies: scope "AWS", "Local" or "All".
func (r *Registry) ListPolicies(ctx context.Context, scope, pathPrefix, marker string, maxItems int) ([]ManagedPolicyInfo, string, error) {
	account := r.callerAccount(ctx)
	if err := r.authorizeIAM(ctx, "iam:ListPolicies", "*"); err != nil {
		return nil, "", err
	}
	if maxItems <= 0 {
		maxItems = 100
	}
	after, err := decodeToken(tokenPolicies, scope, marker)
	if err != nil {
		return nil, "", berth.Errorf(berth.EInvalidParameter, "Invalid Marker.")
	}
	// AWS's policies first ("a" + name), then the account's ("l" + name).
	var all []ManagedPolicyInfo
	var keys []string
	if scope != "Local" {
		for _, m := range policy.Managed() {
			all, keys = append(all, *awsManaged(m)), append(keys, "a"+m.Name)
		}
	}
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		if scope == "AWS" {
			return nil
		}
		from := ""
		if strings.HasPrefix(after, "l") {
			from = after[1:]
		}
		for {
			ps, next, err := tx.ListManagedPolicies(ctx, account, berth.Page{Limit: maxItems + 1, After: from})
			if err != nil {
				return err
			}
			for _, p := range ps {
				all, keys = append(all, ManagedPolicyInfo{ManagedPolicy: p, VersionID: "v1"}), append(keys, "l"+p.Name)
			}
			if next == "" || len(all) > maxItems+len(policy.Managed()) {
				return nil
			}
			from = next
		}
	})
	if err != nil {
		return nil, "", err
	}
	var out []ManagedPolicyInfo
	next := ""
	for i, p := range all {
		if keys[i] <= after || !strings.HasPrefix(p.Path, normalPath(pathPrefix)) {
			continue
		}
		if len(out) == maxItems {
			next = keys[i-1]
			break
		}
		out = append(out, p)
	}
	return out, encodeToken(tokenPolicies, scope, next), nil
}

// DeletePolicy deletes a customer managed policy attached to no one.
func (r *Registry) DeletePolicy(ctx context.Context, arn string) error {
	if err := r.authorizeIAM(ctx, "iam:DeletePolicy", arn); err != nil {
		return err
	}
	return r.changeIAM(ctx, "policy deleted", func(tx berth.MetaTx) error {
		if _, err := tx.GetManagedPolicy(ctx, arn); berth.IsCode(err, berth.ENotFound) {
			return noSuchPolicy(arn)
		} else if err != nil {
			return err
		}
		n, err := tx.PolicyAttachments(ctx, arn)
		if err != nil {
			return err
		}
		if n > 0 {
			return berth.Errorf(berth.EDeleteConflict, "Cannot delete a policy attached to entities.")
		}
		return tx.DeleteManagedPolicy(ctx, arn)
	}, slog.String("policy", arn))
}

// AttachPolicy attaches a managed policy to a user or role; detach undoes
// it.
func (r *Registry) AttachPolicy(ctx context.Context, kind, name, arn string, attach bool) error {
	verb := "Attach"
	if !attach {
		verb = "Detach"
	}
	p, err := r.principalFor(ctx, kind, name, "iam:"+verb+titleKind(kind)+"Policy")
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, "policy "+strings.ToLower(verb)+"ed", func(tx berth.MetaTx) error {
		if !attach {
			err := tx.DetachPolicy(ctx, p.ARN, arn)
			if berth.IsCode(err, berth.ENotFound) {
				return noSuchPolicy(arn)
			}
			return err
		}
		if _, ok := policy.ManagedByARN(arn); !ok {
			m, err := tx.GetManagedPolicy(ctx, arn)
			if berth.IsCode(err, berth.ENotFound) || (err == nil && m.Account != p.Account) {
				return berth.Errorf(berth.ENoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
			}
			if err != nil {
				return err
			}
		}
		return tx.AttachPolicy(ctx, p.ARN, arn)
	}, slog.String(kind, p.ARN), slog.String("policy", arn))
}

// Role limits, IAM's.
const (
	defaultSessionDuration = 3600
	maxSessionDuration     = 43200
)

// CreateRole creates a role in the caller's account, with the trust
// policy that says who may assume it.
func (r *Registry) CreateRole(ctx context.Context, name, path, trust, description string, maxSession int, tags []berth.ResourceTag) (*berth.Principal, error) {
	if _, err := validIdentityPolicy(trust, policy.Trust, maxRolePolicySize, ""); err != nil {
		return nil, err
	}
	if maxSession == 0 {
		maxSession = defaultSessionDuration
	}
	if maxSession < defaultSessionDuration || maxSession > maxSessionDuration {
		return nil, berth.Errorf(berth.EInvalidParameter, "The requested MaxSessionDuration is not within the allowed range (3600 to 43200 seconds).")
	}
	account := r.callerAccount(ctx)
	path = normalPath(path)
	role := &berth.Principal{ARN: iamARN(account, "role", path, name), Account: account, Kind: berth.PrincipalRole, Name: name, Path: path,
		ID: newKeyID("AROA"), Created: r.nowUTC().Truncate(time.Second), Tags: tags, TrustPolicy: trust, Description: description, MaxSessionDuration: maxSession}
	if err := r.authorizeIAM(ctx, "iam:CreateRole", role.ARN); err != nil {
		return nil, err
	}
	err := r.changeIAM(ctx, "role created", func(tx berth.MetaTx) error {
		err := tx.CreatePrincipal(ctx, role)
		if berth.IsCode(err, berth.EConflict) {
			return berth.Errorf(berth.EEntityAlreadyExists, "Role with name %s already exists.", name)
		}
		return err
	}, slog.String("role", role.ARN))
	return role, err
}

// GetRole describes a role.
func (r *Registry) GetRole(ctx context.Context, name string) (*berth.Principal, error) {
	return r.principalFor(ctx, berth.PrincipalRole, name, "iam:GetRole")
}

// DeleteRole deletes a role that has no policies left.
func (r *Registry) DeleteRole(ctx context.Context, name string) error {
	return r.deletePrincipal(ctx, berth.PrincipalRole, name)
}

// Session is what AssumeRole hands out: temporary credentials and the
// session principal they act as.
type Session struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expires                                    time.Time
	ARN                                        string // arn:aws:sts::<account>:assumed-role/<role>/<session>
	AssumedRoleID                              string // <role id>:<session>
}

// AssumeRole gives the caller temporary credentials of a role, if its
// identity policies allow sts:AssumeRole on the role (or it is in another
// account whose... see policy.Evaluate) and the role's trust policy
// allows the caller.
func (r *Registry) AssumeRole(ctx context.Context, roleARN, sessionName string, duration int) (*Session, error) {
	if r.sealer == nil {
		return nil, berth.Errorf(berth.EInvalidParameter, "berth keeps no credentials without a secrets key; start it with --secrets-key-file")
	}
	c, _ := CallerOf(ctx)
	parsed, ok := parseRoleARN(roleARN)
	if !ok {
		return nil, berth.Errorf(berth.EInvalidParameter, "%s is invalid", roleARN)
	}
	var role *berth.Principal
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		role, err = tx.GetPrincipal(ctx, parsed.account, berth.PrincipalRole, parsed.name)
		if err == nil && role.ARN != roleARN {
			err = berth.Errorf(berth.ENotFound, "no role %s", roleARN)
		}
		return err
	})
	if berth.IsCode(err, berth.ENotFound) {
		// IAM does not say whether the role exists to who may not assume it.
		return nil, r.assumeDenied(ctx, c, roleARN)
	}
	if err != nil {
		return nil, err
	}
	if duration == 0 {
		duration = defaultSessionDuration
	}
	if duration < 900 || duration > role.MaxSessionDuration {
		return nil, berth.Errorf(berth.EInvalidParameter, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if _, inCtx := CallerOf(ctx); inCtx {
		trust := r.parseStored(role.TrustPolicy, "trust policy of "+role.ARN)
		if err := r.decide(ctx, c, Access{Action: "sts:AssumeRole"}, role.ARN, role.Account, trust); err != nil {
			return nil, err
		}
		// A role is assumed only by whom its trust policy names, even in
		// its own account, where an identity allow would do for other
		// resources: ask the trust policy alone, as if across accounts
		// with the caller's side allowed.
		req := policy.Request{Principal: c.Principal, Action: "sts:AssumeRole", Resource: role.ARN, ResourceAccount: otherAccount(c.Principal.Account)}
		if d := policy.Evaluate(req, allowAll, trust); !d.Allowed {
			return nil, r.assumeDenied(ctx, c, roleARN)
		}
	}
	s := &Session{AccessKeyID: newKeyID("ASIA"), SecretAccessKey: newSecret(), SessionToken: newSecret() + newSecret() + newSecret(),
		Expires: r.nowUTC().Add(time.Duration(duration) * time.Second).Truncate(time.Second),
		ARN:     "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + sessionName, AssumedRoleID: role.ID + ":" + sessionName}
	h := sha256.Sum256([]byte(s.SessionToken))
	k := &berth.AccessKey{ID: s.AccessKeyID, Principal: s.ARN, Secret: r.sealer.seal(s.AccessKeyID, s.SecretAccessKey), Status: statusActive,
		Created: r.nowUTC(), Expires: s.Expires, Role: role.ARN, SessionToken: h[:]}
	if err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if err := r.checkSealer(ctx, tx, true); err != nil {
			return err
		}
		return tx.PutAccessKey(ctx, k)
	}); err != nil {
		return nil, err
	}
	r.audit(ctx, "role assumed", slog.String("principal", c.Principal.ARN), slog.String("role", role.ARN), slog.String("session", s.ARN))
	return s, nil
}

// assumeDenied is the denial of an AssumeRole of a role that does not
// exist, the same as of one the caller may not assume.
func (r *Registry) assumeDenied(ctx context.Context, c Caller, roleARN string) error {
	r.audit(ctx, "denied", slog.String("principal", c.Principal.ARN), slog.String("action", "sts:AssumeRole"),
		slog.String("resource", roleARN), slog.String("reason", "the role does not exist or its trust policy does not allow the caller"),
		slog.String("source_ip", c.SourceIP))
	if r.onDeny != nil {
		r.onDeny("sts:AssumeRole")
	}
	return berth.Errorf(berth.EAccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.Principal.ARN, roleARN)
}

// allowAll is an identity policy that allows everything.
var allowAll = func() []policy.Named {
	p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if err != nil {
		panic(err)
	}
	return []policy.Named{{Name: "trust check", Policy: p}}
}()

// otherAccount is an account id that is not account.
func otherAccount(account string) string {
	if account == "000000000000" {
		return "000000000001"
	}
	return "000000000000"
}

type roleRef struct{ account, name string }

func parseRoleARN(arn string) (roleRef, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return roleRef{}, false
	}
	account, res, ok := strings.Cut(rest, ":role/")
	if !ok || len(account) != 12 || res == "" {
		return roleRef{}, false
	}
	return roleRef{account: account, name: res[strings.LastIndexByte(res, '/')+1:]}, true
}
