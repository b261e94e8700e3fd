package policy

import (
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// This file checks Evaluate against a reference evaluator written apart
// from the package, straight from IAM's evaluation flowchart and element
// pages: regular expressions for wildcards, plain loops for the rest, and
// its own copy of each generated policy (it never sees Parse's output).
// Set POLICY_PROPERTY_SEED to replay or vary a run.

type refPolicy struct {
	version    string
	statements []refStatement
}

type refStatement struct {
	effect       string
	principal    []string // AWS principals; "*" alone for the bare "*"
	bareStar     bool
	notPrincipal []string
	action       []string
	notAction    []string
	resource     []string
	notResource  []string
	conds        []refCond
}

type refCond struct {
	op     string
	key    string
	values []string
}

// Vocabularies: small, so that random policies often apply.
var (
	propActions        = []string{"ecr:BatchGetImage", "ecr:PutImage", "ecr:GetAuthorizationToken", "ecr:DeleteRepository", "s3:GetObject"}
	propActionPatterns = []string{"*", "ecr:*", "ecr:Batch*", "ECR:putimage", "ecr:Get?uthorizationToken", "s3:*", "ecr:Delete*", "ecr:*Image", "ecr:PutImage"}
	propResources      = []string{"*", repo("app-a"), repo("app-b"), repo("team/x/y"), repo("ci/tool"), "arn:aws:ecr:us-east-1:444455556666:repository/app-a"}
	propResourcePats   = []string{"*", "arn:aws:ecr:us-east-1:111122223333:repository/*", repo("app-?"), repo("team/*"),
		"arn:aws:ecr:*:*:repository/app-a", "arn:aws:ecr:us-east-1:444455556666:repository/*", "arn:aws:ecr:us-east-1:*",
		repo("${aws:username}/*"), repo("app-a")}
	propPrincipals = []string{"*", "111122223333", "arn:aws:iam::111122223333:root", "444455556666", "arn:aws:iam::444455556666:root",
		"arn:aws:iam::111122223333:user/ci", "arn:aws:iam::111122223333:user/admin", "arn:aws:iam::111122223333:role/ci-role",
		"arn:aws:sts::111122223333:assumed-role/ci-role/s1", "arn:aws:iam::444455556666:user/ext"}
	propCallers = []Principal{ci, admin, session, rootA, ext, rootB, anon}
	propConds   = []refCond{
		{"StringEquals", "ecr:ResourceTag/env", []string{"dev"}},
		{"StringNotEquals", "ecr:ResourceTag/env", []string{"prod", "dev"}},
		{"StringLike", "ecr:ResourceTag/env", []string{"d*"}},
		{"StringNotLike", "ecr:ResourceTag/env", []string{"p?od"}},
		{"StringEqualsIfExists", "ecr:ResourceTag/env", []string{"prod"}},
		{"IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}},
		{"NotIpAddress", "aws:SourceIp", []string{"203.0.113.0/24", "10.0.0.1"}},
		{"NotIpAddressIfExists", "aws:SourceIp", []string{"198.51.100.0/24"}},
		{"Null", "aws:SourceIp", []string{"true"}},
		{"Null", "ecr:ResourceTag/env", []string{"false"}},
		{"ForAnyValue:StringEquals", "aws:TagKeys", []string{"cost", "owner"}},
		{"ForAllValues:StringEquals", "aws:TagKeys", []string{"env", "cost"}},
		{"ForAllValues:StringNotLike", "aws:TagKeys", []string{"c*"}},
		{"ForAnyValue:StringNotEquals", "aws:TagKeys", []string{"env"}},
		{"NumericLessThan", "s:n", []string{"5"}},
		{"NumericGreaterThanEquals", "s:n", []string{"3"}},
		{"Bool", "aws:SecureTransport", []string{"true"}},
	}
	propContextValues = map[string][][]string{
		"ecr:ResourceTag/env": {nil, {"dev"}, {"prod"}},
		"aws:SourceIp":        {nil, {"203.0.113.9"}, {"198.51.100.7"}, {"10.0.0.1"}},
		"aws:TagKeys":         {nil, {"env"}, {"env", "cost"}, {"owner"}},
		"s:n":                 {nil, {"3"}, {"7"}},
		"aws:SecureTransport": {nil, {"true"}, {"false"}},
	}
)

func TestEvaluateMatchesReference(t *testing.T) {
	seed := int64(20240601)
	if s := os.Getenv("POLICY_PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 4000
	rng := rand.New(rand.NewSource(seed))
	allowed := 0
	for i := 0; i < rounds; i++ {
		g := propGen{rng}
		caller := propCallers[rng.Intn(len(propCallers))]
		req := Request{Principal: caller, Action: g.pick(propActions), Resource: g.pick(propResources)}
		if req.Resource == "*" {
			req.ResourceAccount = g.pick([]string{acctA, acctB})
		} else if rng.Intn(2) == 0 {
			req.ResourceAccount = strings.Split(req.Resource, ":")[4]
		}
		ctx := MapContext{}
		for key, options := range propContextValues {
			if v := options[rng.Intn(len(options))]; v != nil {
				ctx[key] = v
			}
		}
		req.Context = ctx

		var idRef, resRef []refPolicy
		var id, res []Named
		var texts []string
		for n := rng.Intn(4); n > 0; n-- {
			rp := g.policy(false)
			text := rp.json(false)
			idRef, texts = append(idRef, rp), append(texts, "identity: "+text)
			id = append(id, Named{Name: fmt.Sprint("id", len(id)), Policy: mustParse(t, text)})
		}
		for n := rng.Intn(3); n > 0; n-- {
			rp := g.policy(true)
			text := rp.json(true)
			resRef, texts = append(resRef, rp), append(texts, "resource: "+text)
			res = append(res, Named{Name: fmt.Sprint("res", len(res)), Policy: mustParse(t, text)})
		}

		got := Evaluate(req, id, res)
		wantAllowed, wantReason := refEvaluate(req, ctx, idRef, resRef)
		if got.Allowed != wantAllowed || got.Reason != wantReason {
			t.Fatalf("seed %d round %d: Evaluate = allowed %v (%v), reference = allowed %v (%v)\nrequest %+v\ncontext %v\n%s",
				seed, i, got.Allowed, got.Reason, wantAllowed, wantReason, req, ctx, strings.Join(texts, "\n"))
		}
		if got.Allowed {
			allowed++
		}
	}
	// The vocabularies are meant to give both answers often; if one side
	// vanishes the test has stopped testing.
	if allowed < rounds/20 || allowed > rounds*19/20 {
		t.Errorf("%d of %d allowed: the generator no longer exercises both outcomes", allowed, rounds)
	}
}

type propGen struct{ rng *rand.Rand }

func (g propGen) pick(list []string) string { return list[g.rng.Intn(len(list))] }

func (g propGen) some(list []string) []string {
	out := []string{g.pick(list)}
	for g.rng.Intn(3) == 0 {
		out = append(out, g.pick(list))
	}
	return out
}

func (g propGen) policy(resourcePolicy bool) refPolicy {
	p := refPolicy{version: g.pick([]string{Version2012, Version2012, Version2008})}
	for n := 1 + g.rng.Intn(3); n > 0; n-- {
		s := refStatement{effect: Allow}
		if g.rng.Intn(3) == 0 {
			s.effect = Deny
		}
		if g.rng.Intn(5) == 0 {
			s.notAction = g.some(propActionPatterns)
		} else {
			s.action = g.some(propActionPatterns)
		}
		switch r := g.rng.Intn(6); {
		case r == 0 && resourcePolicy:
		case r == 1:
			s.notResource = g.some(propResourcePats)
		default:
			s.resource = g.some(propResourcePats)
		}
		if resourcePolicy {
			switch r := g.rng.Intn(8); {
			case r == 0:
				s.bareStar = true
			case r == 1 && s.effect == Deny:
				s.notPrincipal = g.some(propPrincipals)
			default:
				s.principal = g.some(propPrincipals)
			}
		}
		for n := g.rng.Intn(3); n > 0; n-- {
			c := propConds[g.rng.Intn(len(propConds))]
			dup := false
			for _, have := range s.conds {
				dup = dup || have.op == c.op && have.key == c.key
			}
			if !dup {
				s.conds = append(s.conds, c)
			}
		}
		p.statements = append(p.statements, s)
	}
	return p
}

// json writes the policy the way a person would, with single strings
// where there is one value.
func (p refPolicy) json(resourcePolicy bool) string {
	list := func(l []string) string {
		if len(l) == 1 {
			return strconv.Quote(l[0])
		}
		q := make([]string, len(l))
		for i, s := range l {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ",") + "]"
	}
	var stmts []string
	for _, s := range p.statements {
		parts := []string{`"Effect":"` + s.effect + `"`}
		switch {
		case s.bareStar:
			parts = append(parts, `"Principal":"*"`)
		case s.principal != nil:
			parts = append(parts, `"Principal":{"AWS":`+list(s.principal)+`}`)
		case s.notPrincipal != nil:
			parts = append(parts, `"NotPrincipal":{"AWS":`+list(s.notPrincipal)+`}`)
		}
		if s.action != nil {
			parts = append(parts, `"Action":`+list(s.action))
		} else {
			parts = append(parts, `"NotAction":`+list(s.notAction))
		}
		if s.resource != nil {
			parts = append(parts, `"Resource":`+list(s.resource))
		} else if s.notResource != nil {
			parts = append(parts, `"NotResource":`+list(s.notResource))
		}
		if len(s.conds) > 0 {
			// One object per operator, its keys inside.
			var ops []string
			done := map[string]bool{}
			for _, c := range s.conds {
				if done[c.op] {
					continue
				}
				done[c.op] = true
				var keys []string
				for _, d := range s.conds {
					if d.op == c.op {
						keys = append(keys, strconv.Quote(d.key)+`:`+list(d.values))
					}
				}
				ops = append(ops, strconv.Quote(c.op)+`:{`+strings.Join(keys, ",")+`}`)
			}
			parts = append(parts, `"Condition":{`+strings.Join(ops, ",")+`}`)
		}
		stmts = append(stmts, "{"+strings.Join(parts, ",")+"}")
	}
	return `{"Version":"` + p.version + `","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// refEvaluate is IAM's flowchart: explicit deny, then (same account) any
// allow, else (cross account) both sides' allows.
func refEvaluate(req Request, ctx MapContext, identity, resource []refPolicy) (bool, Reason) {
	c := req.Principal
	anonymous := c.Kind == Anonymous
	if !anonymous {
		for _, p := range identity {
			for _, s := range p.statements {
				if s.effect == Deny && refApplies(p, s, req, ctx, false) {
					return false, ExplicitDenyIdentity
				}
			}
		}
	}
	for _, p := range resource {
		for _, s := range p.statements {
			if s.effect == Deny && refNamed(s, c) != "" && refApplies(p, s, req, ctx, true) {
				return false, ExplicitDenyResource
			}
		}
	}
	account := req.ResourceAccount
	if account == "" && req.Resource != "*" {
		account = strings.Split(req.Resource, ":")[4]
	}
	same := !anonymous && c.Account == account
	if same && c.Kind == Root {
		return true, AllowedAsRoot
	}
	identityAllow := false
	for _, p := range identity {
		for _, s := range p.statements {
			if !anonymous && s.effect == Allow && refApplies(p, s, req, ctx, false) {
				identityAllow = true
			}
		}
	}
	if same && identityAllow {
		return true, AllowedByIdentity
	}
	direct, viaAccount := false, false
	for _, p := range resource {
		for _, s := range p.statements {
			if s.effect != Allow || !refApplies(p, s, req, ctx, true) {
				continue
			}
			switch refNamed(s, c) {
			case "direct":
				direct = true
			case "account":
				viaAccount = true
			}
		}
	}
	switch {
	case same && direct, anonymous && direct:
		return true, AllowedByResource
	case same:
		return false, NoIdentityAllow
	case anonymous, !direct && !viaAccount:
		return false, NoResourceAllow
	case identityAllow || c.Kind == Root:
		return true, AllowedByResource
	}
	return false, NoIdentityAllow
}

// refNamed says how a resource-policy statement names the caller:
// "direct", "account" or "".
func refNamed(s refStatement, c Principal) string {
	if s.bareStar {
		return "direct"
	}
	root := "arn:aws:iam::" + c.Account + ":root"
	if s.notPrincipal != nil {
		has := func(e string) bool {
			for _, p := range s.notPrincipal {
				if p == e || p == "*" {
					return true
				}
			}
			return false
		}
		if c.Kind == Anonymous {
			if has("*") {
				return ""
			}
			return "direct"
		}
		exempt := (has(c.Account) || has(root)) &&
			(c.Kind != AssumedRole || has(c.RoleARN)) &&
			(c.Kind == Root || has(c.ARN))
		if exempt {
			return ""
		}
		return "direct"
	}
	best := ""
	for _, p := range s.principal {
		switch {
		case p == "*":
			return "direct"
		case c.Kind == Anonymous:
		case p == c.ARN, c.Kind == AssumedRole && p == c.RoleARN:
			return "direct"
		case p == c.Account || p == root:
			if c.Kind == Root {
				return "direct"
			}
			best = "account"
		}
	}
	return best
}

func refApplies(p refPolicy, s refStatement, req Request, ctx MapContext, resourcePolicy bool) bool {
	if s.action != nil && !refAnyAction(s.action, req.Action) || s.notAction != nil && refAnyAction(s.notAction, req.Action) {
		return false
	}
	switch {
	case s.resource != nil:
		matched := false
		for _, pat := range s.resource {
			if m, ok := refResource(p, pat, req); ok && m {
				matched = true
			}
		}
		if !matched {
			return false
		}
	case s.notResource != nil:
		for _, pat := range s.notResource {
			if m, ok := refResource(p, pat, req); !ok || m {
				return false
			}
		}
	case !resourcePolicy:
		return false
	}
	for _, c := range s.conds {
		if !refCondition(c, ctx) {
			return false
		}
	}
	return true
}

func refAnyAction(patterns []string, action string) bool {
	for _, pat := range patterns {
		var re strings.Builder
		re.WriteString("(?i)^")
		for _, r := range pat {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		if regexp.MustCompile(re.String()).MatchString(action) {
			return true
		}
	}
	return false
}

// refResource matches an ARN pattern: wildcards stay in their colon
// segment unless a '*' ends the segment. ok is false for a variable that
// has no value (only ${aws:username} is in the vocabulary).
func refResource(p refPolicy, pat string, req Request) (match, ok bool) {
	if p.version == Version2012 && strings.Contains(pat, "${aws:username}") {
		if req.Principal.Kind != User {
			return false, false
		}
		pat = strings.ReplaceAll(pat, "${aws:username}", req.Principal.UserName)
	}
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '*':
			if i+1 == len(pat) || pat[i+1] == ':' {
				re.WriteString(".*")
			} else {
				re.WriteString("[^:]*")
			}
		case '?':
			re.WriteString("[^:]")
		default:
			re.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(req.Resource), true
}

func refCondition(c refCond, ctx MapContext) bool {
	op := c.op
	set := ""
	for _, q := range []string{"ForAnyValue:", "ForAllValues:"} {
		if strings.HasPrefix(op, q) {
			set, op = q, strings.TrimPrefix(op, q)
		}
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	negated := strings.Contains(op, "Not")
	var got []string
	for k, v := range ctx {
		if strings.EqualFold(k, c.key) {
			got = v
		}
	}
	present := len(got) > 0
	if op == "Null" {
		return c.values[0] == "true" && !present || c.values[0] == "false" && present
	}
	if !present {
		switch {
		case ifExists || set == "ForAllValues:":
			return true
		case set == "ForAnyValue:":
			return false
		}
		return negated
	}
	matchesAny := func(v string) bool {
		for _, pv := range c.values {
			if refCompare(op, v, pv) {
				return true
			}
		}
		return false
	}
	ok := func(v string) bool { return matchesAny(v) != negated }
	all, any := true, false
	for _, v := range got {
		all = all && ok(v)
		any = any || ok(v)
	}
	switch {
	case set == "ForAllValues:":
		return all
	case set == "ForAnyValue:":
		return any
	case negated:
		return all
	}
	return any
}

func refCompare(op, v, pv string) bool {
	switch op {
	case "StringEquals", "StringNotEquals":
		return v == pv
	case "StringLike", "StringNotLike":
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pv)) + "$"
		return regexp.MustCompile(re).MatchString(v)
	case "IpAddress", "NotIpAddress":
		addr := netip.MustParseAddr(v)
		if !strings.Contains(pv, "/") {
			return netip.MustParseAddr(pv) == addr
		}
		return netip.MustParsePrefix(pv).Contains(addr)
	case "NumericLessThan", "NumericGreaterThanEquals":
		x, _ := strconv.Atoi(v)
		y, _ := strconv.Atoi(pv)
		if op == "NumericLessThan" {
			return x < y
		}
		return x >= y
	case "Bool":
		return v == pv
	}
	panic("reference has no operator " + op)
}
