package policy

// Named is a policy with the name the audit log and messages use, e.g.
// "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "user ci
// inline policy push", "repository policy of app-a".
type Named struct {
	Name   string
	Policy *Policy
}

// Reason says why a Decision came out as it did.
type Reason int

// Reasons, each naming the policy type AWS's message names. The zero value
// is the implicit deny of a request nothing allows.
const (
	NoIdentityAllow Reason = iota
	NoResourceAllow
	ExplicitDenyIdentity
	ExplicitDenyResource
	AllowedByIdentity
	AllowedByResource
	AllowedAsRoot
)

// String is the reason in the words of AWS's messages, for logs.
func (r Reason) String() string {
	switch r {
	case NoIdentityAllow:
		return "no identity-based policy allows"
	case NoResourceAllow:
		return "no resource-based policy allows"
	case ExplicitDenyIdentity:
		return "explicit deny in an identity-based policy"
	case ExplicitDenyResource:
		return "explicit deny in a resource-based policy"
	case AllowedByIdentity:
		return "allowed by an identity-based policy"
	case AllowedByResource:
		return "allowed by a resource-based policy"
	case AllowedAsRoot:
		return "allowed as the account's root"
	}
	return "unknown"
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Policy is the Name of the policy whose statement decided (the deny,
	// or the allow; for a cross-account allow, the resource policy's), ""
	// for an implicit deny or the root's own access.
	Policy string
	// Sid is that statement's Sid, if it has one.
	Sid string
}

// Evaluate decides req against the caller's identity policies and the
// resource's resource-based policies (the repository policy and the
// registry policy, both owned by the resource's account), following IAM's
// evaluation logic (reference_policies_evaluation-logic and
// …-cross-account, ecr-auth §3.1):
//
//  1. An explicit Deny that applies, in any policy, denies. Identity
//     policies are searched first, so when both kinds deny, the message
//     names the identity-based one (AWS names only one type).
//  2. The root of the resource's own account is allowed.
//  3. In the resource's account, an Allow in an identity policy, or in a
//     resource policy whose Principal names the caller directly ("*", its
//     ARN, its role), allows. A resource policy naming only the account
//     delegates to the account's identity policies and grants nothing by
//     itself. Otherwise: "no identity-based policy allows".
//  4. From another account (or anonymously) both sides must allow: an
//     identity Allow in the caller's account (its root needs none; an
//     anonymous caller has no identity side, only Principal "*" can
//     admit it) and a resource-policy Allow naming the caller or its
//     account. Without the resource allow the reason is "no
//     resource-based policy allows", also when the identity allow is
//     missing too, since the resource owner's refusal is what the caller
//     cannot fix alone; with it, "no identity-based policy allows".
func Evaluate(req Request, identity, resource []Named) Decision {
	e := evaluation{req: &req}
	e.ctx = requestContext{req: &req}
	caller := &req.Principal
	anonymous := caller.Kind == Anonymous
	if !anonymous {
		for _, n := range identity {
			if s := e.find(n.Policy, Deny, nil); s != nil {
				return Decision{Reason: ExplicitDenyIdentity, Policy: n.Name, Sid: s.Sid}
			}
		}
	}
	for _, n := range resource {
		if s := e.find(n.Policy, Deny, caller); s != nil {
			return Decision{Reason: ExplicitDenyResource, Policy: n.Name, Sid: s.Sid}
		}
	}

	resourceAccount := req.resourceAccount()
	sameAccount := !anonymous && resourceAccount != "" && caller.Account == resourceAccount
	if sameAccount && caller.Kind == Root {
		return Decision{Allowed: true, Reason: AllowedAsRoot}
	}

	var idPolicy, idSid string
	identityAllows := false
	if !anonymous {
		for _, n := range identity {
			if s := e.find(n.Policy, Allow, nil); s != nil {
				identityAllows, idPolicy, idSid = true, n.Name, s.Sid
				break
			}
		}
	}
	if sameAccount && identityAllows {
		return Decision{Allowed: true, Reason: AllowedByIdentity, Policy: idPolicy, Sid: idSid}
	}

	// The strongest resource-policy allow: one naming the caller beats one
	// naming its account.
	var best principalMatch
	var resPolicy, resSid string
	for _, n := range resource {
		m, s := e.resourceAllow(n.Policy)
		if m > best {
			best, resPolicy, resSid = m, n.Name, s.Sid
		}
		if best == matchDirect {
			break
		}
	}
	if sameAccount {
		if best == matchDirect {
			return Decision{Allowed: true, Reason: AllowedByResource, Policy: resPolicy, Sid: resSid}
		}
		return Decision{Reason: NoIdentityAllow}
	}
	if anonymous {
		if best == matchDirect {
			return Decision{Allowed: true, Reason: AllowedByResource, Policy: resPolicy, Sid: resSid}
		}
		return Decision{Reason: NoResourceAllow}
	}
	if best == matchNone {
		return Decision{Reason: NoResourceAllow}
	}
	if identityAllows || caller.Kind == Root {
		return Decision{Allowed: true, Reason: AllowedByResource, Policy: resPolicy, Sid: resSid}
	}
	return Decision{Reason: NoIdentityAllow}
}

// evaluation is one Evaluate call's request and the context its policies
// see.
type evaluation struct {
	req *Request
	ctx Context
}

// find returns the first statement of p with the given effect that
// applies to the request. caller is nil for identity policies (they apply
// to whoever holds them); for resource policies the statement must name
// the caller or its account.
func (e *evaluation) find(p *Policy, effect string, caller *Principal) *Statement {
	if p == nil {
		return nil
	}
	for i := range p.Statements {
		s := &p.Statements[i]
		if s.Effect != effect {
			continue
		}
		if caller != nil && !statementNames(s, caller) {
			continue
		}
		if e.applies(p, s, caller != nil) {
			return s
		}
	}
	return nil
}

// resourceAllow returns how strongly p's applicable Allow statements name
// the caller, and the strongest such statement.
func (e *evaluation) resourceAllow(p *Policy) (principalMatch, *Statement) {
	if p == nil {
		return matchNone, nil
	}
	best, bestStmt := matchNone, (*Statement)(nil)
	caller := &e.req.Principal
	for i := range p.Statements {
		s := &p.Statements[i]
		if s.Effect != Allow {
			continue
		}
		var m principalMatch
		switch {
		case s.Principal != nil:
			m = s.Principal.match(caller)
		case s.NotPrincipal != nil && !s.NotPrincipal.excludes(caller):
			m = matchDirect
		}
		if m <= best || !e.applies(p, s, true) {
			continue
		}
		best, bestStmt = m, s
		if best == matchDirect {
			break
		}
	}
	return best, bestStmt
}

// statementNames reports whether a resource-policy statement applies to
// the caller at all: any mention, the account's included, counts for a
// Deny.
func statementNames(s *Statement, caller *Principal) bool {
	switch {
	case s.Principal != nil:
		return s.Principal.match(caller) != matchNone
	case s.NotPrincipal != nil:
		return !s.NotPrincipal.excludes(caller)
	}
	return false
}

// applies reports whether s covers the request's action and resource and
// its conditions hold. A resource policy's statement without Resource
// covers the resource the policy is attached to; an identity statement
// without one covers nothing.
func (e *evaluation) applies(p *Policy, s *Statement, resourcePolicy bool) bool {
	action := e.req.Action
	if s.Action != nil {
		if !anyAction(s.Action, action) {
			return false
		}
	} else if s.NotAction == nil || anyAction(s.NotAction, action) {
		return false
	}
	vars := p.usesVariables()
	switch {
	case s.Resource != nil:
		if m, ok := e.anyResource(s.Resource, vars); !ok || !m {
			return false
		}
	case s.NotResource != nil:
		if m, ok := e.anyResource(s.NotResource, vars); !ok || m {
			return false
		}
	case !resourcePolicy:
		return false
	}
	for i := range s.Condition {
		if !conditionHolds(&s.Condition[i], e.ctx, vars) {
			return false
		}
	}
	return true
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(p, action) {
			return true
		}
	}
	return false
}

// anyResource reports whether a pattern matches the request's resource;
// ok is false when a pattern's variable cannot be resolved, which makes
// the element fail whether it is Resource or NotResource.
func (e *evaluation) anyResource(patterns []string, vars bool) (match, ok bool) {
	resource := e.req.Resource
	ok = true
	for _, p := range patterns {
		mode := arnSegments
		if vars {
			expanded, resolved := expandVariables(p, e.ctx, true)
			if !resolved {
				ok = false
				continue
			}
			p, mode = expanded, arnSegments|escaped
		}
		if globMatch(p, resource, mode) {
			return true, true
		}
	}
	return false, ok
}
