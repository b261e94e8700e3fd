package registry

import (
	"context"
	"log/slog"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

// Repository policies and the registry policy: ECR's resource-based
// policies, validated as ECR validates them.

// MaxPolicyText is the longest repository or registry policy, ECR's.
const MaxPolicyText = 10240

func invalidPolicyText(what string) error {
	return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: '%s'", what)
}

// validResourcePolicy parses and validates a repository (repo not "") or
// registry policy, and checks the principals it names exist.
func (r *Registry) validResourcePolicy(ctx context.Context, text string, kind policy.Kind, repo string) (*policy.Policy, error) {
	invalid := "Invalid repository policy provided"
	o := policy.ValidateOptions{}
	if kind == policy.Registry {
		invalid = "Invalid registry policy provided"
		scope, err := r.setting(ctx, settingPolicyScope)
		if err != nil {
			return nil, err
		}
		o.RegistryScope = scope
	} else if repo != "" {
		o.RepositoryARN = r.RepositoryARN(repo)
	}
	o.Public = r.public
	if len(text) > MaxPolicyText {
		return nil, invalidParam("policyText", "Member must have length less than or equal to %d", MaxPolicyText)
	}
	p, err := policy.Parse(text)
	if err == nil {
		err = policy.Validate(p, kind, o)
	}
	if err != nil {
		r.log.Debug("policy refused", "reason", err)
		return nil, invalidPolicyText(invalid)
	}
	if err := r.principalsExist(ctx, p.PrincipalARNs()); err != nil {
		return nil, err
	}
	return p, nil
}

// principalsExist checks that each principal ARN names an account berth
// knows, or a user or role of one, as ECR refuses a policy naming one IAM
// does not know ('Principal not found').
func (r *Registry) principalsExist(ctx context.Context, arns []string) error {
	if len(arns) == 0 {
		return nil
	}
	return r.meta.View(ctx, func(tx berth.MetaTx) error {
		accounts, err := tx.ListAccounts(ctx)
		if err != nil {
			return err
		}
		known := map[string]bool{r.id: true}
		for _, a := range accounts {
			known[a.ID] = true
		}
		for _, arn := range arns {
			p, ok := policy.PrincipalFromARN(arn)
			if !ok && strings.Contains(arn, ":role/") {
				if ref, ok := parseRoleARN(arn); ok {
					p = policy.Principal{ARN: arn, Account: ref.account, Kind: policy.AssumedRole, RoleARN: arn}
				}
			}
			if p.Kind == policy.Anonymous || !known[p.Account] {
				return invalidPolicyText("Principal not found")
			}
			var kind, name string
			switch {
			case p.Kind == policy.User:
				kind, name = berth.PrincipalUser, p.UserName
			case p.Kind == policy.AssumedRole:
				ref, _ := parseRoleARN(p.RoleARN)
				kind, name = berth.PrincipalRole, ref.name
			default:
				continue // the account
			}
			got, err := tx.GetPrincipal(ctx, p.Account, kind, name)
			if berth.IsCode(err, berth.ENotFound) || (err == nil && kind == berth.PrincipalUser && got.ARN != arn) {
				return invalidPolicyText("Principal not found")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *Registry) setting(ctx context.Context, name string) (string, error) {
	var v string
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		v, err = tx.GetSetting(ctx, name)
		return err
	})
	return v, err
}

// RepositoryPolicy is a repository's policy, as the three operations
// return it.
type RepositoryPolicy struct {
	Repository string
	Text       string
}

// SetRepositoryPolicy sets a repository's policy. A policy that would deny
// the caller ecr:SetRepositoryPolicy on the repository, and so lock it out
// of changing it again, is refused unless force is set.
func (r *Registry) SetRepositoryPolicy(ctx context.Context, repo, text string, force bool) (*RepositoryPolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	p, err := r.validResourcePolicy(ctx, text, policy.Repository, repo)
	if err != nil {
		return nil, err
	}
	if c, ok := CallerOf(ctx); ok && !force && !(c.Principal.Kind == policy.Root && c.Principal.Account == r.id) {
		req := policy.Request{Principal: c.Principal, Action: "ecr:SetRepositoryPolicy", Resource: r.RepositoryARN(repo), ResourceAccount: r.id,
			Context: &requestKeys{r: r, ctx: ctx, c: &c, a: &Access{Action: "ecr:SetRepositoryPolicy", Repository: repo}, now: r.nowUTC()}}
		if d := policy.Evaluate(req, allowAll, []policy.Named{{Name: "new policy", Policy: p}}); d.Reason == policy.ExplicitDenyResource {
			return nil, invalidPolicyText("The policy would deny you ecr:SetRepositoryPolicy on this repository, so that you could not change it again; to set it anyway, set force")
		}
	}
	err = r.changeIAM(ctx, "repository policy set", func(tx berth.MetaTx) error {
		err := tx.SetRepositoryPolicy(ctx, repo, text)
		if berth.IsCode(err, berth.ENotFound) {
			return r.repoNotFound(repo)
		}
		return err
	}, slog.String("repository", repo))
	if err != nil {
		return nil, err
	}
	return &RepositoryPolicy{Repository: repo, Text: text}, nil
}

func (r *Registry) repoPolicyNotFound(repo string) error {
	return berth.Errorf(berth.ERepositoryPolicyNotFound, "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", repo, r.id)
}

// GetRepositoryPolicy returns a repository's policy.
func (r *Registry) GetRepositoryPolicy(ctx context.Context, repo string) (*RepositoryPolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	var text string
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		text, err = tx.GetRepositoryPolicy(ctx, repo)
		if berth.IsCode(err, berth.ENotFound) {
			return r.repoNotFound(repo)
		}
		if err == nil && text == "" {
			return r.repoPolicyNotFound(repo)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &RepositoryPolicy{Repository: repo, Text: text}, nil
}

// DeleteRepositoryPolicy removes a repository's policy and returns it.
func (r *Registry) DeleteRepositoryPolicy(ctx context.Context, repo string) (*RepositoryPolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	var text string
	err := r.changeIAM(ctx, "repository policy deleted", func(tx berth.MetaTx) (err error) {
		text, err = tx.GetRepositoryPolicy(ctx, repo)
		switch {
		case berth.IsCode(err, berth.ENotFound):
			return r.repoNotFound(repo)
		case err != nil:
			return err
		case text == "":
			return r.repoPolicyNotFound(repo)
		}
		return tx.SetRepositoryPolicy(ctx, repo, "")
	}, slog.String("repository", repo))
	if err != nil {
		return nil, err
	}
	return &RepositoryPolicy{Repository: repo, Text: text}, nil
}

func (r *Registry) registryPolicyNotFound() error {
	return berth.Errorf(berth.ERegistryPolicyNotFound, "Registry policy does not exist in the registry with id '%s'", r.id)
}

// PutRegistryPolicy sets the registry policy, valid for the registry's
// policy scope (REGISTRY_POLICY_SCOPE, V2 unless set to V1).
func (r *Registry) PutRegistryPolicy(ctx context.Context, text string) (string, error) {
	if _, err := r.validResourcePolicy(ctx, text, policy.Registry, ""); err != nil {
		return "", err
	}
	err := r.changeIAM(ctx, "registry policy set", func(tx berth.MetaTx) error {
		return tx.PutSetting(ctx, settingRegistryPolicy, text)
	})
	return text, err
}

// GetRegistryPolicy returns the registry policy.
func (r *Registry) GetRegistryPolicy(ctx context.Context) (string, error) {
	text, err := r.setting(ctx, settingRegistryPolicy)
	if err == nil && text == "" {
		err = r.registryPolicyNotFound()
	}
	return text, err
}

// DeleteRegistryPolicy removes the registry policy and returns it.
func (r *Registry) DeleteRegistryPolicy(ctx context.Context) (string, error) {
	var text string
	err := r.changeIAM(ctx, "registry policy deleted", func(tx berth.MetaTx) (err error) {
		if text, err = tx.GetSetting(ctx, settingRegistryPolicy); err != nil {
			return err
		}
		if text == "" {
			return r.registryPolicyNotFound()
		}
		return tx.PutSetting(ctx, settingRegistryPolicy, "")
	})
	return text, err
}

// PolicyScope returns the registry policy scope: V1 or V2.
func (r *Registry) PolicyScope(ctx context.Context) (string, error) {
	v, err := r.setting(ctx, settingPolicyScope)
	if v == "" {
		v = policy.ScopeV2
	}
	return v, err
}

// PutPolicyScope sets the registry policy scope; a registry policy the new
// scope does not allow must be changed or deleted first.
func (r *Registry) PutPolicyScope(ctx context.Context, scope string) error {
	if scope != policy.ScopeV1 && scope != policy.ScopeV2 {
		return invalidParam("accountSettingValue", "Member must be one of [V1, V2]', got '%s", scope)
	}
	return r.changeIAM(ctx, "registry policy scope set", func(tx berth.MetaTx) error {
		text, err := tx.GetSetting(ctx, settingRegistryPolicy)
		if err != nil {
			return err
		}
		if text != "" && scope == policy.ScopeV1 {
			// A policy V1 does not allow would silently stop applying.
			p, err := policy.Parse(text)
			if err == nil {
				err = policy.Validate(p, policy.Registry, policy.ValidateOptions{RegistryScope: policy.ScopeV1})
			}
			if err != nil {
				return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'value' failed to satisfy constraint: 'the registry policy grants actions scope V1 does not allow; change it (put-registry-policy) or delete it first'")
			}
		}
		return tx.PutSetting(ctx, settingPolicyScope, scope)
	}, slog.String("scope", scope))
}
