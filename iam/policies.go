package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

// Identity policies: the inline and attached policies of users and roles
// (one handler of each for both kinds), and customer managed policies.

// policyText is a policy document as IAM answers it: percent-encoded as
// RFC 3986 says, every byte but the unreserved letters, digits and -._~
// written %XX (so a space is %20, never +). botocore decodes it (the AWS
// CLI prints the JSON); the Go SDK hands it over encoded, for
// url.QueryUnescape. Requests carry documents as plain JSON.
func policyText(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// policyInput is the input of the operations on a user's or role's
// policies, which name the principal by UserName or RoleName.
type policyInput struct {
	UserName       string `json:"UserName"`
	RoleName       string `json:"RoleName"`
	PolicyName     string `json:"PolicyName"`
	PolicyDocument string `json:"PolicyDocument"`
	PolicyArn      string `json:"PolicyArn"`
	PathPrefix     string `json:"PathPrefix"`
	Marker         string `json:"Marker"`
	MaxItems       int    `json:"MaxItems"`
}

// principal is the user's or role's name, as kind asks.
func (in *policyInput) principal(kind string) string {
	if kind == berth.PrincipalRole {
		return in.RoleName
	}
	return in.UserName
}

// nameMember is the member naming a principal of kind.
func nameMember(kind string) string {
	if kind == berth.PrincipalRole {
		return "RoleName"
	}
	return "UserName"
}

// PutUserPolicy, PutRolePolicy.
func (s *Server) putPrincipalPolicy(kind string) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		return nil, s.reg.PutPrincipalPolicy(ctx, kind, in.principal(kind), in.PolicyName, in.PolicyDocument)
	}
}

// GetUserPolicy, GetRolePolicy.
func (s *Server) getPrincipalPolicy(kind string) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		doc, err := s.reg.GetPrincipalPolicy(ctx, kind, in.principal(kind), in.PolicyName)
		if err != nil {
			return nil, err
		}
		return map[string]any{nameMember(kind): in.principal(kind), "PolicyName": in.PolicyName, "PolicyDocument": policyText(doc)}, nil
	}
}

// policyNames is the answer of ListUserPolicies and ListRolePolicies.
type policyNames struct {
	PolicyNames []string `json:"PolicyNames"`
	IsTruncated bool     `json:"IsTruncated"`
	Marker      string   `json:"Marker,omitempty"`
}

// ListUserPolicies, ListRolePolicies.
func (s *Server) listPrincipalPolicies(kind string) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		names, err := s.reg.ListPrincipalPolicies(ctx, kind, in.principal(kind), true)
		if err != nil {
			return nil, err
		}
		out := policyNames{}
		out.PolicyNames, out.Marker = page(names, func(n string) string { return n }, in.Marker, in.MaxItems)
		out.IsTruncated = out.Marker != ""
		return out, nil
	}
}

// DeleteUserPolicy, DeleteRolePolicy.
func (s *Server) deletePrincipalPolicy(kind string) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		return nil, s.reg.DeletePrincipalPolicy(ctx, kind, in.principal(kind), in.PolicyName)
	}
}

// AttachUserPolicy, DetachUserPolicy, AttachRolePolicy, DetachRolePolicy.
func (s *Server) attachPolicy(kind string, attach bool) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		return nil, s.reg.AttachPolicy(ctx, kind, in.principal(kind), in.PolicyArn, attach)
	}
}

type attachedPolicy struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

// ListAttachedUserPolicies, ListAttachedRolePolicies.
func (s *Server) listAttachedPolicies(kind string) handler {
	return func(ctx context.Context, c *call) (any, error) {
		in, err := decode[policyInput](c)
		if err != nil {
			return nil, err
		}
		arns, err := s.reg.ListPrincipalPolicies(ctx, kind, in.principal(kind), false)
		if err != nil {
			return nil, err
		}
		prefix := in.PathPrefix
		if prefix == "" {
			prefix = "/"
		}
		var attached []attachedPolicy
		for _, arn := range arns {
			path, name := policyPath(arn)
			if strings.HasPrefix(path, prefix) {
				attached = append(attached, attachedPolicy{PolicyName: name, PolicyArn: arn})
			}
		}
		out := struct {
			AttachedPolicies []attachedPolicy `json:"AttachedPolicies"`
			IsTruncated      bool             `json:"IsTruncated"`
			Marker           string           `json:"Marker,omitempty"`
		}{}
		out.AttachedPolicies, out.Marker = page(attached, func(p attachedPolicy) string { return p.PolicyArn }, in.Marker, in.MaxItems)
		out.IsTruncated = out.Marker != ""
		return out, nil
	}
}

// policyPath splits a managed policy's ARN
// (arn:aws:iam::<account>:policy/<path><name>) into its path and name.
func policyPath(arn string) (path, name string) {
	_, res, _ := strings.Cut(arn, ":policy")
	i := strings.LastIndexByte(res, '/')
	if i < 0 {
		return "/", res
	}
	return res[:i+1], res[i+1:]
}

// page is one page of a list the registry answers whole (a user's or
// role's policies, which IAM's quotas keep short): the items whose key
// sorts after marker, at most maxItems (100 when 0), and the marker of the
// next page, "" after the last. The marker is the last key answered, so a
// change between pages neither repeats nor skips an item that stays.
func page[T any](items []T, key func(T) string, marker string, maxItems int) ([]T, string) {
	if maxItems <= 0 {
		maxItems = 100
	}
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	start := 0
	for start < len(items) && marker != "" && key(items[start]) <= marker {
		start++
	}
	rest := items[start:]
	if len(rest) <= maxItems {
		return append([]T{}, rest...), "" // never nil: an empty list is an empty element
	}
	return rest[:maxItems], key(rest[maxItems-1])
}

// managedPolicy is IAM's Policy.
type managedPolicy struct {
	PolicyName                    string    `json:"PolicyName"`
	PolicyID                      string    `json:"PolicyId"`
	Arn                           string    `json:"Arn"`
	Path                          string    `json:"Path"`
	DefaultVersionID              string    `json:"DefaultVersionId"`
	AttachmentCount               int       `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int       `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool      `json:"IsAttachable"`
	Description                   string    `json:"Description,omitempty"`
	CreateDate                    time.Time `json:"CreateDate,omitzero"`
	UpdateDate                    time.Time `json:"UpdateDate,omitzero"`
}

// policyOf describes a managed policy; IAM gives the description in
// GetPolicy's answer only. berth keeps no permissions boundaries, so no
// policy is one.
func policyOf(p *registry.ManagedPolicyInfo, described bool) managedPolicy {
	out := managedPolicy{PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.VersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, CreateDate: p.Created, UpdateDate: p.Updated}
	if described {
		out.Description = p.Description
	}
	return out
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func resourceTags(tags []tag) []berth.ResourceTag {
	var out []berth.ResourceTag
	for _, t := range tags {
		out = append(out, berth.ResourceTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func tagsOf(tags []berth.ResourceTag) []tag {
	var out []tag
	for _, t := range tags {
		out = append(out, tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func (s *Server) createPolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		PolicyName     string `json:"PolicyName"`
		Path           string `json:"Path"`
		PolicyDocument string `json:"PolicyDocument"`
		Description    string `json:"Description"`
		Tags           []tag  `json:"Tags"`
	}](c)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		return nil, unsupported("CreatePolicy", "Tags", "berth keeps no tags on managed policies")
	}
	p, err := s.reg.CreatePolicy(ctx, in.PolicyName, in.Path, in.Description, in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": policyOf(p, false)}, nil
}

type policyARNInput struct {
	PolicyArn string `json:"PolicyArn"`
	VersionID string `json:"VersionId"`
}

func (s *Server) getPolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[policyARNInput](c)
	if err != nil {
		return nil, err
	}
	p, err := s.reg.GetPolicy(ctx, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": policyOf(p, true)}, nil
}

// getPolicyVersion answers the one version berth keeps of a policy, its
// default: v1 of a customer's, the current version of one of AWS's.
func (s *Server) getPolicyVersion(ctx context.Context, c *call) (any, error) {
	in, err := decode[policyARNInput](c)
	if err != nil {
		return nil, err
	}
	p, err := s.reg.GetPolicyVersion(ctx, in.PolicyArn, in.VersionID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"PolicyVersion": map[string]any{"Document": policyText(p.Document), "VersionId": p.VersionID,
		"IsDefaultVersion": true, "CreateDate": p.Updated}}, nil
}

func (s *Server) listPolicies(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		Scope             string `json:"Scope"`
		OnlyAttached      bool   `json:"OnlyAttached"`
		PathPrefix        string `json:"PathPrefix"`
		PolicyUsageFilter string `json:"PolicyUsageFilter"`
		Marker            string `json:"Marker"`
		MaxItems          int    `json:"MaxItems"`
	}](c)
	if err != nil {
		return nil, err
	}
	switch {
	case in.OnlyAttached:
		return nil, unsupported("ListPolicies", "OnlyAttached", "list all policies and read AttachmentCount with GetPolicy")
	case in.PolicyUsageFilter != "":
		return nil, unsupported("ListPolicies", "PolicyUsageFilter", "berth keeps no permissions boundaries")
	}
	if in.Scope == "" {
		in.Scope = "All"
	}
	ps, next, err := s.reg.ListPolicies(ctx, in.Scope, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies    []managedPolicy `json:"Policies"`
		IsTruncated bool            `json:"IsTruncated"`
		Marker      string          `json:"Marker,omitempty"`
	}{Policies: []managedPolicy{}, IsTruncated: next != "", Marker: next}
	for i := range ps {
		out.Policies = append(out.Policies, policyOf(&ps[i], false))
	}
	return out, nil
}

func (s *Server) deletePolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[policyARNInput](c)
	if err != nil {
		return nil, err
	}
	return nil, s.reg.DeletePolicy(ctx, in.PolicyArn)
}
