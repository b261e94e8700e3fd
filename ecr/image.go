package ecr

import (
	"context"
	"github.com/berth-registry/berth/awsproto"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/registry"
)

func (s *Server) imageShape(img *berth.Image) image {
	id := imageIdentifier{ImageDigest: img.Digest}
	if len(img.Tags) == 1 {
		id.ImageTag = img.Tags[0]
	}
	return image{
		RegistryID:             s.reg.ID(),
		RepositoryName:         img.Repository,
		ImageID:                id,
		ImageManifest:          string(img.Bytes),
		ImageManifestMediaType: img.MediaType,
	}
}

func failureShapes(fs []registry.ImageFailure) []imageFailure {
	out := make([]imageFailure, 0, len(fs))
	for _, f := range fs {
		out = append(out, imageFailure{ImageID: imageIdentifier{ImageDigest: f.ID.Digest, ImageTag: f.ID.Tag}, FailureCode: f.Code, FailureReason: f.Reason})
	}
	return out
}

func (s *Server) putImage(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageManifest          string `json:"imageManifest"`
		ImageManifestMediaType string `json:"imageManifestMediaType"`
		ImageTag               string `json:"imageTag"`
		ImageDigest            string `json:"imageDigest"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	img, err := s.reg.PutImage(ctx, registry.PutImageInput{
		Repository: in.RepositoryName,
		Manifest:   []byte(in.ImageManifest),
		MediaType:  in.ImageManifestMediaType,
		Tag:        in.ImageTag,
		Digest:     in.ImageDigest,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"image": s.imageShape(img)}, nil
}

func (s *Server) batchGetImage(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageIDs           []imageIdentifier `json:"imageIds"`
		AcceptedMediaTypes []string          `json:"acceptedMediaTypes"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	images, failures, err := s.reg.BatchGetImage(ctx, in.RepositoryName, refsOf(in.ImageIDs), in.AcceptedMediaTypes)
	if err != nil {
		return nil, err
	}
	out := make([]image, 0, len(images))
	for i := range images {
		out = append(out, s.imageShape(&images[i]))
	}
	return map[string]any{"images": out, "failures": failureShapes(failures)}, nil
}

func (s *Server) describeImages(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageIDs   []imageIdentifier `json:"imageIds"`
		NextToken  string            `json:"nextToken"`
		MaxResults *int              `json:"maxResults"`
		Filter     *filter           `json:"filter"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	di := registry.DescribeImagesInput{Repository: in.RepositoryName, IDs: refsOf(in.ImageIDs), MaxResults: in.MaxResults, NextToken: in.NextToken}
	if in.Filter != nil {
		di.TagStatus, di.ImageStatus = berth.TagStatus(in.Filter.TagStatus), in.Filter.ImageStatus
	}
	images, next, err := s.reg.DescribeImages(ctx, di)
	if err != nil {
		return nil, err
	}
	details := make([]imageDetail, 0, len(images))
	now := s.reg.Now()
	for _, img := range images {
		details = append(details, imageDetail{
			RegistryID:             s.reg.ID(),
			RepositoryName:         img.Repository,
			ImageDigest:            img.Digest,
			ImageTags:              img.Tags,
			ImageSizeInBytes:       img.Size,
			ImagePushedAt:          awsproto.EpochOf(img.PushedAt),
			LastRecordedPullTime:   awsproto.EpochOf(img.LastPulledAt),
			ImageManifestMediaType: img.MediaType,
			ArtifactMediaType:      img.ArtifactType,
			SubjectManifestDigest:  img.Subject,
			ImageStatus:            string(img.Status(now)),
			LastArchivedAt:         awsproto.EpochOf(img.ArchivedAt),
			LastActivatedAt:        awsproto.EpochOf(img.ActivatedAt(now)),
		})
	}
	resp := map[string]any{"imageDetails": details}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

func (s *Server) listImages(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		NextToken  string  `json:"nextToken"`
		MaxResults *int    `json:"maxResults"`
		Filter     *filter `json:"filter"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	var f filter
	if in.Filter != nil {
		f = *in.Filter
	}
	refs, next, err := s.reg.ListImages(ctx, in.RepositoryName, berth.TagStatus(f.TagStatus), f.ImageStatus, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"imageIds": idsOf(refs)}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

func (s *Server) batchDeleteImage(ctx context.Context, c *call) (any, error) {
	in, err := decode[struct {
		repoInput
		ImageIDs []imageIdentifier `json:"imageIds"`
	}](c)
	if err != nil {
		return nil, err
	}
	if err := s.check(c, in.repoInput); err != nil {
		return nil, err
	}
	deleted, failures, err := s.reg.BatchDeleteImage(ctx, in.RepositoryName, refsOf(in.ImageIDs))
	if err != nil {
		return nil, err
	}
	return map[string]any{"imageIds": idsOf(deleted), "failures": failureShapes(failures)}, nil
}
