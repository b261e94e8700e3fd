package berth

import (
	"context"
	"time"
)

// The identities berth knows, as IAM spells them. berth serves one
// registry, that of its own account; other accounts hold principals that
// reach it across accounts, as they would on ECR.

// Account is an AWS account: a 12-digit id and the root principal that
// owns it.
type Account struct {
	ID        string
	CreatedAt time.Time
}

// Principal kinds stored in IAMTx.
const (
	PrincipalUser = "user"
	PrincipalRole = "role"
)

// Principal is an IAM user or role.
type Principal struct {
	ARN     string // arn:aws:iam::<account>:user/<path><name>
	Account string
	Kind    string // PrincipalUser or PrincipalRole
	Name    string
	Path    string // "/" or "/a/b/"
	ID      string // AIDA… for users, AROA… for roles
	Created time.Time
	Tags    []ResourceTag
	// Roles only: the trust policy (who may assume it), its description
	// and the longest session AssumeRole may give, in seconds.
	TrustPolicy        string `json:",omitempty"`
	Description        string `json:",omitempty"`
	MaxSessionDuration int    `json:",omitempty"`
}

// AccessKey is a key pair of a principal. Secret is sealed: stores keep it
// as they are given it, and only the registry, which holds the sealing
// key, opens it.
type AccessKey struct {
	ID        string
	Principal string // the ARN requests signed with it act as
	Secret    []byte
	Status    string // Active or Inactive
	Created   time.Time
	// Temporary credentials (AssumeRole) only: when they expire, the role
	// assumed, and the SHA-256 of the session token that must come with
	// every request signed with them.
	Expires      time.Time `json:",omitzero"`
	Role         string    `json:",omitempty"`
	SessionToken []byte    `json:",omitempty"`
}

// ManagedPolicy is a customer managed policy.
type ManagedPolicy struct {
	ARN         string
	Account     string
	Name        string
	Path        string
	ID          string // ANPA…
	Description string `json:",omitempty"`
	Document    string // the default (only) version, v1
	Created     time.Time
	Updated     time.Time
}

// PolicyDocument is a policy as evaluation needs it: its name, for the
// audit log, and its text.
type PolicyDocument struct {
	Name     string // an inline policy's name or a managed policy's ARN
	Inline   bool
	Document string // "" for an attached AWS managed policy, which the registry knows
}

// IAMTx reads and writes accounts, principals, keys and identity policies.
// Every change also moves the IAM generation on, so that caches of
// decisions know to forget.
type IAMTx interface {
	// PutAccount records an account (idempotent).
	PutAccount(ctx context.Context, a *Account) error
	// ListAccounts returns every account, by id.
	ListAccounts(ctx context.Context) ([]Account, error)
	// CreatePrincipal inserts p; EConflict if its ARN, or its name among
	// the account's principals of its kind (case-insensitively), is taken.
	CreatePrincipal(ctx context.Context, p *Principal) error
	// GetPrincipal returns the principal of an account by kind and name
	// (case-insensitively); ENotFound.
	GetPrincipal(ctx context.Context, account, kind, name string) (*Principal, error)
	// ListPrincipals returns up to p.Limit principals of an account and
	// kind, by name, after p.After, and the position after the last one.
	ListPrincipals(ctx context.Context, account, kind string, p Page) ([]Principal, string, error)
	// DeletePrincipal deletes a principal; ENotFound. The caller checks it
	// has no keys or policies left, as IAM does.
	DeletePrincipal(ctx context.Context, arn string) error
	// PutAccessKey inserts or replaces k.
	PutAccessKey(ctx context.Context, k *AccessKey) error
	// GetAccessKey returns a key by id; ENotFound.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// ListAccessKeys returns the keys of a principal, oldest first.
	ListAccessKeys(ctx context.Context, principal string) ([]AccessKey, error)
	// DeleteAccessKey deletes a key; ENotFound.
	DeleteAccessKey(ctx context.Context, id string) error
	// DeleteExpiredKeys deletes up to limit temporary keys expired at t
	// and returns how many it deleted.
	DeleteExpiredKeys(ctx context.Context, t time.Time, limit int) (int, error)
	// IAMGeneration returns a number that every change to IAM data, and to
	// repository and registry policies, makes larger.
	IAMGeneration(ctx context.Context) (int64, error)
	PolicyTx
}

// PolicyTx reads and writes identity policies: customer managed ones,
// inline ones, and attachments.
type PolicyTx interface {
	// CreateManagedPolicy inserts p; EConflict if its ARN or its name in
	// the account is taken.
	CreateManagedPolicy(ctx context.Context, p *ManagedPolicy) error
	// GetManagedPolicy returns a customer managed policy; ENotFound.
	GetManagedPolicy(ctx context.Context, arn string) (*ManagedPolicy, error)
	// ListManagedPolicies returns up to p.Limit policies of an account by
	// name after p.After, and the position after the last one.
	ListManagedPolicies(ctx context.Context, account string, p Page) ([]ManagedPolicy, string, error)
	// DeleteManagedPolicy deletes a customer managed policy; ENotFound.
	DeleteManagedPolicy(ctx context.Context, arn string) error
	// PutInlinePolicy sets a principal's inline policy of that name.
	PutInlinePolicy(ctx context.Context, principal, name, document string) error
	// DeleteInlinePolicy removes one; ENotFound.
	DeleteInlinePolicy(ctx context.Context, principal, name string) error
	// AttachPolicy attaches a managed policy to a principal (idempotent).
	AttachPolicy(ctx context.Context, principal, policyARN string) error
	// DetachPolicy detaches one; ENotFound if it was not attached.
	DetachPolicy(ctx context.Context, principal, policyARN string) error
	// PolicyAttachments counts the principals a managed policy is attached to.
	PolicyAttachments(ctx context.Context, policyARN string) (int, error)
	// PrincipalPolicies returns a principal's inline policies (with their
	// documents) and attached policies (customer managed ones with their
	// documents, AWS managed ones without), inline first, each by name.
	PrincipalPolicies(ctx context.Context, principal string) ([]PolicyDocument, error)
}

// RegistryPolicyTx reads and writes the policies of the registry and its
// repositories. Every change moves the IAM generation on.
type RegistryPolicyTx interface {
	// GetRepositoryPolicy returns a repository's policy text ("" for
	// none); ENotFound if the repository is not.
	GetRepositoryPolicy(ctx context.Context, repo string) (string, error)
	// SetRepositoryPolicy sets (or with "", removes) a repository's policy;
	// ENotFound.
	SetRepositoryPolicy(ctx context.Context, repo, text string) error
	// GetSetting returns a registry setting ("" for unset): the registry
	// policy, account settings.
	GetSetting(ctx context.Context, name string) (string, error)
	// PutSetting sets (or with "", removes) a registry setting.
	PutSetting(ctx context.Context, name, value string) error
	// GetCatalogData returns a public repository's catalog data (its JSON;
	// "" for none); ENotFound if the repository is not.
	GetCatalogData(ctx context.Context, repo string) (string, error)
	// SetCatalogData sets (or with "", removes) it; ENotFound.
	SetCatalogData(ctx context.Context, repo, data string) error
}
