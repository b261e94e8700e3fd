package policy

import (
	"strings"
	"testing"
)

// The accounts and callers of ecr-auth §6.4.
const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var (
	ci      = Principal{ARN: "arn:aws:iam::111122223333:user/ci", Account: acctA, Kind: User, UserName: "ci"}
	admin   = Principal{ARN: "arn:aws:iam::111122223333:user/admin", Account: acctA, Kind: User, UserName: "admin"}
	ext     = Principal{ARN: "arn:aws:iam::444455556666:user/ext", Account: acctB, Kind: User, UserName: "ext"}
	rootA   = Principal{ARN: "arn:aws:iam::111122223333:root", Account: acctA, Kind: Root}
	rootB   = Principal{ARN: "arn:aws:iam::444455556666:root", Account: acctB, Kind: Root}
	session = Principal{ARN: "arn:aws:sts::111122223333:assumed-role/ci-role/s1", Account: acctA, Kind: AssumedRole,
		RoleARN: "arn:aws:iam::111122223333:role/ci-role"}
	anon = Principal{Account: AnonymousAccount, Kind: Anonymous}
)

func repo(name string) string { return "arn:aws:ecr:us-east-1:111122223333:repository/" + name }

func mustParse(t testing.TB, text string) *Policy {
	t.Helper()
	p, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return p
}

// Identity and repository policies the cases share.
const (
	tokenAndPushAppA = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
		{"Effect":"Allow","Action":["ecr:CompleteLayerUpload","ecr:UploadLayerPart","ecr:InitiateLayerUpload",
			"ecr:BatchCheckLayerAvailability","ecr:PutImage","ecr:BatchGetImage"],
		 "Resource":"arn:aws:ecr:us-east-1:111122223333:repository/app-a"}]}`
	ecrAll       = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`
	pushActions  = `["ecr:CompleteLayerUpload","ecr:UploadLayerPart","ecr:InitiateLayerUpload","ecr:BatchCheckLayerAvailability","ecr:PutImage","ecr:BatchGetImage"]`
	pullActions  = `["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]`
	allowPullToB = `{"Version":"2012-10-17","Statement":{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":` + pullActions + `}}`
)

func managedPolicy(t *testing.T, name string) string {
	t.Helper()
	m, ok := ManagedByARN("arn:aws:iam::aws:policy/" + name)
	if !ok {
		t.Fatalf("no managed policy %s", name)
	}
	return m.Document
}

type evalCase struct {
	name      string
	caller    Principal
	identity  []string
	resource  []string
	action    string
	res       string
	ctx       MapContext
	allowed   bool
	reason    Reason
	message   string // exact, when the case is a denial AWS documents
	policyHit string // Decision.Policy, when it matters
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var id, rp []Named
			for i, text := range c.identity {
				id = append(id, Named{Name: "identity" + string(rune('0'+i)), Policy: mustParse(t, text)})
			}
			for i, text := range c.resource {
				rp = append(rp, Named{Name: "resource" + string(rune('0'+i)), Policy: mustParse(t, text)})
			}
			req := Request{Principal: c.caller, Action: c.action, Resource: c.res, Context: c.ctx}
			if c.res == "*" {
				req.ResourceAccount = acctA
			}
			d := Evaluate(req, id, rp)
			if d.Allowed != c.allowed || d.Reason != c.reason {
				t.Fatalf("Evaluate = %+v, want allowed=%v reason=%v", d, c.allowed, c.reason)
			}
			if c.message != "" {
				if got := d.Message(req); got != c.message {
					t.Errorf("Message =\n %s\nwant\n %s", got, c.message)
				}
			}
			if c.allowed && d.Message(req) != "" {
				t.Errorf("allowed decision has message %q", d.Message(req))
			}
			if c.policyHit != "" && d.Policy != c.policyHit {
				t.Errorf("Policy = %q, want %q", d.Policy, c.policyHit)
			}
		})
	}
}

// TestEvaluateECRCases runs the policy part of ecr-auth §6.4.
func TestEvaluateECRCases(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "1 no policy, GetAuthorizationToken", caller: ci, action: "ecr:GetAuthorizationToken", res: "*",
			reason: NoIdentityAllow,
			message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * " +
				"because no identity-based policy allows the ecr:GetAuthorizationToken action"},
		{name: "3 PullOnly pulls", caller: ci, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryPullOnly")},
			action: "ecr:GetDownloadUrlForLayer", res: repo("app-a"), allowed: true, reason: AllowedByIdentity, policyHit: "identity0"},
		{name: "4 PullOnly cannot push", caller: ci, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryPullOnly")},
			action: "ecr:InitiateLayerUpload", res: repo("app-a"), reason: NoIdentityAllow,
			message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:InitiateLayerUpload on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a because no identity-based policy allows the ecr:InitiateLayerUpload action"},
		{name: "5 manifest yes, blob no", caller: ci,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"` + repo("app-a") + `"}}`},
			action:   "ecr:GetDownloadUrlForLayer", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "6 push to app-a", caller: ci, identity: []string{tokenAndPushAppA},
			action: "ecr:InitiateLayerUpload", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "6 token", caller: ci, identity: []string{tokenAndPushAppA},
			action: "ecr:GetAuthorizationToken", res: "*", allowed: true, reason: AllowedByIdentity},
		{name: "6 push to app-b", caller: ci, identity: []string{tokenAndPushAppA},
			action: "ecr:InitiateLayerUpload", res: repo("app-b"), reason: NoIdentityAllow,
			message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:InitiateLayerUpload on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-b because no identity-based policy allows the ecr:InitiateLayerUpload action"},
		{name: "6 HEAD blob on app-b", caller: ci, identity: []string{tokenAndPushAppA},
			action: "ecr:BatchCheckLayerAvailability", res: repo("app-b"), reason: NoIdentityAllow},
		{name: "7 repository policy names the user", caller: ci, identity: []string{tokenAndPushAppA},
			resource: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":` + pushActions + `}}`},
			action:   "ecr:PutImage", res: repo("app-b"), allowed: true, reason: AllowedByResource, policyHit: "resource0"},
		{name: "8 repository policy names only the account id", caller: ci, identity: []string{tokenAndPushAppA},
			resource: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":` + pushActions + `}}`},
			action:   "ecr:PutImage", res: repo("app-b"), reason: NoIdentityAllow,
			message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:PutImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-b because no identity-based policy allows the ecr:PutImage action"},
		{name: "8 repository policy names only the account root", caller: ci, identity: []string{tokenAndPushAppA},
			resource: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":` + pushActions + `}}`},
			action:   "ecr:PutImage", res: repo("app-b"), reason: NoIdentityAllow},
		{name: "9 repository deny to everyone", caller: admin, identity: []string{ecrAll},
			resource: []string{`{"Version":"2012-10-17","Statement":{"Sid":"DenyPull","Effect":"Deny","Principal":"*","Action":` + pullActions + `}}`},
			action:   "ecr:BatchGetImage", res: repo("app-a"), reason: ExplicitDenyResource, policyHit: "resource0",
			message: "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: ecr:BatchGetImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a with an explicit deny in a resource-based policy"},
		{name: "10 identity deny beats repository allow", caller: admin,
			identity: []string{ecrAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ecr:PutImage","Resource":"` + repo("app-a") + `"}}`},
			resource: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"ecr:*"}}`},
			action:   "ecr:PutImage", res: repo("app-a"), reason: ExplicitDenyIdentity, policyHit: "identity1",
			message: "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: ecr:PutImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a with an explicit deny in an identity-based policy"},
		{name: "11 other account, no repository policy", caller: ext, identity: []string{ecrAll},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: NoResourceAllow,
			message: "User: arn:aws:iam::444455556666:user/ext is not authorized to perform: ecr:BatchGetImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a because no resource-based policy allows the ecr:BatchGetImage action"},
		{name: "12 other account, repository allow, no identity allow", caller: ext, resource: []string{allowPullToB},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: NoIdentityAllow,
			message: "User: arn:aws:iam::444455556666:user/ext is not authorized to perform: ecr:BatchGetImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a because no identity-based policy allows the ecr:BatchGetImage action"},
		{name: "13 other account, both allow", caller: ext,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":` + pullActions + `,"Resource":"` + repo("app-a") + `"}}`},
			resource: []string{allowPullToB},
			action:   "ecr:GetDownloadUrlForLayer", res: repo("app-a"), allowed: true, reason: AllowedByResource, policyHit: "resource0"},
		{name: "other account, neither allows", caller: ext, action: "ecr:BatchGetImage", res: repo("app-a"), reason: NoResourceAllow},
		{name: "15 odd case, star across slashes", caller: ci,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ECR:batchgetimage","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/*"}}`},
			action:   "ecr:BatchGetImage", res: repo("team/x/y"), allowed: true, reason: AllowedByIdentity},
		{name: "15 not another team", caller: ci,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ECR:batchgetimage","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/*"}}`},
			action:   "ecr:BatchGetImage", res: repo("teams/x"), reason: NoIdentityAllow},
		{name: "16 ListImageReferrers is BatchGetImage", caller: ci,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"` + repo("app-a") + `"}}`},
			action:   mustAction(t, "ListImageReferrers"), res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "18 PowerUser cannot set a policy", caller: ci, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryPowerUser")},
			action: "ecr:SetRepositoryPolicy", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "18 PowerUser cannot delete", caller: ci, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryPowerUser")},
			action: "ecr:DeleteRepository", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "18 PowerUser pushes", caller: ci, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryPowerUser")},
			action: "ecr:PutImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "identity ARN does not cover the * resource", caller: ci,
			identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}}`},
			action:   "ecr:GetAuthorizationToken", res: "*", reason: NoIdentityAllow},
		{name: "FullAccess covers everything of ECR", caller: admin, identity: []string{managedPolicy(t, "AmazonEC2ContainerRegistryFullAccess")},
			action: "ecr:PutRegistryPolicy", res: "*", allowed: true, reason: AllowedByIdentity},
	})
}

func mustAction(t *testing.T, op string) string {
	t.Helper()
	a, ok := ECRAction(op)
	if !ok {
		t.Fatalf("ECRAction(%q) unknown", op)
	}
	return a
}

// TestEvaluateIPDeny is case #14: a repository-policy Deny unless the
// caller comes from the office network.
func TestEvaluateIPDeny(t *testing.T) {
	rp := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*",
		"Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`
	runEvalCases(t, []evalCase{
		{name: "outside", caller: ci, identity: []string{ecrAll}, resource: []string{rp}, ctx: MapContext{"aws:SourceIp": {"198.51.100.7"}},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: ExplicitDenyResource,
			message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:BatchGetImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a with an explicit deny in a resource-based policy"},
		{name: "inside", caller: ci, identity: []string{ecrAll}, resource: []string{rp}, ctx: MapContext{"AWS:SOURCEIP": {"203.0.113.9"}},
			action: "ecr:BatchGetImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		// NotIpAddress on a missing key is true, so the deny applies.
		{name: "no source address", caller: ci, identity: []string{ecrAll}, resource: []string{rp},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: ExplicitDenyResource},
	})
}

func TestEvaluateRoot(t *testing.T) {
	denyAll := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"ecr:DeleteRepository"}}`
	runEvalCases(t, []evalCase{
		{name: "own account needs no policy", caller: rootA, action: "ecr:DeleteRepository", res: repo("app-a"),
			allowed: true, reason: AllowedAsRoot},
		{name: "own account, * resource", caller: rootA, action: "ecr:GetAuthorizationToken", res: "*",
			allowed: true, reason: AllowedAsRoot},
		{name: "explicit deny still applies", caller: rootA, resource: []string{denyAll}, action: "ecr:DeleteRepository", res: repo("app-a"),
			reason: ExplicitDenyResource,
			message: "User: arn:aws:iam::111122223333:root is not authorized to perform: ecr:DeleteRepository on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a with an explicit deny in a resource-based policy"},
		{name: "other account's root needs the repository policy", caller: rootB, action: "ecr:BatchGetImage", res: repo("app-a"),
			reason: NoResourceAllow},
		{name: "other account's root, account named", caller: rootB, resource: []string{allowPullToB},
			action: "ecr:BatchGetImage", res: repo("app-a"), allowed: true, reason: AllowedByResource},
	})
}

func TestEvaluateAnonymous(t *testing.T) {
	public := `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":` + pullActions + `}}`
	publicAWS := `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":` + pullActions + `}}`
	accountOnly := `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":` + pullActions + `}}`
	runEvalCases(t, []evalCase{
		{name: "public pull", caller: anon, resource: []string{public}, action: "ecr:BatchGetImage", res: repo("app-a"),
			allowed: true, reason: AllowedByResource},
		{name: "AWS * admits anonymous", caller: anon, resource: []string{publicAWS}, action: "ecr:BatchGetImage", res: repo("app-a"),
			allowed: true, reason: AllowedByResource},
		{name: "anonymous push", caller: anon, resource: []string{public}, action: "ecr:PutImage", res: repo("app-a"),
			reason: NoResourceAllow,
			message: "User: anonymous is not authorized to perform: ecr:PutImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a because no resource-based policy allows the ecr:PutImage action"},
		{name: "account principal does not admit anonymous", caller: anon, resource: []string{accountOnly},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: NoResourceAllow},
		{name: "identity policies never speak for anonymous", caller: anon, identity: []string{ecrAll},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: NoResourceAllow},
	})
}

func TestEvaluateRoleSessions(t *testing.T) {
	namedRole := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci-role"},"Action":"ecr:*"}}`
	namedSession := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/ci-role/s1"},"Action":"ecr:*"}}`
	otherSession := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/ci-role/s2"},"Action":"ecr:*"}}`
	runEvalCases(t, []evalCase{
		{name: "role ARN grants its sessions", caller: session, resource: []string{namedRole}, action: "ecr:PutImage", res: repo("app-a"),
			allowed: true, reason: AllowedByResource},
		{name: "session ARN grants that session", caller: session, resource: []string{namedSession}, action: "ecr:PutImage", res: repo("app-a"),
			allowed: true, reason: AllowedByResource},
		{name: "service principals never name a berth caller", caller: ci,
			resource: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"ecr:*"}}`},
			action:   "ecr:PutImage", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "another session's ARN does not", caller: session, resource: []string{otherSession}, action: "ecr:PutImage", res: repo("app-a"),
			reason: NoIdentityAllow,
			message: "User: arn:aws:sts::111122223333:assumed-role/ci-role/s1 is not authorized to perform: ecr:PutImage on resource: " +
				"arn:aws:ecr:us-east-1:111122223333:repository/app-a because no identity-based policy allows the ecr:PutImage action"},
	})
}

func TestEvaluateNotElements(t *testing.T) {
	notDelete := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"*"}}`
	notAppB := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","NotResource":"` + repo("app-b") + `"}}`
	exceptCI := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/ci","111122223333"]},"Action":"ecr:*"}}`
	exceptCIOnly := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":"ecr:*"}}`
	exceptRole := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/ci-role","arn:aws:sts::111122223333:assumed-role/ci-role/s1","111122223333"]},"Action":"ecr:*"}}`
	runEvalCases(t, []evalCase{
		{name: "NotAction allows others", caller: ci, identity: []string{notDelete}, action: "ecr:PutImage", res: repo("app-a"),
			allowed: true, reason: AllowedByIdentity},
		{name: "NotAction excludes", caller: ci, identity: []string{notDelete}, action: "ecr:DeleteRepository", res: repo("app-a"),
			reason: NoIdentityAllow},
		{name: "NotResource covers others", caller: ci, identity: []string{notAppB}, action: "ecr:PutImage", res: repo("app-a"),
			allowed: true, reason: AllowedByIdentity},
		{name: "NotResource covers *", caller: ci, identity: []string{notAppB}, action: "ecr:GetAuthorizationToken", res: "*",
			allowed: true, reason: AllowedByIdentity},
		{name: "NotResource excludes", caller: ci, identity: []string{notAppB}, action: "ecr:PutImage", res: repo("app-b"),
			reason: NoIdentityAllow},
		{name: "NotPrincipal exempts the listed user and account", caller: ci, identity: []string{ecrAll}, resource: []string{exceptCI},
			action: "ecr:PutImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "NotPrincipal denies the others", caller: admin, identity: []string{ecrAll}, resource: []string{exceptCI},
			action: "ecr:PutImage", res: repo("app-a"), reason: ExplicitDenyResource},
		{name: "NotPrincipal without the account denies the user too", caller: ci, identity: []string{ecrAll}, resource: []string{exceptCIOnly},
			action: "ecr:PutImage", res: repo("app-a"), reason: ExplicitDenyResource},
		{name: "NotPrincipal exempts a session listed with role and account", caller: session, identity: []string{ecrAll}, resource: []string{exceptRole},
			action: "ecr:PutImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "NotPrincipal denies anonymous", caller: anon, resource: []string{exceptCI, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*"}}`},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: ExplicitDenyResource},
	})
}

func TestEvaluateRegistryPolicy(t *testing.T) {
	registryDeny := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}}`
	registryAllow := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/prod-*"}}`
	runEvalCases(t, []evalCase{
		{name: "registry deny beats repository allow", caller: ext, identity: []string{ecrAll}, resource: []string{allowPullToB, registryDeny},
			action: "ecr:BatchGetImage", res: repo("app-a"), reason: ExplicitDenyResource, policyHit: "resource1"},
		{name: "registry allow for replication", caller: rootB, resource: []string{registryAllow},
			action: "ecr:ReplicateImage", res: repo("prod-api"), allowed: true, reason: AllowedByResource},
		{name: "registry allow limited by Resource", caller: rootB, resource: []string{registryAllow},
			action: "ecr:ReplicateImage", res: repo("dev-api"), reason: NoResourceAllow},
	})
}

func TestEvaluateVariables(t *testing.T) {
	own := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}/*"}}`
	legacy := strings.Replace(own, "2012-10-17", "2008-10-17", 1)
	shared := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/${aws:username, 'shared'}/*"}}`
	tagOwner := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/owner":"${aws:username}"}}}}`
	literalStar := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringLike":{"ecr:ResourceTag/path":"team${*}"}}}}`
	byAccount := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:${aws:PrincipalAccount}:repository/*"}}`
	runEvalCases(t, []evalCase{
		{name: "username in resource", caller: ci, identity: []string{own}, action: "ecr:PutImage", res: repo("ci/app"),
			allowed: true, reason: AllowedByIdentity},
		{name: "someone else's prefix", caller: ci, identity: []string{own}, action: "ecr:PutImage", res: repo("admin/app"),
			reason: NoIdentityAllow},
		{name: "2008-10-17 keeps it literal", caller: ci, identity: []string{legacy}, action: "ecr:PutImage", res: repo("ci/app"),
			reason: NoIdentityAllow},
		{name: "2008-10-17 literal text matches literally", caller: ci, identity: []string{legacy}, action: "ecr:PutImage",
			res: repo("${aws:username}/app"), allowed: true, reason: AllowedByIdentity},
		{name: "a session has no username", caller: session, identity: []string{own}, action: "ecr:PutImage", res: repo("ci/app"),
			reason: NoIdentityAllow},
		{name: "default value for a session", caller: session, identity: []string{shared}, action: "ecr:PutImage", res: repo("shared/app"),
			allowed: true, reason: AllowedByIdentity},
		{name: "condition variable", caller: ci, identity: []string{tagOwner}, ctx: MapContext{"ecr:ResourceTag/Owner": {"ci"}},
			action: "ecr:PutImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "condition variable, other owner", caller: ci, identity: []string{tagOwner}, ctx: MapContext{"ecr:ResourceTag/owner": {"admin"}},
			action: "ecr:PutImage", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "${*} is a literal star", caller: ci, identity: []string{literalStar}, ctx: MapContext{"ecr:ResourceTag/path": {"team*"}},
			action: "ecr:PutImage", res: repo("app-a"), allowed: true, reason: AllowedByIdentity},
		{name: "${*} is not a wildcard", caller: ci, identity: []string{literalStar}, ctx: MapContext{"ecr:ResourceTag/path": {"team-a"}},
			action: "ecr:PutImage", res: repo("app-a"), reason: NoIdentityAllow},
		{name: "principal account", caller: ci, identity: []string{byAccount}, action: "ecr:PutImage", res: repo("x"),
			allowed: true, reason: AllowedByIdentity},
	})
}

// countingContext records which keys were asked for, to show that a
// Context is only consulted when a statement otherwise applies.
type countingContext struct {
	MapContext
	asked []string
}

func (c *countingContext) Get(key string) ([]string, bool) {
	c.asked = append(c.asked, key)
	return c.MapContext.Get(key)
}

func TestEvaluateContextIsLazy(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",
		"Condition":{"StringEquals":{"ecr:ResourceTag/env":"dev"}}}}`)
	ctx := &countingContext{MapContext: MapContext{"ecr:ResourceTag/env": {"dev"}}}
	req := Request{Principal: ci, Action: "ecr:BatchGetImage", Resource: repo("app-a"), Context: ctx}
	if d := Evaluate(req, []Named{{Name: "p", Policy: p}}, nil); d.Allowed {
		t.Fatalf("BatchGetImage allowed by a PutImage policy: %+v", d)
	}
	if len(ctx.asked) != 0 {
		t.Errorf("context consulted for a statement whose action does not match: %v", ctx.asked)
	}
	req.Action = "ecr:PutImage"
	if d := Evaluate(req, []Named{{Name: "p", Policy: p}}, nil); !d.Allowed {
		t.Fatalf("PutImage denied: %+v", d)
	}
	if len(ctx.asked) != 1 || ctx.asked[0] != "ecr:ResourceTag/env" {
		t.Errorf("asked %v, want the one tag key", ctx.asked)
	}
}

func TestEvaluateResourceAccountFromARN(t *testing.T) {
	p := mustParse(t, ecrAll)
	// No ResourceAccount: read from the ARN, so same-account rules apply.
	req := Request{Principal: ci, Action: "ecr:PutImage", Resource: repo("app-a")}
	if d := Evaluate(req, []Named{{Name: "p", Policy: p}}, nil); !d.Allowed {
		t.Fatalf("same account from ARN: %+v", d)
	}
	// "*" and no ResourceAccount: treated as another account, so denied.
	req = Request{Principal: ci, Action: "ecr:GetAuthorizationToken", Resource: "*"}
	if d := Evaluate(req, []Named{{Name: "p", Policy: p}}, nil); d.Allowed || d.Reason != NoResourceAllow {
		t.Fatalf("unknown resource account: %+v, want a denial", d)
	}
}

func TestDecisionNamesTheStatement(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Token","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
		{"Sid":"NoDelete","Effect":"Deny","Action":"ecr:Delete*","Resource":"*"}]}`)
	named := []Named{{Name: "user ci inline policy push", Policy: p}}
	d := Evaluate(Request{Principal: ci, Action: "ecr:GetAuthorizationToken", Resource: "*", ResourceAccount: acctA}, named, nil)
	if !d.Allowed || d.Policy != "user ci inline policy push" || d.Sid != "Token" {
		t.Errorf("allow: %+v", d)
	}
	d = Evaluate(Request{Principal: ci, Action: "ecr:DeleteRepository", Resource: repo("app-a")}, named, nil)
	if d.Allowed || d.Reason != ExplicitDenyIdentity || d.Sid != "NoDelete" {
		t.Errorf("deny: %+v", d)
	}
	if d.Reason.String() != "explicit deny in an identity-based policy" {
		t.Errorf("Reason.String() = %q", d.Reason.String())
	}
}

func TestPrincipalFromARN(t *testing.T) {
	cases := []struct {
		arn  string
		want Principal
		ok   bool
	}{
		{"arn:aws:iam::111122223333:root", rootA, true},
		{"arn:aws:iam::111122223333:user/ci", ci, true},
		{"arn:aws:iam::111122223333:user/path/to/ci", Principal{ARN: "arn:aws:iam::111122223333:user/path/to/ci", Account: acctA, Kind: User, UserName: "ci"}, true},
		{"arn:aws:sts::111122223333:assumed-role/ci-role/s1", session, true},
		{"", anon, true},
		{"anonymous", anon, true},
		{"arn:aws:iam::111122223333:role/ci-role", Principal{}, false},
		{"arn:aws:iam::1111:root", Principal{}, false},
		{"arn:aws:sts::111122223333:assumed-role/ci-role", Principal{}, false},
	}
	for _, c := range cases {
		got, ok := PrincipalFromARN(c.arn)
		if ok != c.ok || got != c.want {
			t.Errorf("PrincipalFromARN(%q) = %+v, %v; want %+v, %v", c.arn, got, ok, c.want, c.ok)
		}
	}
}

func TestPrincipalARNs(t *testing.T) {
	p := mustParse(t, `{"Statement":[
		{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:user/ext","*"],"Service":"codebuild.amazonaws.com"},"Action":"ecr:*"},
		{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:sts::111122223333:assumed-role/r/s"]},"Action":"ecr:*"}]}`)
	got := strings.Join(p.PrincipalARNs(), " ")
	want := "arn:aws:iam::111122223333:root arn:aws:iam::444455556666:user/ext arn:aws:sts::111122223333:assumed-role/r/s"
	if got != want {
		t.Errorf("PrincipalARNs = %s\nwant %s", got, want)
	}
}
