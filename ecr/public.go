package ecr

import (
	"context"
	"encoding/base64"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/models"
	"github.com/berth-registry/berth/registry"
)

// The ECR Public API (target prefix SpencerFrontendService, signing name
// ecr-public) is served by the same handlers as private ECR's where the
// operations are the same, over the public registry (the store's "public"
// namespace), with ECR Public's model checking the inputs and shaping the
// outputs; the operations only ECR Public has are here.

// PublicTargetPrefix is the X-Amz-Target prefix of the ECR Public API.
const PublicTargetPrefix = "SpencerFrontendService."

// PublicModel is the ECR Public API model.
var PublicModel = mustLoad(models.ECRPublic)

// publicAPI is what the public server knows beyond the private one's.
type publicAPI struct {
	// host is the public registry endpoint as clients reach it (host:port),
	// alias the registry's alias: repository URIs are host/alias/name.
	host, alias string
}

// NewPublic returns the ECR Public API server over the public registry,
// whose endpoint clients reach at host.
func NewPublic(reg *registry.Registry, a *auth.Authenticator, alias, host string, log *slog.Logger) *Server {
	s := &Server{reg: reg, auth: a, region: auth.GlobalRegion, log: log, model: PublicModel, public: &publicAPI{host: host, alias: alias}}
	s.ops = s.publicHandlers()
	return s
}

// PublicServed returns the ECR Public operations berth serves, sorted.
func PublicServed() []string {
	return slices.Sorted(maps.Keys((&Server{public: &publicAPI{}}).publicHandlers()))
}

func (s *Server) publicHandlers() map[string]handler {
	return map[string]handler{
		"BatchCheckLayerAvailability": s.batchCheckLayerAvailability,
		"InitiateLayerUpload":         s.initiateLayerUpload,
		"UploadLayerPart":             s.uploadLayerPart,
		"CompleteLayerUpload":         s.completeLayerUpload,
		"PutImage":                    s.putImage,
		"DescribeImages":              s.describeImages,
		"BatchDeleteImage":            s.batchDeleteImage,
		"DescribeImageTags":           s.describeImageTags,

		"CreateRepository":     s.createPublicRepository,
		"DescribeRepositories": s.describeRepositories,
		"DeleteRepository":     s.deleteRepository,

		"SetRepositoryPolicy":    s.setRepositoryPolicy,
		"GetRepositoryPolicy":    s.getRepositoryPolicy,
		"DeleteRepositoryPolicy": s.deleteRepositoryPolicy,

		"TagResource":         s.tagResource,
		"UntagResource":       s.untagResource,
		"ListTagsForResource": s.listTagsForResource,

		"DescribeRegistries":       s.describeRegistries,
		"GetRegistryCatalogData":   s.getRegistryCatalogData,
		"PutRegistryCatalogData":   s.putRegistryCatalogData,
		"GetRepositoryCatalogData": s.getRepositoryCatalogData,
		"PutRepositoryCatalogData": s.putRepositoryCatalogData,

		"GetAuthorizationToken": s.getPublicAuthorizationToken,
	}
}

// validRegistry accepts no registry id, the account's, or (on the
// operations whose model allows it) the registry's alias.
func (p *publicAPI) validRegistry(id, account string) error {
	if id == "" || id == account || id == p.alias {
		return nil
	}
	return awsproto.Errorf("RegistryNotFoundException", "The registry with id or alias '%s' does not exist; this server is registry %s, alias %s", id, account, p.alias)
}

// getPublicAuthorizationToken is ECR Public's: one object, no
// proxyEndpoint; the token works on the public endpoint.
func (s *Server) getPublicAuthorizationToken(ctx context.Context, c *call) (any, error) {
	password, exp := s.auth.IssueToken(c.cred)
	return map[string]any{"authorizationData": map[string]any{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		"expiresAt":          awsproto.EpochOf(exp),
	}}, nil
}

// catalogDataInput is the model's RepositoryCatalogDataInput.
type catalogDataInput struct {
	Description      string   `json:"description"`
	Architectures    []string `json:"architectures"`
	OperatingSystems []string `json:"operatingSystems"`
	LogoImageBlob    []byte   `json:"logoImageBlob"`
	AboutText        string   `json:"aboutText"`
	UsageText        string   `json:"usageText"`
}

func (in *catalogDataInput) data() *registry.CatalogData {
	if in == nil {
		return &registry.CatalogData{}
	}
	return &registry.CatalogData{Description: in.Description, Architectures: in.Architectures, OperatingSystems: in.OperatingSystems,
		AboutText: in.AboutText, UsageText: in.UsageText, Logo: in.LogoImageBlob}
}

// catalogDataShape is the model's RepositoryCatalogData.
func catalogDataShape(d *registry.CatalogData) map[string]any {
	out := map[string]any{}
	set := func(k string, v any, ok bool) {
		if ok {
			out[k] = v
		}
	}
	set("description", d.Description, d.Description != "")
	set("architectures", d.Architectures, len(d.Architectures) > 0)
	set("operatingSystems", d.OperatingSystems, len(d.OperatingSystems) > 0)
	set("aboutText", d.AboutText, d.AboutText != "")
	set("usageText", d.UsageText, d.UsageText != "")
	return out
}

func (s *Server) createPublicRepository(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		RepositoryName string            `json:"repositoryName"`
		CatalogData    *catalogDataInput `json:"catalogData"`
		Tags           []tag             `json:"tags"`
	}](c)
	if err != nil {
		return nil, err
	}
	tags, err := resourceTags(in.Tags)
	if err != nil {
		return nil, err
	}
	c.repo = in.RepositoryName
	data := in.CatalogData.data()
	repo, err := s.reg.CreateRepository(ctx, registry.CreateRepositoryInput{Name: in.RepositoryName, Tags: tags})
	if err != nil {
		return nil, err
	}
	if in.CatalogData != nil {
		if data, err = s.reg.PutCatalogData(ctx, repo.Name, data); err != nil {
			// Created, but its catalog data refused: nothing half-made stays.
			s.reg.DeleteRepository(ctx, repo.Name, true)
			return nil, err
		}
	}
	return map[string]any{"repository": s.repositoryShape(c, repo), "catalogData": catalogDataShape(data)}, nil
}

func (s *Server) getRepositoryCatalogData(ctx context.Context, c *call) (any, error) {
	return repoCall(s, ctx, c, s.reg.CatalogDataOf, func(d *registry.CatalogData) any { return map[string]any{"catalogData": catalogDataShape(d)} })
}

func (s *Server) putRepositoryCatalogData(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		CatalogData *catalogDataInput `json:"catalogData"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	d, err := s.reg.PutCatalogData(ctx, in.RepositoryName, in.CatalogData.data())
	if err != nil {
		return nil, err
	}
	return map[string]any{"catalogData": catalogDataShape(d)}, nil
}

func (s *Server) getRegistryCatalogData(ctx context.Context, c *call) (any, error) {
	name, err := s.reg.DisplayName(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryCatalogData": registryCatalogData(name)}, nil
}

func registryCatalogData(name string) map[string]any {
	if name == "" {
		return map[string]any{}
	}
	return map[string]any{"displayName": name}
}

func (s *Server) putRegistryCatalogData(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		DisplayName *string `json:"displayName"`
	}](c)
	if err != nil {
		return nil, err
	}
	name, err := s.reg.DisplayName(ctx)
	if err != nil {
		return nil, err
	}
	if in.DisplayName != nil {
		name = *in.DisplayName
		if err := s.reg.PutDisplayName(ctx, name); err != nil {
			return nil, err
		}
	}
	return map[string]any{"registryCatalogData": registryCatalogData(name)}, nil
}

// describeRegistries answers the one public registry berth serves.
func (s *Server) describeRegistries(ctx context.Context, c *call) (any, error) {
	if _, err := decode[struct {
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}](c); err != nil {
		return nil, err
	}
	uri := s.public.host + "/" + s.public.alias
	if s.public.host == "" {
		uri = s.public.alias // no public endpoint serves it
	}
	return map[string]any{"registries": []any{map[string]any{
		"registryId":  s.reg.ID(),
		"registryArn": s.reg.RegistryARN(),
		"registryUri": uri,
		"verified":    false,
		"aliases": []any{map[string]any{"name": s.public.alias, "status": "ACTIVE",
			"primaryRegistryAlias": true, "defaultRegistryAlias": true}},
	}}}, nil
}

func (s *Server) describeImageTags(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	tags, next, err := s.reg.DescribeImageTags(ctx, in.RepositoryName, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	details := make([]any, 0, len(tags))
	for _, t := range tags {
		d := map[string]any{"imageDigest": t.Image.Digest, "imageSizeInBytes": t.Image.Size,
			"imagePushedAt": awsproto.EpochOf(t.Image.PushedAt), "imageManifestMediaType": t.Image.MediaType}
		if t.Image.ArtifactType != "" {
			d["artifactMediaType"] = t.Image.ArtifactType
		}
		details = append(details, map[string]any{"imageTag": t.Tag, "createdAt": awsproto.EpochOf(t.Image.PushedAt), "imageDetail": d})
	}
	out := map[string]any{"imageTagDetails": details}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// PublicOperationName returns the ECR Public operation an X-Amz-Target
// names, or "unknown", for metrics.
func PublicOperationName(target string) string {
	op, ok := strings.CutPrefix(target, PublicTargetPrefix)
	if !ok || !publicOperations[op] {
		return "unknown"
	}
	return op
}

var publicOperations = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range PublicServed() {
		m[op] = true
	}
	return m
}()
