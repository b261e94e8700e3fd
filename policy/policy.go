// Package policy is AWS's policy language as ECR applies it, without I/O:
// Parse reads an IAM-style policy document, Validate checks it for what it
// is attached to (an identity, a repository, a registry, a role's trust),
// and Evaluate decides one request against a principal's identity policies
// and a resource's resource-based policies, answering with the reason AWS
// would print in its denial message.
//
// The rules follow the IAM User Guide (policy elements, condition operators,
// policy variables, evaluation logic, cross-account evaluation) and the ECR
// User Guide as summarised in shared/ecr-auth.md; where those are silent the
// choice is written next to the code that makes it.
package policy

import "strings"

// Policy language versions. Variables such as ${aws:username} are only
// interpreted under Version2012; under Version2008 (and when Version is
// absent, which IAM reads as 2008-10-17) they are literal text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effects a statement may have, spelled (case-sensitively) as IAM requires.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Kind is what a policy document is attached to; validation differs per
// kind, evaluation does not (the caller says which list a policy is in).
type Kind int

// The kinds of policy berth stores.
const (
	// Identity is an IAM inline or managed policy on a user, group or role:
	// no Principal, Resource required.
	Identity Kind = iota
	// Repository is an ECR repository policy: Principal required, only
	// repository-scoped ecr: actions, Resource absent, "*" or the
	// repository's own ARN.
	Repository
	// Registry is an ECR registry policy: Principal required, Resource
	// allowed, actions limited by the registry policy scope (V1 or V2).
	Registry
	// Trust is a role's trust (assume-role) policy: Principal required,
	// only the sts: actions that assume a role, no Resource.
	Trust
)

// String names the kind in messages ("a repository policy must …").
func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Repository:
		return "repository"
	case Registry:
		return "registry"
	case Trust:
		return "trust"
	}
	return "unknown"
}

// Policy is a parsed document. Elements keep the spelling they were given;
// a nil slice or pointer is an element that was absent, an empty non-nil
// one an element given as [] or {}, so validation can tell the two apart.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one element of a policy's Statement.
type Statement struct {
	Sid          string
	Effect       string
	Principal    *Principals
	NotPrincipal *Principals
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Condition lists the (operator, key, values) triples in the order the
	// document gives them; all of them must hold for the statement to apply.
	Condition []Condition
}

// Principals is the value of a Principal or NotPrincipal element: either
// the bare string "*" (Any) or an object of principal types.
type Principals struct {
	Any           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key under one operator of a Condition element, e.g.
// {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}. Values holds JSON
// strings as they are and JSON numbers and booleans as their text.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// usesVariables reports whether ${...} in p is a policy variable: only
// under 2012-10-17 (IAM reference_policies_variables: "If you don't
// include the Version element ... variables like ${aws:username} are
// treated as literal strings").
func (p *Policy) usesVariables() bool { return p.Version == Version2012 }

// Texts ECR answers for an invalid policy, whatever is wrong with it
// (ecr-auth §2.2); the ECR door wraps them in its InvalidParameterException.
const (
	InvalidRepositoryPolicy = "Invalid repository policy provided"
	InvalidRegistryPolicy   = "Invalid registry policy provided"
)

// Error is a policy document that cannot be used. Message is what AWS
// answers (IAM's MalformedPolicyDocument text for Identity and Trust, ECR's
// fixed text for Repository and Registry, IAM's syntax text from Parse);
// Detail says precisely what is wrong, for the log and for a person.
type Error struct {
	Message string
	Detail  string
	// Statement is the index of the statement at fault, -1 when the fault
	// is in the document as a whole.
	Statement int
}

// Error gives AWS's text with the detail after it, for logs.
func (e *Error) Error() string {
	if e.Detail == "" || e.Detail == e.Message {
		return e.Message
	}
	return e.Message + " (" + e.Detail + ")"
}

// IAM's MalformedPolicyDocument texts, as IAM's CreatePolicy, PutUserPolicy
// and CreateRole answer them (terraform-provider-aws #10419, #8905;
// hashicorp/terraform #9002, #10057; the texts moto reproduces in
// moto/iam/policy_validation.py).
const (
	msgSyntax          = "Syntax errors in policy."
	msgLegacy          = "The policy failed legacy parsing"
	msgVersion         = "Policy document must be version 2012-10-17 or greater."
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgPrincipal       = "Policy document should not specify a principal."
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon        = "Actions/Condition can contain only one colon."
	msgResourceVendor  = "Resource vendor must be fully qualified and cannot contain regexes."
	msgTrustActions    = "AssumeRole policy may only specify STS AssumeRole actions."
	msgTrustResource   = "Has prohibited field Resource"
	msgTrustNotPrinc   = "AssumeRole policy must not contain NotPrincipal field."
	msgInvalidPrinc    = "Invalid principal in policy: "
	msgResourceFormat  = "Resource %s must be in ARN format or \"*\"."
	msgVendorInvalid   = "Vendor %s is not valid"
	msgPartitionFormat = "Partition \"%s\" is not valid for resource \"%s\"."
)

// isAccountID reports whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// accountRoot is the ARN IAM turns a bare account id principal into.
func accountRoot(account string) string { return "arn:aws:iam::" + account + ":root" }

// hasWildcard reports whether s contains a glob character.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }
