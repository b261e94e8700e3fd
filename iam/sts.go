package iam

import (
	"context"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
	"github.com/berth-registry/berth/registry"
)

// STS: who is calling, and role sessions.

// getCallerIdentity answers who signed the request, which needs no
// permission (STS answers it even to a caller denied sts:GetCallerIdentity).
// UserId is, as STS gives it, the account id for the root, the user's
// unique id (AIDA…) for a user, and "<role id>:<session name>" for a role
// session. The unique ids are looked up without the caller's authority,
// as berth's own read: the caller may not be allowed iam:GetUser on itself,
// and is owed its identity anyway. For a principal of another account
// berth holds, whose entities the registry reads only in the caller's
// account, UserId is left out.
func (s *Server) getCallerIdentity(ctx context.Context, c *call) (any, error) {
	caller, _ := registry.CallerOf(ctx)
	p := caller.Principal
	out := map[string]any{"Account": p.Account, "Arn": p.ARN}
	// The request's own context carries no caller: the registry reads as
	// berth, in its own account.
	own := c.r.Context()
	switch {
	case p.Kind == policy.Root:
		out["UserId"] = p.Account
	case p.Account != s.reg.ID():
	case p.Kind == policy.User:
		u, err := s.reg.GetUser(own, p.UserName)
		if err != nil && !berth.IsCode(err, berth.ENoSuchEntity) {
			return nil, err
		}
		if err == nil {
			out["UserId"] = u.ID
		}
	case p.Kind == policy.AssumedRole:
		roleName := p.RoleARN[strings.LastIndexByte(p.RoleARN, '/')+1:]
		session := p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		r, err := s.reg.GetRole(own, roleName)
		if err != nil && !berth.IsCode(err, berth.ENoSuchEntity) {
			return nil, err
		}
		if err == nil {
			out["UserId"] = r.ID + ":" + session
		}
	}
	return out, nil
}

// assumeRole gives the caller a role's temporary credentials. The
// parameters berth does not act on (session policies and tags, MFA, source
// identity, provided contexts) are refused rather than ignored, since each
// would narrow or qualify what the session may do. ExternalId is accepted
// and not checked: a trust policy that requires sts:ExternalId denies, as
// the registry does not know the key.
func (s *Server) assumeRole(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		RoleArn           string   `json:"RoleArn"`
		RoleSessionName   string   `json:"RoleSessionName"`
		DurationSeconds   int      `json:"DurationSeconds"`
		Policy            string   `json:"Policy"`
		PolicyArns        []any    `json:"PolicyArns"`
		Tags              []tag    `json:"Tags"`
		TransitiveTagKeys []string `json:"TransitiveTagKeys"`
		ExternalID        string   `json:"ExternalId"`
		SerialNumber      string   `json:"SerialNumber"`
		TokenCode         string   `json:"TokenCode"`
		SourceIdentity    string   `json:"SourceIdentity"`
		ProvidedContexts  []any    `json:"ProvidedContexts"`
	}](c)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Policy != "" || len(in.PolicyArns) > 0:
		return nil, unsupported("AssumeRole", "session policies (Policy, PolicyArns)", "a session has its role's permissions")
	case len(in.Tags) > 0 || len(in.TransitiveTagKeys) > 0:
		return nil, unsupported("AssumeRole", "session tags (Tags, TransitiveTagKeys)", "berth keeps no session tags")
	case in.SerialNumber != "" || in.TokenCode != "":
		return nil, unsupported("AssumeRole", "MFA (SerialNumber, TokenCode)", "berth has no MFA devices")
	case in.SourceIdentity != "":
		return nil, unsupported("AssumeRole", "SourceIdentity", "berth keeps no source identities")
	case len(in.ProvidedContexts) > 0:
		return nil, unsupported("AssumeRole", "ProvidedContexts", "berth trusts no context providers")
	}
	sess, err := s.reg.AssumeRole(ctx, in.RoleArn, in.RoleSessionName, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	type credentials struct {
		AccessKeyID     string    `json:"AccessKeyId"`
		SecretAccessKey string    `json:"SecretAccessKey"`
		SessionToken    string    `json:"SessionToken"`
		Expiration      time.Time `json:"Expiration"`
	}
	type assumedRoleUser struct {
		AssumedRoleID string `json:"AssumedRoleId"`
		Arn           string `json:"Arn"`
	}
	return struct {
		Credentials     credentials     `json:"Credentials"`
		AssumedRoleUser assumedRoleUser `json:"AssumedRoleUser"`
	}{
		Credentials:     credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken, Expiration: sess.Expires},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: sess.AssumedRoleID, Arn: sess.ARN},
	}, nil
}
