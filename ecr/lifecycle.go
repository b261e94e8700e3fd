package ecr

import (
	"context"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/registry"
)

// The lifecycle policy operations.

type policyOutput struct {
	RegistryID          string          `json:"registryId"`
	RepositoryName      string          `json:"repositoryName"`
	LifecyclePolicyText string          `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *awsproto.Epoch `json:"lastEvaluatedAt,omitempty"`
}

func (s *Server) policyShape(p *registry.LifecyclePolicy, withTime bool) policyOutput {
	out := policyOutput{RegistryID: s.reg.ID(), RepositoryName: p.Repository, LifecyclePolicyText: p.Text}
	if withTime {
		out.LastEvaluatedAt = awsproto.EpochOf(p.EvaluatedAt)
	}
	return out
}

func (s *Server) putLifecyclePolicy(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	p, err := s.reg.PutLifecyclePolicy(ctx, in.RepositoryName, in.LifecyclePolicyText)
	if err != nil {
		return nil, err
	}
	return s.policyShape(p, false), nil
}

// policyCall is Get and Delete: the repository, and the policy it had.
func (s *Server) policyCall(ctx context.Context, c *call, op func(context.Context, string) (*registry.LifecyclePolicy, error)) (any, error) {
	return repoCall(s, ctx, c, op, func(p *registry.LifecyclePolicy) any { return s.policyShape(p, true) })
}

// repoCall serves an operation whose input is the repository alone: the
// core's op on it, its answer in the output's shape.
func repoCall[T any](s *Server, ctx context.Context, c *call, op func(context.Context, string) (T, error), shape func(T) any) (any, error) {
	in, err := decode[repoInput](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, *in); err != nil {
		return nil, err
	}
	v, err := op(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return shape(v), nil
}

func (s *Server) getLifecyclePolicy(ctx context.Context, c *call) (any, error) {
	return s.policyCall(ctx, c, s.reg.GetLifecyclePolicy)
}

func (s *Server) deleteLifecyclePolicy(ctx context.Context, c *call) (any, error) {
	return s.policyCall(ctx, c, s.reg.DeleteLifecyclePolicy)
}

func (s *Server) startLifecyclePolicyPreview(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		LifecyclePolicyText *string `json:"lifecyclePolicyText"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	pv, err := s.reg.StartLifecyclePolicyPreview(ctx, in.RepositoryName, in.LifecyclePolicyText)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": in.RepositoryName, "lifecyclePolicyText": pv.Policy, "status": pv.Status}, nil
}

type previewResultShape struct {
	ImageTags           []string          `json:"imageTags,omitempty"`
	ImageDigest         string            `json:"imageDigest"`
	ImagePushedAt       *awsproto.Epoch   `json:"imagePushedAt"`
	Action              map[string]string `json:"action"`
	AppliedRulePriority int               `json:"appliedRulePriority"`
	StorageClass        string            `json:"storageClass"`
}

func (s *Server) getLifecyclePolicyPreview(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageIDs   []imageIdentifier `json:"imageIds"`
		NextToken  string            `json:"nextToken"`
		MaxResults *int              `json:"maxResults"`
		Filter     *struct {
			TagStatus string `json:"tagStatus"`
		} `json:"filter"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	pin := registry.PreviewInput{Repository: in.RepositoryName, NextToken: in.NextToken, MaxResults: in.MaxResults}
	for _, id := range in.ImageIDs {
		pin.ImageIDs = append(pin.ImageIDs, id.ref())
	}
	if in.Filter != nil && in.Filter.TagStatus != "ANY" {
		pin.TagStatus = berth.TagStatus(in.Filter.TagStatus)
	}
	out, err := s.reg.GetLifecyclePolicyPreview(ctx, pin)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"registryId": s.reg.ID(), "repositoryName": in.RepositoryName, "lifecyclePolicyText": out.Policy, "status": out.Status}
	if out.Status != registry.PreviewComplete {
		return resp, nil
	}
	results := []previewResultShape{}
	for _, r := range out.Results {
		action := map[string]string{"type": r.Action}
		if r.TargetStorageClass != "" {
			action["targetStorageClass"] = r.TargetStorageClass
		}
		results = append(results, previewResultShape{ImageTags: r.Tags, ImageDigest: r.Digest, ImagePushedAt: awsproto.EpochOf(r.PushedAt),
			Action: action, AppliedRulePriority: r.Rule, StorageClass: r.StorageClass})
	}
	resp["previewResults"] = results
	summary := map[string]any{"expiringImageTotalCount": out.Expiring}
	if out.Transitioning > 0 {
		summary["transitioningImageTotalCounts"] = []map[string]any{{"targetStorageClass": "ARCHIVE", "imageTotalCount": out.Transitioning}}
	}
	resp["summary"] = summary
	if out.NextToken != "" {
		resp["nextToken"] = out.NextToken
	}
	return resp, nil
}

func (s *Server) updateImageStorageClass(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageID            imageIdentifier `json:"imageId"`
		TargetStorageClass string          `json:"targetStorageClass"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	digest, status, err := s.reg.UpdateImageStorageClass(ctx, in.RepositoryName, in.ImageID.ref(), in.TargetStorageClass)
	if err != nil {
		return nil, err
	}
	id := in.ImageID
	id.ImageDigest = digest
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": in.RepositoryName, "imageId": id, "imageStatus": status}, nil
}
