package iam

import (
	"context"
	"time"

	"github.com/berth-registry/berth"
)

// Roles. A role's policies are in policies.go; assuming one is STS's
// (sts.go).

// role is IAM's Role.
type role struct {
	Path                     string    `json:"Path"`
	RoleName                 string    `json:"RoleName"`
	RoleID                   string    `json:"RoleId"`
	Arn                      string    `json:"Arn"`
	CreateDate               time.Time `json:"CreateDate,omitzero"`
	AssumeRolePolicyDocument string    `json:"AssumeRolePolicyDocument,omitempty"`
	Description              string    `json:"Description,omitempty"`
	MaxSessionDuration       int       `json:"MaxSessionDuration,omitempty"`
	Tags                     []tag     `json:"Tags,omitempty"`
}

// roleOf describes a role, its trust policy encoded as IAM answers
// policies; with its tags for CreateRole and GetRole, not for ListRoles,
// as IAM.
func roleOf(p *berth.Principal, withTags bool) role {
	r := role{Path: p.Path, RoleName: p.Name, RoleID: p.ID, Arn: p.ARN, CreateDate: p.Created,
		AssumeRolePolicyDocument: policyText(p.TrustPolicy), Description: p.Description, MaxSessionDuration: p.MaxSessionDuration}
	if withTags {
		r.Tags = tagsOf(p.Tags)
	}
	return r
}

type roleInput struct {
	RoleName                 string `json:"RoleName"`
	Path                     string `json:"Path"`
	PathPrefix               string `json:"PathPrefix"`
	AssumeRolePolicyDocument string `json:"AssumeRolePolicyDocument"`
	Description              string `json:"Description"`
	MaxSessionDuration       int    `json:"MaxSessionDuration"`
	PermissionsBoundary      string `json:"PermissionsBoundary"`
	Tags                     []tag  `json:"Tags"`
	Marker                   string `json:"Marker"`
	MaxItems                 int    `json:"MaxItems"`
}

func (s *Server) createRole(ctx context.Context, c *call) (any, error) {
	in, err := decode[roleInput](c)
	if err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		return nil, unsupported("CreateRole", "PermissionsBoundary", "berth keeps no permissions boundaries")
	}
	r, err := s.reg.CreateRole(ctx, in.RoleName, in.Path, in.AssumeRolePolicyDocument, in.Description, in.MaxSessionDuration, resourceTags(in.Tags))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": roleOf(r, true)}, nil
}

func (s *Server) getRole(ctx context.Context, c *call) (any, error) {
	in, err := decode[roleInput](c)
	if err != nil {
		return nil, err
	}
	r, err := s.reg.GetRole(ctx, in.RoleName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Role": roleOf(r, true)}, nil
}

func (s *Server) listRoles(ctx context.Context, c *call) (any, error) {
	in, err := decode[roleInput](c)
	if err != nil {
		return nil, err
	}
	ps, next, err := s.reg.ListPrincipals(ctx, berth.PrincipalRole, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       []role `json:"Roles"`
		IsTruncated bool   `json:"IsTruncated"`
		Marker      string `json:"Marker,omitempty"`
	}{Roles: []role{}, IsTruncated: next != "", Marker: next}
	for i := range ps {
		out.Roles = append(out.Roles, roleOf(&ps[i], false))
	}
	return out, nil
}

func (s *Server) deleteRole(ctx context.Context, c *call) (any, error) {
	in, err := decode[roleInput](c)
	if err != nil {
		return nil, err
	}
	return nil, s.reg.DeleteRole(ctx, in.RoleName)
}
