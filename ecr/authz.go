package ecr

import (
	"context"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/policy"
	"github.com/berth-registry/berth/registry"
)

// authorize asks the registry whether the caller may call op with the
// checked input body: the operation's IAM action on the repository it
// names, or on "*" (policy.ECRResourceScope). A request is authorized
// before anything is looked up, so a denial says nothing of whether the
// repository exists.
func (s *Server) authorize(ctx context.Context, op string, body []byte) error {
	action, known := policy.ECRAction(op)
	if !known {
		return awsproto.Errorf("UnsupportedOperationException", "berth has no IAM action for %s", op)
	}
	repoScoped, _ := policy.ECRResourceScope(op)
	in, err := awsproto.Decode[struct {
		RepositoryName  string   `json:"repositoryName"`
		RepositoryNames []string `json:"repositoryNames"`
		ResourceArn     string   `json:"resourceArn"`
		Tags            []tag    `json:"tags"`
		TagKeys         []string `json:"tagKeys"`
	}](body)
	if err != nil {
		return err
	}
	a := registry.Access{Action: action, TagKeys: in.TagKeys}
	for _, t := range in.Tags {
		if t.Key != nil && t.Value != nil {
			a.RequestTags = append(a.RequestTags, berth.ResourceTag{Key: *t.Key, Value: *t.Value})
		}
	}
	if !repoScoped {
		return s.reg.Authorize(ctx, a)
	}
	switch {
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
