package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
)

// MaxTagsPerImage is ECR's quota of tags on one image.
const MaxTagsPerImage = 1000

// PutImageInput is one PutImage call.
type PutImageInput struct {
	Repository string
	Manifest   []byte
	// MediaType is imageManifestMediaType: required when the manifest has no
	// mediaType field, and must agree with it otherwise.
	MediaType string
	Tag       string // optional
	// MoreTags are further tags to point at the manifest in the same
	// transaction (the registry endpoint's ?tag= parameters).
	MoreTags []string
	Digest   string // optional; must match the computed digest
	// Idempotent makes a repeated push of the same manifest (and tag) a
	// success instead of ImageAlreadyExists, as registry clients expect.
	Idempotent bool
}

// PutImage creates or updates an image: it stores the manifest if new and
// points the tag at it, all or nothing, following ECR's rules for tag
// mutability, missing content and repeated pushes.
func (r *Registry) PutImage(ctx context.Context, in PutImageInput) (*berth.Image, error) {
	if err := ValidRepositoryName(in.Repository); err != nil {
		return nil, err
	}
	for _, tag := range in.tags() {
		if err := ValidTag(tag); err != nil {
			return nil, err
		}
	}
	if in.Digest != "" {
		if err := ValidDigest("imageDigest", in.Digest); err != nil {
			return nil, err
		}
	}
	parsed, err := manifest.Parse(in.Manifest, in.MediaType)
	if err != nil {
		return nil, err
	}
	digest, err := manifest.Digest(in.Manifest, in.Digest)
	if err != nil {
		return nil, err
	}
	if in.Digest != "" && !strings.EqualFold(in.Digest, digest) {
		return nil, berth.Errorf(berth.EImageDigestMismatch, "The image digest '%s' does not match the digest '%s' that was calculated for the manifest; send the manifest bytes unchanged, or omit imageDigest", in.Digest, digest)
	}
	now := r.nowUTC()
	m := &berth.Manifest{
		Repository:   in.Repository,
		Digest:       digest,
		MediaType:    parsed.MediaType,
		ArtifactType: parsed.ArtifactType,
		Bytes:        in.Manifest,
		PushedAt:     now,
		Blobs:        parsed.Blobs(),
		Children:     parsed.Children(),
	}
	if parsed.Subject != nil {
		m.Subject = parsed.Subject.Digest
	}
	var stored *berth.Manifest // m, or the same manifest already there
	err = r.onPush(ctx, in.Repository, func() error {
		return r.meta.Update(ctx, func(tx berth.MetaTx) error {
			repo, err := r.getRepo(ctx, tx, in.Repository)
			if err != nil {
				return err
			}
			// The tags are locked first, in one order, and the image after
			// them, as BatchDeleteImage does: concurrent pushes and deletes
			// of the same tags then wait for each other instead of
			// deadlocking.
			tags := in.tags()
			current := make(map[string]string, len(tags))
			for _, tag := range slices.Sorted(slices.Values(tags)) {
				d, err := tx.GetTag(ctx, in.Repository, tag)
				if err != nil && !berth.IsCode(err, berth.ENotFound) {
					return err
				}
				current[tag] = d
			}
			existing, err := tx.LockManifest(ctx, in.Repository, digest)
			switch {
			case err == nil:
				stored = existing
			case berth.IsCode(err, berth.ENotFound):
				stored = m
				if err := r.checkReferences(ctx, tx, m, parsed); err != nil {
					return err
				}
				if err := tx.PutManifest(ctx, m); err != nil {
					return err
				}
			default:
				return err
			}
			changed := false
			if existing != nil && existing.Status(now) != berth.ImageActive {
				// Pushed again: restored from the archive at once, as ECR does.
				restored := now
				if !restored.After(existing.ArchivedAt) {
					restored = existing.ArchivedAt.Add(time.Nanosecond)
				}
				if err := tx.SetImageStorage(ctx, in.Repository, digest, existing.ArchivedAt, restored); err != nil {
					return err
				}
				changed = true
			}
			if len(tags) == 0 && existing != nil && !in.Idempotent && !changed {
				return r.imageExists(digest, "", in.Repository)
			}
			for _, tag := range tags {
				if current[tag] != "" && TagImmutable(repo, tag) {
					return berth.Errorf(berth.EImageTagAlreadyExists, "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the tag is immutable.", tag, in.Repository)
				}
				if current[tag] == digest {
					continue
				}
				// A moved tag leaves its old image in place, untagged, as ECR does.
				if err := tx.PutTag(ctx, in.Repository, tag, digest, now); err != nil {
					return err
				}
				changed = true
			}
			if len(tags) > 0 && !changed && !in.Idempotent {
				return r.imageExists(digest, tags[0], in.Repository)
			}
			if changed && existing != nil {
				n, err := tx.TagsOf(ctx, in.Repository, digest)
				if err != nil {
					return err
				}
				if len(n) > MaxTagsPerImage {
					return berth.Errorf(berth.ELimitExceeded, "The image %s would have %d tags; an image may have at most %d, delete a tag first", digest, len(n), MaxTagsPerImage)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	img := &berth.Image{Manifest: *stored, Tags: in.tags()}
	return img, nil
}

func (in *PutImageInput) tags() []string {
	var out []string
	if in.Tag != "" {
		out = append(out, in.Tag)
	}
	for _, t := range in.MoreTags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (r *Registry) imageExists(digest, tag, repo string) error {
	if tag == "" {
		return berth.Errorf(berth.EImageAlreadyExists, "Image with digest '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, repo, r.id)
	}
	return berth.Errorf(berth.EImageAlreadyExists, "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, tag, repo, r.id)
}

// checkReferences makes sure everything a new manifest names is in the
// repository, and works out its size.
func (r *Registry) checkReferences(ctx context.Context, tx berth.MetaTx, m *berth.Manifest, parsed *manifest.Manifest) error {
	var missing []string
	for _, b := range m.Blobs {
		got, err := tx.GetBlob(ctx, m.Repository, b.Digest)
		switch {
		case berth.IsCode(err, berth.ENotFound):
			missing = append(missing, b.Digest)
		case err != nil:
			return err
		case b.Size != 0 && got.Size != b.Size:
			return berth.Errorf(berth.EInvalidParameter, "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'the size of %s is %d, but the manifest says %d'", b.Digest, got.Size, b.Size)
		}
	}
	if len(missing) > 0 {
		return berth.Errorf(berth.ELayersNotFound, "Layers with digests ['%s'] required for pushing image into repository with name '%s' in the registry with id '%s' do not exist; upload them first", strings.Join(missing, "', '"), m.Repository, r.id)
	}
	m.Size = parsed.ImageSize()
	for _, c := range m.Children {
		child, err := tx.GetManifest(ctx, m.Repository, c)
		switch {
		case berth.IsCode(err, berth.ENotFound):
			missing = append(missing, c)
		case err != nil:
			return err
		default:
			m.Size = max(m.Size, child.Size)
		}
	}
	if len(missing) > 0 {
		return berth.Errorf(berth.EReferencedImagesNotFound, "The manifest list references images that do not exist in the repository with name '%s' in the registry with id '%s': ['%s']; push them by digest first", m.Repository, r.id, strings.Join(missing, "', '"))
	}
	return nil
}

// ImageFailure is a per-image failure of a batch call, with ECR's code.
type ImageFailure struct {
	ID     berth.ImageRef
	Code   string
	Reason string
	// archived: the image exists, in the archive (or being restored).
	archived bool
}

// resolve finds the manifest digest an identifier names, or a failure.
func resolve(ctx context.Context, tx berth.MetaTx, repo string, id berth.ImageRef) (string, *ImageFailure, error) {
	m, failure, err := lookupImage(ctx, tx, repo, id)
	if err != nil || failure != nil {
		return "", failure, err
	}
	return m.Digest, nil, nil
}

func validImageIDs(ids []berth.ImageRef) error {
	if len(ids) < 1 || len(ids) > 100 {
		return invalidParam("imageIds", "Member must have length between 1 and 100', got %d", len(ids))
	}
	return nil
}

// BatchGetImage returns the manifests the identifiers name. acceptedMediaTypes,
// if given, limits which stored media types may be returned.
func (r *Registry) BatchGetImage(ctx context.Context, repo string, ids []berth.ImageRef, accepted []string) ([]berth.Image, []ImageFailure, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, nil, err
	}
	if err := validImageIDs(ids); err != nil {
		return nil, nil, err
	}
	if len(accepted) > 100 {
		return nil, nil, invalidParam("acceptedMediaTypes", "Member must have length less than or equal to 100")
	}
	var images []berth.Image
	var failures []ImageFailure
	var stale []string
	now := r.nowUTC()
	// Each identifier is one lookup, answered as the store stands at
	// that moment, as ECR's batch reads are: no transaction around them.
	err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) error {
		seen := map[berth.ImageRef]bool{}
		missing := false
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			m, failure, err := lookupImage(ctx, tx, repo, id)
			if err != nil {
				return err
			}
			if failure != nil {
				missing = missing || failure.Code == "ImageNotFound"
				failures = append(failures, *failure)
				continue
			}
			if st := m.Status(now); st != berth.ImageActive {
				failures = append(failures, ImageFailure{ID: id, Code: "ImageNotFound", archived: true,
					Reason: fmt.Sprintf("The image %s is %s: it cannot be pulled until it is restored (UpdateImageStorageClass with targetStorageClass STANDARD) and ACTIVE", m.Digest, st)})
				continue
			}
			if len(accepted) > 0 && !slices.Contains(accepted, m.MediaType) {
				failures = append(failures, ImageFailure{ID: id, Code: "ImageNotFound",
					Reason: fmt.Sprintf("The image is stored as %s, which is not among the acceptedMediaTypes", m.MediaType)})
				continue
			}
			img := berth.Image{Manifest: *m}
			if id.Tag != "" {
				img.Tags = []string{id.Tag}
			}
			images = append(images, img)
			if now.Sub(m.LastPulledAt) > pullRecordInterval && !slices.Contains(stale, m.Digest) {
				stale = append(stale, m.Digest)
			}
		}
		if missing || len(images) == 0 {
			// Only now tell a missing repository from missing images.
			if _, err := r.getRepo(ctx, tx, repo); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	r.recordPulls(ctx, repo, stale, now)
	return images, failures, nil
}

// lookupImage finds the manifest an identifier names in one query, or the
// per-image failure ECR reports.
func lookupImage(ctx context.Context, tx berth.MetaTx, repo string, id berth.ImageRef) (*berth.Manifest, *ImageFailure, error) {
	if f := invalidImageID(id); f != nil {
		return nil, f, nil
	}
	var m *berth.Manifest
	var err error
	if id.Tag != "" {
		m, err = tx.GetTaggedManifest(ctx, repo, id.Tag)
	} else {
		m, err = tx.GetManifest(ctx, repo, id.Digest)
	}
	switch {
	case berth.IsCode(err, berth.ENotFound):
		return nil, imageNotFound(id), nil
	case err != nil:
		return nil, nil, err
	case id.Tag != "" && id.Digest != "" && !strings.EqualFold(m.Digest, id.Digest):
		return nil, tagMismatch(id, m.Digest), nil
	}
	return m, nil, nil
}

// lockImage resolves an identifier inside an Update that will delete what
// it names: it locks the tag, if the identifier has one, then the image,
// the order PutImage takes them in.
func lockImage(ctx context.Context, tx berth.MetaTx, repo string, id berth.ImageRef) (string, *ImageFailure, error) {
	if f := invalidImageID(id); f != nil {
		return "", f, nil
	}
	digest := id.Digest
	if id.Tag != "" {
		d, err := tx.GetTag(ctx, repo, id.Tag)
		switch {
		case berth.IsCode(err, berth.ENotFound):
			return "", imageNotFound(id), nil
		case err != nil:
			return "", nil, err
		case id.Digest != "" && !strings.EqualFold(d, id.Digest):
			return "", tagMismatch(id, d), nil
		}
		digest = d
	}
	m, err := tx.LockManifest(ctx, repo, digest)
	switch {
	case berth.IsCode(err, berth.ENotFound):
		return "", imageNotFound(id), nil
	case err != nil:
		return "", nil, err
	}
	return m.Digest, nil, nil
}

// invalidImageID is the failure ECR reports for a malformed identifier.
func invalidImageID(id berth.ImageRef) *ImageFailure {
	fail := func(code, reason string) *ImageFailure { return &ImageFailure{ID: id, Code: code, Reason: reason} }
	switch {
	case id.Digest == "" && id.Tag == "":
		return fail("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null")
	case id.Digest != "" && ValidDigest("imageDigest", id.Digest) != nil:
		return fail("InvalidImageDigest", "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'")
	case id.Tag != "" && ValidTag(id.Tag) != nil:
		return fail("InvalidImageTag", "Invalid request parameters: image tag should be 1 to 300 characters of letters, digits, '_', '.' and '-'")
	}
	return nil
}

func imageNotFound(id berth.ImageRef) *ImageFailure {
	return &ImageFailure{ID: id, Code: "ImageNotFound", Reason: "Requested image not found"}
}

func tagMismatch(id berth.ImageRef, digest string) *ImageFailure {
	return &ImageFailure{ID: id, Code: "ImageTagDoesNotMatchDigest",
		Reason: fmt.Sprintf("Invalid request parameters: the tag '%s' points at %s, not %s", id.Tag, digest, id.Digest)}
}

// recordPulls updates lastRecordedPullTime of images whose record is
// stale (ECR refreshes it at least daily; berth hourly), so that pulls do
// not turn into writes.
func (r *Registry) recordPulls(ctx context.Context, repo string, stale []string, now time.Time) {
	if len(stale) == 0 {
		return
	}
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		for _, d := range stale {
			if err := tx.TouchPulled(ctx, repo, d, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.log.Warn("recording pull time", "repository", repo, "err", err)
	}
}

// DescribeImagesInput is one DescribeImages call.
type DescribeImagesInput struct {
	Repository string
	IDs        []berth.ImageRef
	TagStatus  berth.TagStatus
	// ImageStatus is ECR's filter.imageStatus.
	ImageStatus string
	MaxResults  *int
	NextToken   string
}

// DescribeImages describes the named images (all must exist), or a page of
// the repository's images filtered by tag status.
func (r *Registry) DescribeImages(ctx context.Context, in DescribeImagesInput) ([]berth.Image, string, error) {
	if err := ValidRepositoryName(in.Repository); err != nil {
		return nil, "", err
	}
	status, err := validTagStatus(in.TagStatus)
	if err != nil {
		return nil, "", err
	}
	imageStatus, err := validImageStatus(in.ImageStatus)
	if err != nil {
		return nil, "", err
	}
	if len(in.IDs) > 0 {
		if in.NextToken != "" || in.MaxResults != nil {
			return nil, "", invalidParam("imageIds", "cannot be combined with nextToken or maxResults")
		}
		if err := validImageIDs(in.IDs); err != nil {
			return nil, "", err
		}
		var out []berth.Image
		err := r.meta.View(ctx, func(tx berth.MetaTx) error {
			if _, err := r.getRepo(ctx, tx, in.Repository); err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, id := range in.IDs {
				digest, failure, err := resolve(ctx, tx, in.Repository, id)
				if err != nil {
					return err
				}
				if failure != nil {
					if failure.Code != "ImageNotFound" {
						return berth.Errorf(berth.EInvalidParameter, "%s", failure.Reason)
					}
					return berth.Errorf(berth.EImageNotFound, "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", id.Digest, id.Tag, in.Repository, r.id)
				}
				if seen[digest] {
					continue
				}
				seen[digest] = true
				m, err := tx.GetManifest(ctx, in.Repository, digest)
				if err != nil {
					return err
				}
				tags, err := tx.TagsOf(ctx, in.Repository, digest)
				if err != nil {
					return err
				}
				out = append(out, berth.Image{Manifest: *m, Tags: tags})
			}
			return nil
		})
		return out, "", err
	}
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, "", err
	}
	kind := tokenImages + string(status) + string(imageStatus)
	after, err := decodeToken(kind, in.Repository, in.NextToken)
	if err != nil {
		return nil, "", err
	}
	var out []berth.Image
	var next string
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.getRepo(ctx, tx, in.Repository); err != nil {
			return err
		}
		out, next, err = tx.ListImages(ctx, in.Repository, berth.ImageFilter{Tags: status, Status: imageStatus, Now: r.nowUTC()}, berth.Page{After: after, Limit: limit})
		return err
	})
	return out, encodeToken(kind, in.Repository, next), err
}

// validImageStatus validates an imageStatus filter: ECR lists ACTIVE
// images unless the filter asks for others.
func validImageStatus(status string) (berth.ImageStatus, error) {
	switch s := berth.ImageStatus(status); s {
	case "":
		return berth.ImageActive, nil
	case berth.ImageActive, berth.ImageArchived, berth.ImageActivating, berth.ImageAny:
		return s, nil
	}
	return "", invalidParam("filter.imageStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]', got '%s", status)
}

// repoExists returns err if set, else whether repo exists as an error.
func (r *Registry) repoExists(ctx context.Context, repo string, err error) error {
	if err != nil {
		return err
	}
	return r.meta.View(ctx, func(tx berth.MetaTx) error {
		_, err := r.getRepo(ctx, tx, repo)
		return err
	})
}

func validTagStatus(s berth.TagStatus) (berth.TagStatus, error) {
	switch s {
	case "":
		return berth.TagStatusAny, nil
	case berth.TagStatusAny, berth.TagStatusTagged, berth.TagStatusUntagged:
		return s, nil
	}
	return "", invalidParam("filter.tagStatus", "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]', got '%s", s)
}

// ListImages lists (digest, tag) pairs: one per tag, one per untagged image.
func (r *Registry) ListImages(ctx context.Context, repo string, status berth.TagStatus, imageStatus string, maxResults *int, token string) ([]berth.ImageRef, string, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, "", err
	}
	status, err := validTagStatus(status)
	if err != nil {
		return nil, "", err
	}
	istatus, err := validImageStatus(imageStatus)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageSize(maxResults)
	if err != nil {
		return nil, "", err
	}
	kind := tokenImageRefs + string(status) + string(istatus)
	after, err := decodeToken(kind, repo, token)
	if err != nil {
		return nil, "", err
	}
	var out []berth.ImageRef
	var next string
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		out, next, err = tx.ListImageRefs(ctx, repo, berth.ImageFilter{Tags: status, Status: istatus, Now: r.nowUTC()}, berth.Page{After: after, Limit: limit})
		return err
	})
	return out, encodeToken(kind, repo, next), err
}

// BatchDeleteImage deletes images by tag (the tag goes; the image goes with
// its last tag) or by digest (the image and all its tags go). An image an
// index references cannot go.
func (r *Registry) BatchDeleteImage(ctx context.Context, repo string, ids []berth.ImageRef) ([]berth.ImageRef, []ImageFailure, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, nil, err
	}
	if err := validImageIDs(ids); err != nil {
		return nil, nil, err
	}
	var deleted []berth.ImageRef
	var failures []ImageFailure
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		deleted, failures = nil, nil
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		for _, id := range ids {
			digest, failure, err := lockImage(ctx, tx, repo, id)
			if err != nil {
				return err
			}
			if failure != nil {
				failures = append(failures, *failure)
				continue
			}
			refs, failure, err := r.deleteOne(ctx, tx, repo, id, digest)
			if err != nil {
				return err
			}
			if failure != nil {
				failures = append(failures, *failure)
				continue
			}
			deleted = append(deleted, refs...)
		}
		return nil
	})
	return deleted, failures, err
}

// deleteOne deletes what id names: digest, as lockImage found and locked it.
func (r *Registry) deleteOne(ctx context.Context, tx berth.MetaTx, repo string, id berth.ImageRef, digest string) ([]berth.ImageRef, *ImageFailure, error) {
	tags, err := tx.TagsOf(ctx, repo, digest)
	if err != nil {
		return nil, nil, err
	}
	parents, err := tx.ManifestParents(ctx, repo, digest)
	if err != nil {
		return nil, nil, err
	}
	// By tag, only the tag goes while other tags or an index still need the
	// image; the image goes with its last tag otherwise.
	if id.Tag != "" && (len(tags) > 1 || len(parents) > 0) {
		if err := tx.DeleteTag(ctx, repo, id.Tag); err != nil {
			return nil, nil, err
		}
		return []berth.ImageRef{{Digest: digest, Tag: id.Tag}}, nil, nil
	}
	if len(parents) > 0 {
		return nil, &ImageFailure{ID: id, Code: "ImageReferencedByManifestList",
			Reason: fmt.Sprintf("Requested image is referenced by a manifest list: %s; delete that first", strings.Join(parents, ", "))}, nil
	}
	// Its blobs may be garbage now: reviewed once the grace period ends.
	if err := tx.ReviewManifestBlobs(ctx, repo, digest, r.nowUTC().Add(r.gc.BlobGrace)); err != nil {
		return nil, nil, err
	}
	if err := tx.DeleteManifest(ctx, repo, digest); err != nil {
		return nil, nil, err
	}
	if len(tags) == 0 {
		return []berth.ImageRef{{Digest: digest}}, nil, nil
	}
	var out []berth.ImageRef
	for _, t := range tags {
		out = append(out, berth.ImageRef{Digest: digest, Tag: t})
	}
	return out, nil, nil
}
