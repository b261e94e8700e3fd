package policy

import (
	"fmt"
	"strings"
)

// Registry policy scopes (the REGISTRY_POLICY_SCOPE account setting).
const (
	ScopeV1 = "V1"
	ScopeV2 = "V2"
)

// registryV1Actions are the only actions a V1 registry policy may grant:
// "Amazon ECR only enforces the following permissions at the private
// registry level" (ECR User Guide, registry-permissions).
var registryV1Actions = map[string]bool{
	"ecr:ReplicateImage": true, "ecr:BatchImportUpstreamImage": true, "ecr:CreateRepository": true,
}

// trustActions are the actions a trust policy may name: the ways of
// assuming a role and the session attributes that go with them.
var trustActions = []string{
	"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
	"sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext",
}

// ValidateOptions carry what validation needs to know beyond the text.
type ValidateOptions struct {
	// RepositoryARN is, for Repository, the repository's own ARN: the only
	// Resource besides "*" its policy may name.
	RepositoryARN string
	// RegistryScope is, for Registry, ScopeV1 or ScopeV2 ("" is ScopeV2,
	// the default scope of new registries).
	RegistryScope string
	// Public is, for Repository, an ECR Public repository's policy: its
	// ecr-public: repository actions are accepted too (and the private
	// ones, which ECR Public's own examples grant).
	Public bool
	// RequireCurrentVersion refuses any Version but 2012-10-17, as IAM's
	// CreatePolicy and CreatePolicyVersion do for managed policies.
	RequireCurrentVersion bool
}

// Validate checks p for kind k and returns the first fault as *Error.
// Identity and Trust faults carry IAM's MalformedPolicyDocument text;
// Repository and Registry faults carry ECR's fixed text, since ECR gives no
// detail. Either way Detail says exactly what is wrong. Sids need not be
// unique in ECR policies (the ECR User Guide repeats one); the 10,240
// character limit and 'Principal not found' (see PrincipalARNs) are the
// caller's.
func Validate(p *Policy, k Kind, o ValidateOptions) error {
	v := validator{kind: k, opts: o}
	if p == nil {
		return v.fail(-1, msgSyntax, "no policy")
	}
	if k < Identity || k > Trust {
		return &Error{Message: msgSyntax, Detail: fmt.Sprintf("unknown policy kind %d", int(k)), Statement: -1}
	}
	if k == Registry && o.RegistryScope != "" && o.RegistryScope != ScopeV1 && o.RegistryScope != ScopeV2 {
		return v.fail(-1, msgSyntax, "registry policy scope %q is neither V1 nor V2", o.RegistryScope)
	}
	switch p.Version {
	case "", Version2008, Version2012:
	default:
		return v.fail(-1, msgSyntax, "Version %q is not a policy language version: use %s (or %s)", p.Version, Version2012, Version2008)
	}
	if o.RequireCurrentVersion && p.Version != Version2012 {
		return v.fail(-1, msgVersion, "Version must be %s, got %q", Version2012, p.Version)
	}
	if len(p.Statements) == 0 {
		return v.fail(-1, msgSyntax, "the policy has no Statement")
	}
	sids := map[string]bool{}
	for i := range p.Statements {
		s := &p.Statements[i]
		if err := v.statement(i, s); err != nil {
			return err
		}
		if k == Identity || k == Trust {
			if s.Sid != "" && sids[s.Sid] {
				return v.fail(i, msgSidUnique, "statement %d repeats Sid %q", i, s.Sid)
			}
			sids[s.Sid] = true
		}
	}
	return nil
}

type validator struct {
	kind Kind
	opts ValidateOptions
}

// fail builds the Error for a fault: IAM's text for IAM kinds, ECR's text
// for ECR kinds.
func (v *validator) fail(n int, iamText, format string, args ...any) *Error {
	e := &Error{Message: iamText, Detail: fmt.Sprintf(format, args...), Statement: n}
	switch v.kind {
	case Repository:
		e.Message = InvalidRepositoryPolicy
	case Registry:
		e.Message = InvalidRegistryPolicy
	}
	return e
}

func (v *validator) statement(n int, s *Statement) error {
	if s.Effect == "" {
		return v.fail(n, msgSyntax, "statement %d has no Effect", n)
	}
	if s.Effect != Allow && s.Effect != Deny {
		// IAM reads the effect case-insensitively first, then refuses
		// "allow" in its legacy parser (hashicorp/terraform #10057).
		if strings.EqualFold(s.Effect, Allow) || strings.EqualFold(s.Effect, Deny) {
			return v.fail(n, msgLegacy, "statement %d: Effect %q must be spelled Allow or Deny", n, s.Effect)
		}
		return v.fail(n, msgSyntax, "statement %d: Effect %q is neither Allow nor Deny", n, s.Effect)
	}
	if k := v.kind; k == Identity || k == Trust {
		if s.Sid != "" && !alphanumeric(s.Sid) {
			return v.fail(n, msgSidAlnum, "statement %d: Sid %q is not alphanumeric", n, s.Sid)
		}
	}
	if err := v.principals(n, s); err != nil {
		return err
	}
	if err := v.actions(n, s); err != nil {
		return err
	}
	if err := v.resources(n, s); err != nil {
		return err
	}
	return v.conditions(n, s)
}

func (v *validator) principals(n int, s *Statement) error {
	switch v.kind {
	case Identity:
		if s.Principal != nil || s.NotPrincipal != nil {
			return v.fail(n, msgPrincipal, "statement %d names a principal, which an identity policy may not: it applies to whoever it is attached to", n)
		}
		return nil
	case Trust:
		if s.NotPrincipal != nil {
			return v.fail(n, msgTrustNotPrinc, "statement %d: a trust policy may not use NotPrincipal", n)
		}
		if s.Principal != nil && s.Principal.Any {
			// IAM refuses the bare "*" in a trust policy but takes
			// {"AWS": "*"} (aws/aws-cdk #5746).
			return v.fail(n, msgInvalidPrinc+`"*"`, `statement %d: a trust policy must write everyone as {"AWS": "*"}`, n)
		}
	}
	if s.Principal == nil && s.NotPrincipal == nil {
		return v.fail(n, msgSyntax, "statement %d has no Principal: a %s policy must say whom it applies to", n, v.kind)
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		return v.fail(n, msgSyntax, "statement %d has both Principal and NotPrincipal", n)
	}
	if s.NotPrincipal != nil && s.Effect != Deny {
		return v.fail(n, msgSyntax, `statement %d: NotPrincipal "must be used with \"Effect\":\"Deny\""`, n)
	}
	ps := s.Principal
	if ps == nil {
		ps = s.NotPrincipal
	}
	if ps.Any {
		return nil
	}
	if ps.AWS == nil && ps.Service == nil && ps.Federated == nil && ps.CanonicalUser == nil {
		return v.fail(n, msgSyntax, "statement %d: the principal object names no principal type", n)
	}
	for _, group := range []struct {
		name string
		list []string
	}{{"AWS", ps.AWS}, {"Service", ps.Service}, {"Federated", ps.Federated}, {"CanonicalUser", ps.CanonicalUser}} {
		if group.list != nil && len(group.list) == 0 {
			return v.fail(n, msgSyntax, "statement %d: principal type %s lists nobody", n, group.name)
		}
		for _, e := range group.list {
			ok := e != "" && !hasWildcard(e)
			if group.name == "AWS" {
				ok = validAWSPrincipal(e)
			}
			if !ok {
				return v.fail(n, fmt.Sprintf("%s%q:%q", msgInvalidPrinc, group.name, e),
					"statement %d: %q is not a valid %s principal (an account id, or the ARN of an account root, user, role or role session, without wildcards; or \"*\" alone)", n, e, group.name)
			}
		}
	}
	return nil
}

func (v *validator) actions(n int, s *Statement) error {
	if s.Action != nil && s.NotAction != nil {
		return v.fail(n, msgSyntax, "statement %d has both Action and NotAction", n)
	}
	list, element := s.Action, "Action"
	if list == nil {
		list, element = s.NotAction, "NotAction"
	}
	if len(list) == 0 {
		return v.fail(n, msgNoActions, "statement %d has no Action or NotAction", n)
	}
	for _, a := range list {
		if err := v.actionFormat(n, a); err != nil {
			return err
		}
	}
	switch v.kind {
	case Trust:
		for _, a := range list {
			if element == "NotAction" || !isTrustAction(a) {
				return v.fail(n, msgTrustActions, "statement %d: %s %q: a trust policy may only name %s", n, element, a, strings.Join(trustActions, ", "))
			}
		}
	case Repository:
		for _, a := range list {
			if err := v.repositoryAction(n, element, a); err != nil {
				return err
			}
		}
	case Registry:
		for _, a := range list {
			if err := v.registryAction(n, element, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// actionFormat checks service:Name, the form IAM requires of every action.
func (v *validator) actionFormat(n int, a string) error {
	if a == "*" {
		return nil
	}
	service, name, found := strings.Cut(a, ":")
	if !found {
		return v.fail(n, msgVendor, "statement %d: action %q has no service prefix", n, a)
	}
	if strings.Contains(name, ":") {
		return v.fail(n, msgOneColon, "statement %d: action %q has more than one colon", n, a)
	}
	if service == "" || !allOf(service, func(c byte) bool { return isAlnum(c) || c == '-' || c == '.' || c == '*' || c == '?' }) {
		return v.fail(n, fmt.Sprintf(msgVendorInvalid, service), "statement %d: %q is not a service prefix", n, service)
	}
	if name == "" || !allOf(name, func(c byte) bool { return isAlnum(c) || c == '*' || c == '?' }) {
		return v.fail(n, msgSyntax, "statement %d: action %q: the name after the colon must be letters, digits and wildcards", n, a)
	}
	return nil
}

// repositoryAction: a repository policy may only grant what happens on a
// repository. An action must be, or a pattern must match, at least one
// repository-scoped ECR action, so ecr:GetAuthorizationToken, unknown ecr:
// names and other services are refused (ecr-auth §2.2) while "ecr:*" and
// "*" pass. NotAction entries need only name ECR actions.
func (v *validator) repositoryAction(n int, element, a string) error {
	matched := ecrActionsMatching(a)
	if element == "NotAction" {
		if len(matched) == 0 {
			return v.fail(n, msgSyntax, "statement %d: NotAction %q names no ECR action", n, a)
		}
		return nil
	}
	for _, m := range matched {
		if ecrActions[strings.TrimPrefix(m, "ecr:")] == ScopeRepository {
			return nil
		}
	}
	if v.opts.Public {
		for name, scope := range ecrPublicActions {
			if scope == ScopeRepository && matchAction(a, "ecr-public:"+name) {
				return nil
			}
		}
	}
	if len(matched) > 0 {
		return v.fail(n, msgSyntax, "statement %d: %q is not an action on a repository, so a repository policy cannot grant it (grant it in an identity policy)", n, a)
	}
	return v.fail(n, msgSyntax, "statement %d: %q is not an ECR action", n, a)
}

// registryAction: under V2 any ECR action; under V1 only the three the
// registry enforces, and a pattern only if everything it matches is one of
// them (so "ecr:*", which would promise more, is refused) (ecr-auth §2.5,
// case #24). NotAction grants everything else, so V1 refuses it.
func (v *validator) registryAction(n int, element, a string) error {
	matched := ecrActionsMatching(a)
	if len(matched) == 0 {
		return v.fail(n, msgSyntax, "statement %d: %s %q names no ECR action", n, element, a)
	}
	if v.opts.RegistryScope != ScopeV1 {
		return nil
	}
	if element == "NotAction" {
		return v.fail(n, msgSyntax, "statement %d: a V1 registry policy may not use NotAction", n)
	}
	for _, m := range matched {
		if !registryV1Actions[m] {
			return v.fail(n, msgSyntax, "statement %d: %q covers %s, which a V1 registry policy cannot grant (only ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ecr:CreateRepository)", n, a, m)
		}
	}
	return nil
}

func isTrustAction(a string) bool {
	for _, t := range trustActions {
		if strings.EqualFold(a, t) {
			return true
		}
	}
	return false
}

func (v *validator) resources(n int, s *Statement) error {
	if s.Resource != nil && s.NotResource != nil {
		return v.fail(n, msgSyntax, "statement %d has both Resource and NotResource", n)
	}
	list, element := s.Resource, "Resource"
	if s.NotResource != nil {
		list, element = s.NotResource, "NotResource"
	}
	switch v.kind {
	case Trust:
		if list != nil {
			return v.fail(n, msgTrustResource, "statement %d: a trust policy may not name a %s: the role is the resource", n, element)
		}
		return nil
	case Identity:
		if len(list) == 0 {
			return v.fail(n, msgNoResources, "statement %d has no Resource or NotResource", n)
		}
	case Repository:
		if element == "NotResource" {
			return v.fail(n, msgSyntax, "statement %d: a repository policy may not use NotResource", n)
		}
		for _, r := range list {
			if r != "*" && (r != v.opts.RepositoryARN || r == "") {
				return v.fail(n, msgSyntax, "statement %d: Resource %q: a repository policy may only name \"*\" or its repository's ARN %q", n, r, v.opts.RepositoryARN)
			}
		}
		return nil
	}
	for _, r := range list {
		if err := v.resourceFormat(n, r); err != nil {
			return err
		}
	}
	return nil
}

// resourceFormat checks "*" or an ARN pattern; Registry policies may only
// name ECR repositories.
func (v *validator) resourceFormat(n int, r string) error {
	if r == "*" {
		return nil
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 2 || parts[0] != "arn" {
		return v.fail(n, fmt.Sprintf(msgResourceFormat, r), "statement %d: Resource %q is neither \"*\" nor an ARN", n, r)
	}
	if !validPartition(parts[1]) {
		return v.fail(n, fmt.Sprintf(msgPartitionFormat, parts[1], r), "statement %d: %q is not an AWS partition", n, parts[1])
	}
	if len(parts) < 3 || parts[2] == "" || hasWildcard(parts[2]) {
		return v.fail(n, msgResourceVendor, "statement %d: Resource %q must name its service without wildcards", n, r)
	}
	if len(parts) < 6 && !strings.HasSuffix(r, "*") {
		return v.fail(n, fmt.Sprintf(msgResourceFormat, r), "statement %d: Resource %q has fewer than six ARN parts", n, r)
	}
	if v.kind == Registry {
		if parts[2] != "ecr" || len(parts) < 6 || !(strings.HasPrefix(parts[5], "repository/") || parts[5] == "*") {
			return v.fail(n, msgSyntax, "statement %d: Resource %q: a registry policy may only name ECR repositories, arn:aws:ecr:<region>:<account>:repository/<name>", n, r)
		}
	}
	return nil
}

func (v *validator) conditions(n int, s *Statement) error {
	for _, c := range s.Condition {
		op, ok := parseOperator(c.Operator)
		if !ok {
			return v.fail(n, msgSyntax, "statement %d: %q is not a condition operator", n, c.Operator)
		}
		if c.Key == "" {
			return v.fail(n, msgSyntax, "statement %d: condition %s has an empty key", n, c.Operator)
		}
		if op.base >= opDateEquals && op.base <= opDateGreaterThanEquals {
			for _, val := range c.Values {
				if _, ok := parseDate(val); !ok {
					return v.fail(n, msgLegacy, "statement %d: %s %s: %q is neither an ISO 8601 date nor epoch seconds", n, c.Operator, c.Key, val)
				}
			}
		}
	}
	return nil
}

func alphanumeric(s string) bool { return allOf(s, isAlnum) }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
