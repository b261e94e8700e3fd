package policy

// Message is AWS's denial text for a denied decision, "" for an allowed
// one (IAM troubleshoot_access-denied; ecr-auth §3.2):
//
//	User: <arn> is not authorized to perform: <action> on resource: <resource> because no identity-based policy allows the <action> action
//	User: <arn> is not authorized to perform: <action> on resource: <resource> with an explicit deny in a resource-based policy
//
// The word is "User:" whatever the caller is, role sessions included; an
// anonymous caller is "anonymous", as AWS prints it ("User: anonymous is
// not authorized to perform: …").
func (d Decision) Message(req Request) string {
	if d.Allowed {
		return ""
	}
	who := req.Principal.ARN
	if req.Principal.Kind == Anonymous || who == "" {
		who = AnonymousAccount
	}
	head := "User: " + who + " is not authorized to perform: " + req.Action + " on resource: " + req.Resource
	switch d.Reason {
	case ExplicitDenyIdentity:
		return head + " with an explicit deny in an identity-based policy"
	case ExplicitDenyResource:
		return head + " with an explicit deny in a resource-based policy"
	case NoResourceAllow:
		return head + " because no resource-based policy allows the " + req.Action + " action"
	}
	return head + " because no identity-based policy allows the " + req.Action + " action"
}
