package ecr

import (
	"context"
	"github.com/berth-registry/berth/awsproto"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

func (s *Server) repositoryShape(c *call, r *berth.Repository) repository {
	out := repository{
		RepositoryArn:              s.repositoryARN(r.Name),
		RegistryID:                 s.reg.ID(),
		RepositoryName:             r.Name,
		RepositoryURI:              s.repositoryURI(c, r.Name),
		CreatedAt:                  awsproto.EpochOf(r.CreatedAt),
		ImageTagMutability:         string(r.TagMutability),
		ImageScanningConfiguration: imageScanningConfiguration{ScanOnPush: r.ScanOnPush},
		EncryptionConfiguration:    encryptionConfiguration{EncryptionType: r.EncryptionType, KmsKey: r.KMSKey},
	}
	for _, f := range r.TagMutabilityExclusions {
		out.ImageTagMutabilityExclusionFilters = append(out.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: berth.ExclusionFilterWildcard, Filter: f})
	}
	return out
}

func (s *Server) repositoryARN(name string) string { return s.reg.RepositoryARN(name) }

// repositoryURI is where clients pull a repository from: this host for the
// private registry, the public endpoint and alias for the public one.
func (s *Server) repositoryURI(c *call, name string) string {
	if s.public != nil {
		if s.public.host == "" {
			return "" // no public endpoint: no URI to pull from
		}
		return s.public.host + "/" + s.public.alias + "/" + name
	}
	return c.r.Host + "/" + name
}

// repositoryFromARN parses a repository ARN of this registry.
func (s *Server) repositoryFromARN(arn string) (string, error) {
	prefix := s.reg.RepositoryARN("")
	name, ok := strings.CutPrefix(arn, prefix)
	if arn == "" {
		return "", required("resourceArn", arn)
	}
	if !ok || name == "" {
		return "", berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be a repository ARN of this registry, %s<name>', got '%s'", prefix, arn)
	}
	return name, nil
}

func exclusionValues(fs []exclusionFilter) ([]string, error) {
	var out []string
	for _, f := range fs {
		if f.FilterType != berth.ExclusionFilterWildcard {
			return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'imageTagMutabilityExclusionFilters.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]', got '%s'", f.FilterType)
		}
		out = append(out, f.Filter)
	}
	return out, nil
}

func resourceTags(ts []tag) ([]berth.ResourceTag, error) {
	var out []berth.ResourceTag
	for _, t := range ts {
		if t.Key == nil || t.Value == nil {
			return nil, berth.Errorf(berth.EInvalidTagParameter, "Each tag needs both Key and Value")
		}
		out = append(out, berth.ResourceTag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

func (s *Server) createRepository(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		RegistryID                         string                      `json:"registryId"`
		RepositoryName                     string                      `json:"repositoryName"`
		Tags                               []tag                       `json:"tags"`
		ImageTagMutability                 string                      `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []exclusionFilter           `json:"imageTagMutabilityExclusionFilters"`
		ImageScanningConfiguration         *imageScanningConfiguration `json:"imageScanningConfiguration"`
		EncryptionConfiguration            *encryptionConfiguration    `json:"encryptionConfiguration"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.reg.ValidRegistryID(in.RegistryID); err != nil {
		return nil, err
	}
	filters, err := exclusionValues(in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	tags, err := resourceTags(in.Tags)
	if err != nil {
		return nil, err
	}
	ri := registryCreateInput(in.RepositoryName, in.ImageTagMutability, filters, tags)
	if in.ImageScanningConfiguration != nil {
		ri.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if e := in.EncryptionConfiguration; e != nil {
		ri.EncryptionType, ri.KMSKey = e.EncryptionType, e.KmsKey
	}
	repo, err := s.reg.CreateRepository(ctx, ri)
	if err != nil {
		return nil, err
	}
	return map[string]any{"repository": s.repositoryShape(c, repo)}, nil
}

func (s *Server) describeRepositories(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		RegistryID      string   `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, repoInput{RegistryID: in.RegistryID}); err != nil {
		return nil, err
	}
	repos, next, err := s.reg.DescribeRepositories(ctx, in.RepositoryNames, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := make([]repository, 0, len(repos))
	for i := range repos {
		out = append(out, s.repositoryShape(c, &repos[i]))
	}
	resp := map[string]any{"repositories": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

type repoInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

// check validates the members every repository-scoped operation has
// beyond what the model says: the registry id must be this registry's.
func (s *Server) check(c *call, in repoInput) error {
	c.repo = in.RepositoryName
	if s.public != nil {
		return s.public.validRegistry(in.RegistryID, s.reg.ID())
	}
	return s.reg.ValidRegistryID(in.RegistryID)
}

func (s *Server) deleteRepository(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		Force bool `json:"force"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	repo, err := s.reg.DeleteRepository(ctx, in.RepositoryName, in.Force)
	if err != nil {
		return nil, err
	}
	return map[string]any{"repository": s.repositoryShape(c, repo)}, nil
}

func (s *Server) putImageTagMutability(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageTagMutability                 string            `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	filters, err := exclusionValues(in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	repo, err := s.reg.PutImageTagMutability(ctx, in.RepositoryName, berth.TagMutability(in.ImageTagMutability), filters)
	if err != nil {
		return nil, err
	}
	shape := s.repositoryShape(c, repo)
	resp := map[string]any{"registryId": s.reg.ID(), "repositoryName": repo.Name, "imageTagMutability": shape.ImageTagMutability}
	if len(shape.ImageTagMutabilityExclusionFilters) > 0 {
		resp["imageTagMutabilityExclusionFilters"] = shape.ImageTagMutabilityExclusionFilters
	}
	return resp, nil
}

func (s *Server) putImageScanningConfiguration(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageScanningConfiguration *imageScanningConfiguration `json:"imageScanningConfiguration"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	repo, err := s.reg.PutImageScanningConfiguration(ctx, in.RepositoryName, in.ImageScanningConfiguration.ScanOnPush)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.reg.ID(), "repositoryName": repo.Name, "imageScanningConfiguration": imageScanningConfiguration{ScanOnPush: repo.ScanOnPush}}, nil
}

// resourceInput is the input of the three resource-tag operations.
type resourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	Tags        []tag    `json:"tags"`
	TagKeys     []string `json:"tagKeys"`
}

// resource decodes a resource-tag operation and the repository it names.
func (s *Server) resource(c *call) (*resourceInput, string, error) {
	in, err := decode[resourceInput](c)
	if err != nil {
		return nil, "", err
	}
	name, err := s.repositoryFromARN(in.ResourceArn)
	return in, name, err
}

func (s *Server) tagResource(ctx context.Context, c *call) (any, error) {
	in, name, err := s.resource(c)
	if err != nil {
		return nil, err
	}
	tags, err := resourceTags(in.Tags)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.reg.TagRepository(ctx, name, tags)
}

func (s *Server) untagResource(ctx context.Context, c *call) (any, error) {
	in, name, err := s.resource(c)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.reg.UntagRepository(ctx, name, in.TagKeys)
}

func (s *Server) listTagsForResource(ctx context.Context, c *call) (any, error) {
	_, name, err := s.resource(c)
	if err != nil {
		return nil, err
	}
	repo, err := s.reg.GetRepository(ctx, name)
	if err != nil {
		return nil, err
	}
	tags := make([]tag, 0, len(repo.Tags))
	for _, t := range repo.Tags {
		tags = append(tags, tag{Key: &t.Key, Value: &t.Value})
	}
	return map[string]any{"tags": tags}, nil
}

func registryCreateInput(name, mutability string, filters []string, tags []berth.ResourceTag) registry.CreateRepositoryInput {
	return registry.CreateRepositoryInput{Name: name, TagMutability: berth.TagMutability(mutability), TagMutabilityExclusions: filters, Tags: tags}
}
