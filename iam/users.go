package iam

import (
	"context"
	"time"

	"github.com/berth-registry/berth"
)

// Users and their access keys. A user's policies are in policies.go.

// user is IAM's User.
type user struct {
	Path       string    `json:"Path,omitempty"`
	UserName   string    `json:"UserName,omitempty"`
	UserID     string    `json:"UserId"`
	Arn        string    `json:"Arn"`
	CreateDate time.Time `json:"CreateDate,omitzero"`
	Tags       []tag     `json:"Tags,omitempty"`
}

// userOf describes a user: with its tags for CreateUser and GetUser, not
// for ListUsers, as IAM. The account's root (GetUser without a name, called
// by the root) is its id and ARN alone, without a name or path, as IAM
// answers it.
func userOf(p *berth.Principal, withTags bool) user {
	if p.Name == "" {
		return user{UserID: p.ID, Arn: p.ARN, CreateDate: p.Created}
	}
	u := user{Path: p.Path, UserName: p.Name, UserID: p.ID, Arn: p.ARN, CreateDate: p.Created}
	if withTags {
		u.Tags = tagsOf(p.Tags)
	}
	return u
}

type userInput struct {
	UserName            string `json:"UserName"`
	Path                string `json:"Path"`
	PathPrefix          string `json:"PathPrefix"`
	PermissionsBoundary string `json:"PermissionsBoundary"`
	Tags                []tag  `json:"Tags"`
	Marker              string `json:"Marker"`
	MaxItems            int    `json:"MaxItems"`
}

func (s *Server) createUser(ctx context.Context, c *call) (any, error) {
	in, err := decode[userInput](c)
	if err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		return nil, unsupported("CreateUser", "PermissionsBoundary", "berth keeps no permissions boundaries")
	}
	u, err := s.reg.CreateUser(ctx, in.UserName, in.Path, resourceTags(in.Tags))
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": userOf(u, true)}, nil
}

func (s *Server) getUser(ctx context.Context, c *call) (any, error) {
	in, err := decode[userInput](c)
	if err != nil {
		return nil, err
	}
	u, err := s.reg.GetUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": userOf(u, true)}, nil
}

func (s *Server) listUsers(ctx context.Context, c *call) (any, error) {
	in, err := decode[userInput](c)
	if err != nil {
		return nil, err
	}
	ps, next, err := s.reg.ListPrincipals(ctx, berth.PrincipalUser, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := struct {
		Users       []user `json:"Users"`
		IsTruncated bool   `json:"IsTruncated"`
		Marker      string `json:"Marker,omitempty"`
	}{Users: []user{}, IsTruncated: next != "", Marker: next}
	for i := range ps {
		out.Users = append(out.Users, userOf(&ps[i], false))
	}
	return out, nil
}

func (s *Server) deleteUser(ctx context.Context, c *call) (any, error) {
	in, err := decode[userInput](c)
	if err != nil {
		return nil, err
	}
	return nil, s.reg.DeleteUser(ctx, in.UserName)
}

// accessKey is IAM's AccessKey (with the secret, CreateAccessKey's) and
// AccessKeyMetadata (without).
type accessKey struct {
	UserName        string    `json:"UserName"`
	AccessKeyID     string    `json:"AccessKeyId"`
	Status          string    `json:"Status"`
	SecretAccessKey string    `json:"SecretAccessKey,omitempty"`
	CreateDate      time.Time `json:"CreateDate,omitzero"`
}

type accessKeyInput struct {
	UserName    string `json:"UserName"`
	AccessKeyID string `json:"AccessKeyId"`
	Status      string `json:"Status"`
}

// createAccessKey makes a key for UserName, or for the calling user when
// the request names none.
func (s *Server) createAccessKey(ctx context.Context, c *call) (any, error) {
	in, err := decode[accessKeyInput](c)
	if err != nil {
		return nil, err
	}
	k, err := s.reg.CreateAccessKey(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"AccessKey": accessKey{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status,
		SecretAccessKey: k.SecretAccessKey, CreateDate: k.Created}}, nil
}

// listAccessKeys answers a user's keys in one page: there are at most
// registry.MaxAccessKeys.
func (s *Server) listAccessKeys(ctx context.Context, c *call) (any, error) {
	in, err := decode[accessKeyInput](c)
	if err != nil {
		return nil, err
	}
	keys, _, err := s.reg.ListAccessKeys(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccessKeyMetadata []accessKey `json:"AccessKeyMetadata"`
		IsTruncated       bool        `json:"IsTruncated"`
	}{AccessKeyMetadata: []accessKey{}}
	for _, k := range keys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, accessKey{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: k.Created})
	}
	return out, nil
}

func (s *Server) updateAccessKey(ctx context.Context, c *call) (any, error) {
	in, err := decode[accessKeyInput](c)
	if err != nil {
		return nil, err
	}
	return nil, s.reg.UpdateAccessKey(ctx, in.UserName, in.AccessKeyID, in.Status)
}

func (s *Server) deleteAccessKey(ctx context.Context, c *call) (any, error) {
	in, err := decode[accessKeyInput](c)
	if err != nil {
		return nil, err
	}
	return nil, s.reg.DeleteAccessKey(ctx, in.UserName, in.AccessKeyID)
}
