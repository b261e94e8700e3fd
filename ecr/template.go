package ecr

import (
	"context"
	"github.com/berth-registry/berth/awsproto"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

type templateShape struct {
	Prefix                             string                   `json:"prefix"`
	Description                        string                   `json:"description,omitempty"`
	EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration,omitempty"`
	ResourceTags                       []tag                    `json:"resourceTags"`
	ImageTagMutability                 string                   `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter        `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RepositoryPolicy                   string                   `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy                    string                   `json:"lifecyclePolicy,omitempty"`
	AppliedFor                         []string                 `json:"appliedFor"`
	CustomRoleArn                      string                   `json:"customRoleArn,omitempty"`
	CreatedAt                          *awsproto.Epoch          `json:"createdAt"`
	UpdatedAt                          *awsproto.Epoch          `json:"updatedAt"`
}

func templateOf(t *berth.CreationTemplate) templateShape {
	out := templateShape{
		Prefix: t.Prefix, Description: t.Description, ImageTagMutability: string(t.TagMutability),
		RepositoryPolicy: t.RepositoryPolicy, LifecyclePolicy: t.LifecyclePolicy, AppliedFor: t.AppliedFor,
		CustomRoleArn: t.CustomRoleArn, CreatedAt: awsproto.EpochOf(t.CreatedAt), UpdatedAt: awsproto.EpochOf(t.UpdatedAt),
		EncryptionConfiguration: &encryptionConfiguration{EncryptionType: t.EncryptionType, KmsKey: t.KMSKey},
		ResourceTags:            []tag{},
	}
	for _, f := range t.TagMutabilityExclusions {
		out.ImageTagMutabilityExclusionFilters = append(out.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: berth.ExclusionFilterWildcard, Filter: f})
	}
	for _, rt := range t.ResourceTags {
		out.ResourceTags = append(out.ResourceTags, tag{Key: &rt.Key, Value: &rt.Value})
	}
	if out.AppliedFor == nil {
		out.AppliedFor = []string{}
	}
	return out
}

type templateRequest struct {
	Prefix                             string                   `json:"prefix"`
	Description                        *string                  `json:"description"`
	EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration"`
	ResourceTags                       []tag                    `json:"resourceTags"`
	ImageTagMutability                 *string                  `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter        `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string                  `json:"repositoryPolicy"`
	LifecyclePolicy                    *string                  `json:"lifecyclePolicy"`
	AppliedFor                         []string                 `json:"appliedFor"`
	CustomRoleArn                      *string                  `json:"customRoleArn"`
}

func (in *templateRequest) input() (registry.TemplateInput, error) {
	out := registry.TemplateInput{Prefix: in.Prefix, Description: in.Description, AppliedFor: in.AppliedFor,
		RepositoryPolicy: in.RepositoryPolicy, LifecyclePolicy: in.LifecyclePolicy, CustomRoleArn: in.CustomRoleArn}
	if in.ImageTagMutability != nil {
		m := berth.TagMutability(*in.ImageTagMutability)
		out.TagMutability = &m
	}
	filters, err := exclusionValues(in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return out, err
	}
	out.TagMutabilityExclusions = filters
	if in.ResourceTags != nil {
		if out.ResourceTags, err = resourceTags(in.ResourceTags); err != nil {
			return out, err
		}
		if out.ResourceTags == nil {
			out.ResourceTags = []berth.ResourceTag{}
		}
	}
	if e := in.EncryptionConfiguration; e != nil {
		out.EncryptionType = &e.EncryptionType
		out.KMSKey = &e.KmsKey
	}
	return out, nil
}

func (s *Server) createRepositoryCreationTemplate(ctx context.Context, c *call) (any, error) {
	return s.putTemplate(ctx, c, s.reg.CreateRepositoryCreationTemplate)
}

func (s *Server) updateRepositoryCreationTemplate(ctx context.Context, c *call) (any, error) {
	return s.putTemplate(ctx, c, s.reg.UpdateRepositoryCreationTemplate)
}

// putTemplate decodes a template's settings and creates or updates it
// (the model requires appliedFor on creation only).
func (s *Server) putTemplate(ctx context.Context, c *call, put func(context.Context, registry.TemplateInput) (*berth.CreationTemplate, error)) (any, error) {
	in, err := decode[templateRequest](c)
	if err != nil {
		return nil, err
	}
	ti, err := in.input()
	if err != nil {
		return nil, err
	}
	t, err := put(ctx, ti)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryCreationTemplate": templateOf(t)}, nil
}

func (s *Server) deleteRepositoryCreationTemplate(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		Prefix string `json:"prefix"`
	}](c)
	if err != nil {
		return nil, err
	}
	t, err := s.reg.DeleteRepositoryCreationTemplate(ctx, in.Prefix)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryCreationTemplate": templateOf(t)}, nil
}

func (s *Server) describeRepositoryCreationTemplates(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		Prefixes   []string `json:"prefixes"`
		NextToken  string   `json:"nextToken"`
		MaxResults *int     `json:"maxResults"`
	}](c)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.reg.DescribeRepositoryCreationTemplates(ctx, in.Prefixes, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := make([]templateShape, 0, len(ts))
	for i := range ts {
		out = append(out, templateOf(&ts[i]))
	}
	resp := map[string]any{"registryId": s.reg.ID(), "repositoryCreationTemplates": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

type imageReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

func (s *Server) listImageReferrers(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		SubjectID *struct {
			ImageDigest string `json:"imageDigest"`
		} `json:"subjectId"`
		Filter *struct {
			ArtifactTypes  []string `json:"artifactTypes"`
			ArtifactStatus string   `json:"artifactStatus"`
		} `json:"filter"`
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	if err := required("subjectId.imageDigest", in.SubjectID.ImageDigest); err != nil {
		return nil, err
	}
	var types []string
	if in.Filter != nil {
		types = in.Filter.ArtifactTypes
	}
	page, next, err := s.reg.ListImageReferrers(ctx, registry.ReferrersInput{
		Repository: in.RepositoryName, Subject: in.SubjectID.ImageDigest, ArtifactTypes: types, MaxResults: in.MaxResults, NextToken: in.NextToken,
	})
	if err != nil {
		return nil, err
	}
	out := make([]imageReferrer, 0, len(page))
	for _, r := range page {
		out = append(out, imageReferrer{Digest: r.Digest, MediaType: r.MediaType, ArtifactType: r.ArtifactType, Size: r.Size, Annotations: r.Annotations, ArtifactStatus: "ACTIVE"})
	}
	resp := map[string]any{"referrers": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}
