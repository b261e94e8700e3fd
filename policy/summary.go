package policy

// Grant is what one statement of a resource policy says, in the terms a
// person reading a repository's policy asks about: who, and whether they
// may push or pull.
type Grant struct {
	Sid    string
	Effect string // Allow or Deny
	// Principals are who the statement names ("*" for anyone); Except
	// is set when it names them by NotPrincipal (everyone but them).
	Principals []string
	Except     bool
	// Push is ecr:PutImage with the layer upload actions, Pull
	// ecr:BatchGetImage with ecr:GetDownloadUrlForLayer: what podman push
	// and pull need. Others are the statement's other actions as written.
	Push, Pull bool
	Others     []string
	// Conditional is set when the statement has conditions: it applies
	// only to requests that meet them.
	Conditional bool
}

var (
	grantPush = []string{"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"}
	grantPull = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
)

// Grants summarises each statement of a resource policy.
func Grants(p *Policy) []Grant {
	var out []Grant
	for _, s := range p.Statements {
		g := Grant{Sid: s.Sid, Effect: s.Effect, Conditional: len(s.Condition) > 0}
		names := s.Principal
		if s.NotPrincipal != nil {
			names, g.Except = s.NotPrincipal, true
		}
		if names != nil {
			if names.Any {
				g.Principals = []string{"*"}
			}
			for _, list := range [][]string{names.AWS, names.Service, names.Federated, names.CanonicalUser} {
				g.Principals = append(g.Principals, list...)
			}
		}
		covers := func(action string) bool {
			if len(s.NotAction) > 0 {
				for _, a := range s.NotAction {
					if matchAction(a, action) {
						return false
					}
				}
				return true
			}
			for _, a := range s.Action {
				if matchAction(a, action) {
					return true
				}
			}
			return false
		}
		all := func(actions []string) bool {
			for _, a := range actions {
				if !covers(a) {
					return false
				}
			}
			return true
		}
		// A Deny of any one of them stops a push or a pull; an Allow must
		// cover them all.
		some := func(actions []string) bool {
			for _, a := range actions {
				if covers(a) {
					return true
				}
			}
			return false
		}
		if s.Effect == "Deny" {
			g.Push, g.Pull = some(grantPush), some(grantPull)
		} else {
			g.Push, g.Pull = all(grantPush), all(grantPull)
		}
		// The actions a push or pull granted does not already say.
		for _, a := range s.Action {
			if !(g.Push && isOneOf(a, grantPush)) && !(g.Pull && isOneOf(a, grantPull)) {
				g.Others = append(g.Others, a)
			}
		}
		for _, a := range s.NotAction {
			g.Others = append(g.Others, "all but "+a)
		}
		out = append(out, g)
	}
	return out
}

func isOneOf(a string, list []string) bool {
	for _, x := range list {
		if matchAction(x, a) && matchAction(a, x) {
			return true
		}
	}
	return false
}
