package policy

import "strings"

// principalMatch is how a Principal element names the caller. The two
// positive answers differ in the same account: naming the caller grants,
// naming only its account delegates to the account's identity policies
// (IAM reference_policies_evaluation-logic: a resource policy naming the
// account "delegates authority to the account"; ecr-auth §3.1).
type principalMatch uint8

const (
	matchNone principalMatch = iota
	// matchAccount: the element names the caller's account and not the
	// caller itself.
	matchAccount
	// matchDirect: "*", {"AWS":"*"}, the caller's own ARN, the role of a
	// session, or the account when the caller is that account's root.
	matchDirect
)

// match says how p names c. Service, Federated and CanonicalUser entries
// never name a berth caller.
func (p *Principals) match(c *Principal) principalMatch {
	if p.Any {
		return matchDirect
	}
	best := matchNone
	for _, e := range p.AWS {
		if m := matchAWSEntry(e, c); m > best {
			best = m
		}
	}
	return best
}

func matchAWSEntry(e string, c *Principal) principalMatch {
	if e == "*" {
		return matchDirect
	}
	if c.Kind == Anonymous {
		return matchNone
	}
	if account, ok := entryAccount(e); ok {
		if account != c.Account {
			return matchNone
		}
		if c.Kind == Root {
			return matchDirect
		}
		return matchAccount
	}
	if e == c.ARN || c.Kind == AssumedRole && c.RoleARN != "" && e == c.RoleARN {
		return matchDirect
	}
	return matchNone
}

// excludes reports whether a NotPrincipal element exempts c. AWS checks a
// caller as each of its identities in turn, "first the account, then the
// role, and then the assumed-role user", so a caller is exempt only when
// every one of them is listed: naming a user without its account still
// denies the user (IAM reference_policies_elements_notprincipal: "you must
// also specify the account ARN of the not-denied principal").
func (p *Principals) excludes(c *Principal) bool {
	if p.Any {
		return true
	}
	listed := func(ok func(string) bool) bool {
		for _, e := range p.AWS {
			if e == "*" || ok(e) {
				return true
			}
		}
		return false
	}
	if c.Kind == Anonymous {
		return listed(func(string) bool { return false })
	}
	if !listed(func(e string) bool { a, ok := entryAccount(e); return ok && a == c.Account }) {
		return false
	}
	if c.Kind == AssumedRole && c.RoleARN != "" && !listed(func(e string) bool { return e == c.RoleARN }) {
		return false
	}
	if c.Kind != Root && !listed(func(e string) bool { return e == c.ARN }) {
		return false
	}
	return true
}

// entryAccount reads an account principal: a bare account id or
// arn:<partition>:iam::<account>:root.
func entryAccount(e string) (string, bool) {
	if isAccountID(e) {
		return e, true
	}
	if !strings.HasSuffix(e, ":root") || !strings.HasPrefix(e, "arn:") {
		return "", false
	}
	parts := strings.Split(e, ":")
	if len(parts) != 6 || parts[2] != "iam" || parts[3] != "" || !isAccountID(parts[4]) {
		return "", false
	}
	return parts[4], true
}

// PrincipalARNs lists the AWS principals p names, under Principal and
// NotPrincipal, once each in the order they appear: account ids as
// arn:aws:iam::<account>:root, ARNs as written, "*" left out. The caller
// checks that each exists before storing the policy, as ECR does with its
// 'Principal not found'.
func (p *Policy) PrincipalARNs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(ps *Principals) {
		if ps == nil {
			return
		}
		for _, e := range ps.AWS {
			if e == "*" {
				continue
			}
			if isAccountID(e) {
				e = accountRoot(e)
			}
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	for i := range p.Statements {
		add(p.Statements[i].Principal)
		add(p.Statements[i].NotPrincipal)
	}
	return out
}

// validAWSPrincipal reports whether e may stand in an "AWS" principal list:
// "*", an account id, or the ARN of an account root, user, role, role
// session or federated user, without wildcards ("You cannot use a wildcard
// to match part of a principal name or ARN", IAM
// reference_policies_elements_principal).
func validAWSPrincipal(e string) bool {
	if e == "*" || isAccountID(e) {
		return true
	}
	if hasWildcard(e) {
		return false
	}
	parts := strings.SplitN(e, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !validPartition(parts[1]) || parts[3] != "" || !isAccountID(parts[4]) {
		return false
	}
	res := parts[5]
	named := func(prefix string, segments int) bool {
		rest, ok := strings.CutPrefix(res, prefix)
		if !ok || rest == "" || strings.HasSuffix(rest, "/") {
			return false
		}
		n := strings.Count(rest, "/") + 1
		return segments == 0 || n == segments
	}
	switch parts[2] {
	case "iam":
		return res == "root" || named("user/", 0) || named("role/", 0)
	case "sts":
		return named("assumed-role/", 2) || named("federated-user/", 1)
	}
	return false
}

// validPartition accepts aws and its regional partitions (aws-cn,
// aws-us-gov, aws-iso-b, …).
func validPartition(p string) bool {
	rest, ok := strings.CutPrefix(p, "aws")
	if !ok {
		return false
	}
	for _, part := range strings.Split(rest, "-")[1:] {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if part[i] < 'a' || part[i] > 'z' {
				return false
			}
		}
	}
	return rest == "" || rest[0] == '-'
}
