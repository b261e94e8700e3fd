package ecr

import (
	"context"
	"encoding/json"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/policy"
	"github.com/berth-registry/berth/registry"
)

// authorize asks the registry whether the caller may call op with the
// checked input body: the operation's IAM action (ecr: or ecr-public:) on
// the repository it names, on the public registry, or on "*"
// (policy.ECRResourceScope, policy.ECRPublicResourceScope). A request is
// authorized before anything is looked up, so a denial says nothing of
// whether the repository exists.
func (s *Server) authorize(ctx context.Context, op string, body []byte) error {
	action, scope, known := s.actionOf(op)
	if !known {
		return awsproto.Errorf("UnsupportedOperationException", "berth has no IAM action for %s", op)
	}
	in, err := authzInput(body)
	if err != nil {
		return err
	}
	a := registry.Access{Action: action, TagKeys: in.TagKeys}
	for _, t := range in.Tags {
		if t.Key != nil && t.Value != nil {
			a.RequestTags = append(a.RequestTags, berth.ResourceTag{Key: *t.Key, Value: *t.Value})
		}
	}
	switch {
	case scope == policy.ScopeNone:
		return s.reg.Authorize(ctx, a)
	case scope == policy.ScopeRegistry:
		a.Resource = s.reg.RegistryARN()
	case op == "DescribeRepositories" && len(in.RepositoryNames) == 0:
		// Every repository: asked of repository/* as a whole [verify].
		a.AllRepositories = true
	case op == "DescribeRepositories":
		for _, name := range in.RepositoryNames {
			a.Repository = name
			if err := s.reg.Authorize(ctx, a); err != nil {
				return err
			}
		}
		return nil
	case in.ResourceArn != "":
		name, err := s.repositoryFromARN(in.ResourceArn)
		if err != nil {
			return err
		}
		a.Repository = name
	default:
		a.Repository = in.RepositoryName
		if a.Repository == "" {
			return nil // the operation refuses the missing name itself
		}
	}
	return s.reg.Authorize(ctx, a)
}

// actionOf is the IAM action of an operation of this API, and the kind of
// resource it is authorized against.
func (s *Server) actionOf(op string) (string, policy.Scope, bool) {
	if s.public != nil {
		scope, known := policy.ECRPublicResourceScope(op)
		return "ecr-public:" + op, scope, known
	}
	action, known := policy.ECRAction(op)
	repoScoped, _ := policy.ECRResourceScope(op)
	if repoScoped {
		return action, policy.ScopeRepository, known
	}
	return action, policy.ScopeNone, known
}

// authzMembers are what authorization reads of a request.
type authzMembers struct {
	RepositoryName  string   `json:"repositoryName"`
	RepositoryNames []string `json:"repositoryNames"`
	ResourceArn     string   `json:"resourceArn"`
	Tags            []tag    `json:"tags"`
	TagKeys         []string `json:"tagKeys"`
}

// authzInput reads those members alone: the rest of the body, a layer
// part of up to 20 MiB say, is the handler's to decode, once.
func authzInput(body []byte) (*authzMembers, error) {
	raw, err := awsproto.Members(body, "repositoryName", "repositoryNames", "resourceArn", "tags", "tagKeys")
	if err != nil {
		return nil, awsproto.Errorf("SerializationException", "The request body is not valid JSON")
	}
	var in authzMembers
	for name, v := range raw {
		var dst any
		switch name {
		case "repositoryName":
			dst = &in.RepositoryName
		case "repositoryNames":
			dst = &in.RepositoryNames
		case "resourceArn":
			dst = &in.ResourceArn
		case "tags":
			dst = &in.Tags
		case "tagKeys":
			dst = &in.TagKeys
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, awsproto.Errorf("SerializationException", "The request body is not valid JSON")
		}
	}
	return &in, nil
}
