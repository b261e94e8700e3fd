package policy

import (
	"errors"
	"strings"
	"testing"
)

type validateCase struct {
	name    string
	kind    Kind
	opts    ValidateOptions
	text    string
	message string // "" for a valid policy
	detail  string // a part of Detail
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.kind.String()+"/"+c.name, func(t *testing.T) {
			err := Validate(mustParse(t, c.text), c.kind, c.opts)
			if c.message == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Validate = %v, want *Error %q", err, c.message)
			}
			if pe.Message != c.message {
				t.Errorf("Message = %q, want %q (detail %q)", pe.Message, c.message, pe.Detail)
			}
			if !strings.Contains(pe.Detail, c.detail) {
				t.Errorf("Detail = %q, want it to contain %q", pe.Detail, c.detail)
			}
		})
	}
}

func stmt(body string) string { return `{"Version":"2012-10-17","Statement":[` + body + `]}` }

func TestValidateIdentity(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "ecr all", text: ecrAll},
		{name: "push to one repository", text: tokenAndPushAppA},
		{name: "no Version", text: `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`},
		{name: "NotAction and NotResource", text: stmt(`{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:*"}`)},
		{name: "every service and wildcards", text: stmt(`{"Effect":"Allow","Action":["ecr-public:*","sts:GetServiceBearerToken","ec?:Get*","*"],"Resource":"arn:aws:ecr:*"}`)},
		{name: "conditions", text: stmt(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"ForAllValues:StringLikeIfExists":{"aws:TagKeys":"a*"}}}`)},
		{name: "a managed policy", text: managedPolicy(t, "AmazonEC2ContainerRegistryFullAccess")},

		{name: "principal", text: stmt(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}`),
			message: "Policy document should not specify a principal.", detail: "statement 0 names a principal"},
		{name: "not principal", text: stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*","Resource":"*"}`),
			message: "Policy document should not specify a principal."},
		{name: "no Effect", text: stmt(`{"Action":"ecr:*","Resource":"*"}`), message: "Syntax errors in policy.", detail: "no Effect"},
		{name: "Effect in lower case", text: stmt(`{"Effect":"allow","Action":"ecr:*","Resource":"*"}`),
			message: "The policy failed legacy parsing", detail: `Effect "allow" must be spelled Allow or Deny`},
		{name: "Effect not an effect", text: stmt(`{"Effect":"Permit","Action":"ecr:*","Resource":"*"}`),
			message: "Syntax errors in policy.", detail: `Effect "Permit" is neither Allow nor Deny`},
		{name: "no Action", text: stmt(`{"Effect":"Allow","Resource":"*"}`), message: "Policy statement must contain actions."},
		{name: "empty Action", text: stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), message: "Policy statement must contain actions."},
		{name: "Action and NotAction", text: stmt(`{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}`),
			message: "Syntax errors in policy.", detail: "both Action and NotAction"},
		{name: "no Resource", text: stmt(`{"Effect":"Allow","Action":"ecr:*"}`), message: "Policy statement must contain resources."},
		{name: "Resource and NotResource", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","NotResource":"*"}`),
			message: "Syntax errors in policy.", detail: "both Resource and NotResource"},
		{name: "action without service", text: stmt(`{"Effect":"Allow","Action":"GetAuthorizationToken","Resource":"*"}`),
			message: "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{name: "action with two colons", text: stmt(`{"Effect":"Allow","Action":"ecr:Get:Token","Resource":"*"}`),
			message: "Actions/Condition can contain only one colon."},
		{name: "bad vendor", text: stmt(`{"Effect":"Allow","Action":"e$r:Get","Resource":"*"}`), message: "Vendor e$r is not valid"},
		{name: "bad action name", text: stmt(`{"Effect":"Allow","Action":"ecr:Get Token","Resource":"*"}`),
			message: "Syntax errors in policy.", detail: "letters, digits and wildcards"},
		{name: "resource not an ARN", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"app-a"}`),
			message: `Resource app-a must be in ARN format or "*".`},
		{name: "resource partition", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:azure:ecr:us-east-1:1:repository/x"}`),
			message: `Partition "azure" is not valid for resource "arn:azure:ecr:us-east-1:1:repository/x".`},
		{name: "resource service wildcard", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:*:us-east-1:1:repository/x"}`),
			message: "Resource vendor must be fully qualified and cannot contain regexes."},
		{name: "resource too short", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1"}`),
			message: `Resource arn:aws:ecr:us-east-1 must be in ARN format or "*".`},
		{name: "unknown Version", text: `{"Version":"2013-01-01","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`,
			message: "Syntax errors in policy.", detail: `Version "2013-01-01"`},
		{name: "managed policy needs 2012-10-17", opts: ValidateOptions{RequireCurrentVersion: true},
			text:    `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`,
			message: "Policy document must be version 2012-10-17 or greater."},
		{name: "no statements", text: `{"Version":"2012-10-17","Statement":[]}`, message: "Syntax errors in policy.", detail: "no Statement"},
		{name: "no Statement element", text: `{"Version":"2012-10-17"}`, message: "Syntax errors in policy."},
		{name: "repeated Sid", text: stmt(`{"Sid":"A","Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"ecr:*","Resource":"*"}`),
			message: "Statement IDs (SID) in a single policy must be unique.", detail: `statement 1 repeats Sid "A"`},
		{name: "Sid with a space", text: stmt(`{"Sid":"new statement","Effect":"Allow","Action":"ecr:*","Resource":"*"}`),
			message: "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{name: "unknown operator", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringMatches":{"a:b":"c"}}}`),
			message: "Syntax errors in policy.", detail: `"StringMatches" is not a condition operator`},
		{name: "NullIfExists", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}`),
			message: "Syntax errors in policy."},
		{name: "bad date", text: stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"next year"}}}`),
			message: "The policy failed legacy parsing", detail: `"next year" is neither an ISO 8601 date nor epoch seconds`},
	})
}

func TestValidateRepository(t *testing.T) {
	own := ValidateOptions{RepositoryARN: repo("app-a")}
	rp := func(body string) string { return `{"Version":"2008-10-17","Statement":[` + body + `]}` }
	runValidateCases(t, []validateCase{
		{name: "AllowPushPull for two users", kind: Repository, opts: own, text: rp(`{"Sid":"AllowPushPull","Effect":"Allow",
			"Principal":{"AWS":["arn:aws:iam::111122223333:user/push-pull-user-1","arn:aws:iam::111122223333:user/push-pull-user-2"]},
			"Action":["ecr:BatchGetImage","ecr:BatchCheckLayerAvailability","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer",
			"ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"]}`)},
		{name: "cross-account root", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:*"}`)},
		{name: "account id, role and session", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":["444455556666",
			"arn:aws:iam::444455556666:role/path/r","arn:aws:sts::444455556666:assumed-role/r/s"]},"Action":"ecr:BatchGetImage"}`)},
		{name: "everyone, * action", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"*"}`)},
		{name: "Describe wildcard", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:Describe*"}`)},
		{name: "service principal with conditions", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},
			"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
			"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:codebuild:us-east-1:111122223333:project/*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}`)},
		{name: "IP deny", kind: Repository, opts: own, text: rp(`{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":"54.240.143.0/24"}}}`)},
		{name: "NotPrincipal deny", kind: Repository, opts: own, text: rp(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*"}`)},
		{name: "NotAction naming an ECR action", kind: Repository, opts: own, text: rp(`{"Effect":"Deny","Principal":"*","NotAction":"ecr:GetAuthorizationToken"}`)},
		{name: "Resource *", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Resource":"*"}`)},
		{name: "Resource is the repository", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Resource":"` + repo("app-a") + `"}`)},
		{name: "repeated Sids and spaces", kind: Repository, opts: own, text: rp(`{"Sid":"new statement","Effect":"Allow","Principal":"*","Action":"ecr:ListImages"},
			{"Sid":"new statement","Effect":"Allow","Principal":"*","Action":"ecr:DescribeImages"}`)},
		{name: "permission-only actions", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},
			"Action":["ecr:ReplicateImage","ecr:BatchImportUpstreamImage","ecr:GetImageCopyStatus"]}`)},

		{name: "2 GetAuthorizationToken", kind: Repository, opts: own,
			text:    rp(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":"ecr:GetAuthorizationToken"}`),
			message: InvalidRepositoryPolicy, detail: `"ecr:GetAuthorizationToken" is not an action on a repository`},
		{name: "unknown ECR action", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:PullImage"}`),
			message: InvalidRepositoryPolicy, detail: `"ecr:PullImage" is not an ECR action`},
		{name: "another service", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`),
			message: InvalidRepositoryPolicy, detail: "is not an ECR action"},
		{name: "wildcard of registry actions only", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:GetAuth*"}`),
			message: InvalidRepositoryPolicy, detail: "is not an action on a repository"},
		{name: "another repository's ARN", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Resource":"` + repo("app-b") + `"}`),
			message: InvalidRepositoryPolicy, detail: "may only name \"*\" or its repository's ARN"},
		{name: "a pattern Resource", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:*:*:repository/*"}`),
			message: InvalidRepositoryPolicy},
		{name: "NotResource", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","NotResource":"*"}`),
			message: InvalidRepositoryPolicy, detail: "NotResource"},
		{name: "no Principal", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy, detail: "has no Principal"},
		{name: "wildcard principal ARN", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:*"},"Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy, detail: `"arn:aws:iam::111122223333:*" is not a valid AWS principal`},
		{name: "short account id", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"1234"},"Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy},
		{name: "group principal", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/devs"},"Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy},
		{name: "empty principal list", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy, detail: "lists nobody"},
		{name: "NotPrincipal with Allow", kind: Repository, opts: own, text: rp(`{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy, detail: "NotPrincipal"},
		{name: "syntax faults get ECR's text too", kind: Repository, opts: own, text: rp(`{"Effect":"allow","Principal":"*","Action":"ecr:BatchGetImage"}`),
			message: InvalidRepositoryPolicy, detail: `Effect "allow"`},
	})
}

func TestValidateRegistry(t *testing.T) {
	v1 := ValidateOptions{RegistryScope: ScopeV1}
	replication := stmt(`{"Sid":"ReplicationAccessCrossAccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
		"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-west-2:111122223333:repository/*"}`)
	pull := stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}`)
	runValidateCases(t, []validateCase{
		{name: "V1 replication", kind: Registry, opts: v1, text: replication},
		{name: "V2 replication", kind: Registry, text: replication},
		{name: "V1 pattern within the three", kind: Registry, opts: v1, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:Replicate*","Resource":"*"}`)},
		{name: "24 V2 BatchGetImage", kind: Registry, opts: ValidateOptions{RegistryScope: ScopeV2}, text: pull},
		{name: "V2 ecr:*", kind: Registry, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*","Resource":"*"}`)},
		{name: "no Resource", kind: Registry, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:ReplicateImage"}`)},

		{name: "24 V1 BatchGetImage", kind: Registry, opts: v1, text: pull,
			message: InvalidRegistryPolicy, detail: "covers ecr:BatchGetImage, which a V1 registry policy cannot grant"},
		{name: "V1 ecr:*", kind: Registry, opts: v1, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*","Resource":"*"}`),
			message: InvalidRegistryPolicy},
		{name: "V1 NotAction", kind: Registry, opts: v1, text: stmt(`{"Effect":"Deny","Principal":{"AWS":"444455556666"},"NotAction":"ecr:ReplicateImage","Resource":"*"}`),
			message: InvalidRegistryPolicy, detail: "NotAction"},
		{name: "another service", kind: Registry, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"*"}`),
			message: InvalidRegistryPolicy, detail: "names no ECR action"},
		{name: "not a repository", kind: Registry, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*","Resource":"arn:aws:s3:::bucket"}`),
			message: InvalidRegistryPolicy, detail: "may only name ECR repositories"},
		{name: "no Principal", kind: Registry, text: stmt(`{"Effect":"Allow","Action":"ecr:ReplicateImage","Resource":"*"}`),
			message: InvalidRegistryPolicy},
		{name: "unknown scope", kind: Registry, opts: ValidateOptions{RegistryScope: "V3"}, text: replication,
			message: InvalidRegistryPolicy, detail: `"V3"`},
	})
}

func TestValidateTrust(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "another account may assume", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}`)},
		{name: "a service and tags", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}`)},
		{name: "everyone as AWS *, with a condition", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}`)},

		{name: "Resource", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}`),
			message: "Has prohibited field Resource"},
		{name: "not an sts action", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:*"}`),
			message: "AssumeRole policy may only specify STS AssumeRole actions."},
		{name: "star action", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*"}`),
			message: "AssumeRole policy may only specify STS AssumeRole actions."},
		{name: "bare star principal", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`),
			message: `Invalid principal in policy: "*"`},
		{name: "nonexistent-looking principal", kind: Trust, text: stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"sts:AssumeRole"}`),
			message: `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"`},
		{name: "NotPrincipal", kind: Trust, text: stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`),
			message: "AssumeRole policy must not contain NotPrincipal field."},
		{name: "no Principal", kind: Trust, text: stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`),
			message: "Syntax errors in policy.", detail: "no Principal"},
	})
}

func TestValidateNil(t *testing.T) {
	if err := Validate(nil, Identity, ValidateOptions{}); err == nil {
		t.Error("Validate(nil) = nil")
	}
	if err := Validate(mustParse(t, ecrAll), Kind(9), ValidateOptions{}); err == nil {
		t.Error("Validate with an unknown kind = nil")
	}
}
