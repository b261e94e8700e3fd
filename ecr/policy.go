package ecr

import (
	"context"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

// Repository policies, the registry policy and the account settings that
// govern them.

func (s *Server) repositoryPolicyShape(p *registry.RepositoryPolicy) any {
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": p.Repository, "policyText": p.Text}
}

func (s *Server) setRepositoryPolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		PolicyText string `json:"policyText"`
		Force      bool   `json:"force"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	p, err := s.reg.SetRepositoryPolicy(ctx, in.RepositoryName, in.PolicyText, in.Force)
	if err != nil {
		return nil, err
	}
	return s.repositoryPolicyShape(p), nil
}

func (s *Server) getRepositoryPolicy(ctx context.Context, c *call) (any, error) {
	return repoCall(s, ctx, c, s.reg.GetRepositoryPolicy, s.repositoryPolicyShape)
}

func (s *Server) deleteRepositoryPolicy(ctx context.Context, c *call) (any, error) {
	return repoCall(s, ctx, c, s.reg.DeleteRepositoryPolicy, s.repositoryPolicyShape)
}

func (s *Server) registryPolicyShape(text string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "policyText": text}, nil
}

func (s *Server) putRegistryPolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		PolicyText string `json:"policyText"`
	}](c)
	if err != nil {
		return nil, err
	}
	return s.registryPolicyShape(s.reg.PutRegistryPolicy(ctx, in.PolicyText))
}

func (s *Server) getRegistryPolicy(ctx context.Context, c *call) (any, error) {
	return s.registryPolicyShape(s.reg.GetRegistryPolicy(ctx))
}

func (s *Server) deleteRegistryPolicy(ctx context.Context, c *call) (any, error) {
	return s.registryPolicyShape(s.reg.DeleteRegistryPolicy(ctx))
}

// Account settings berth keeps: the registry policy scope. The others ECR
// has (BASIC_SCAN_TYPE_VERSION, BLOB_MOUNTING) have no effect in berth and
// are refused rather than stored.
const settingPolicyScope = "REGISTRY_POLICY_SCOPE"

func unknownSetting(name string) error {
	return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'name' failed to satisfy constraint: 'berth keeps only the account setting %s', got '%s'", settingPolicyScope, name)
}

func (s *Server) getAccountSetting(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		Name string `json:"name"`
	}](c)
	if err != nil {
		return nil, err
	}
	if in.Name != settingPolicyScope {
		return nil, unknownSetting(in.Name)
	}
	v, err := s.reg.PolicyScope(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"name": in.Name, "value": v}, nil
}

func (s *Server) putAccountSetting(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}](c)
	if err != nil {
		return nil, err
	}
	if in.Name != settingPolicyScope {
		return nil, unknownSetting(in.Name)
	}
	if err := s.reg.PutPolicyScope(ctx, in.Value); err != nil {
		return nil, err
	}
	return map[string]any{"name": in.Name, "value": in.Value}, nil
}
