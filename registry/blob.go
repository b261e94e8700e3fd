package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
)

// Blob reads and deletes of the registry endpoint. Unlike ECR's
// GetDownloadUrlForLayer they do not require an image to reference the
// blob: registry clients check and fetch blobs they have just pushed.

func (r *Registry) blobNotFound(repo, digest string) error {
	return berth.Errorf(berth.ELayersNotFound, "The blob %s does not exist in the repository with name '%s' in the registry with id '%s'", digest, repo, r.id)
}

// StatBlob returns a blob the repository holds. Telling a client that a
// blob exists is a promise that a manifest may reference it: the blob's
// review by garbage collection is put off by the grace period.
func (r *Registry) StatBlob(ctx context.Context, repo, digest string) (*berth.Blob, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if err := ValidDigest("layerDigest", digest); err != nil {
		return nil, err
	}
	var b *berth.Blob
	// One lookup, without a transaction around it: a blob is found only in
	// a repository that exists (its record goes with the repository), so
	// the repository is asked for only to tell which of the two is missing.
	err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
		b, err = tx.GetBlob(ctx, repo, digest)
		if berth.IsCode(err, berth.ENotFound) {
			if _, err := r.getRepo(ctx, tx, repo); err != nil {
				return err
			}
			return r.blobNotFound(repo, digest)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	gone, err := r.confirmBlobs(ctx, repo, []berth.Blob{*b})
	if err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		return nil, r.blobNotFound(repo, digest)
	}
	return b, nil
}

// OpenBlob opens a blob the repository holds.
func (r *Registry) OpenBlob(ctx context.Context, repo, digest string) (*berth.Blob, berth.BlobReader, error) {
	b, err := r.StatBlob(ctx, repo, digest)
	if err != nil {
		return nil, nil, err
	}
	f, err := r.blobs.Open(ctx, b.Key)
	if err != nil {
		// Metadata says the repository holds it: a missing file is ours.
		return nil, nil, errors.Join(fmt.Errorf("blob %s (object %s) is recorded but cannot be opened", digest, b.Key), err)
	}
	return b, f, nil
}

// DeleteBlob removes a blob from a repository, unless a manifest there
// still references it. Its bytes are left for garbage collection.
func (r *Registry) DeleteBlob(ctx context.Context, repo, digest string) error {
	if _, err := r.StatBlob(ctx, repo, digest); err != nil {
		return err
	}
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		// Locked first, so that no push can reference it while it goes.
		_, err := tx.LockBlob(ctx, repo, digest)
		if berth.IsCode(err, berth.ENotFound) {
			return r.blobNotFound(repo, digest)
		}
		if err != nil {
			return err
		}
		used, err := tx.BlobReferenced(ctx, repo, digest)
		if err != nil {
			return err
		}
		if used {
			return berth.Errorf(berth.EConflict, "The blob %s is referenced by a manifest in the repository with name '%s'; delete the manifest first", digest, repo)
		}
		if err := tx.DeleteBlob(ctx, repo, digest); err != nil {
			return err
		}
		return tx.ReviewBlobs(ctx, []string{digest}, r.nowUTC().Add(r.gc.BlobGrace))
	})
}

// MountBlob gives repo a blob that repository from holds, without copying
// bytes. It returns nil, nil when from does not hold it (or may not be
// read), so the caller falls back to an upload.
func (r *Registry) MountBlob(ctx context.Context, repo, from, digest string) (*berth.Blob, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if ValidRepositoryName(from) != nil || ValidDigest("digest", digest) != nil {
		return nil, nil
	}
	var b *berth.Blob
	err := r.onPush(ctx, repo, func() error {
		return r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
			if _, err := r.getRepo(ctx, tx, repo); err != nil {
				return err
			}
			b, err = tx.GetBlob(ctx, from, digest)
			if berth.IsCode(err, berth.ENotFound) {
				b = nil
				return nil
			}
			if err != nil {
				return err
			}
			if err := tx.ReviewBlobs(ctx, []string{digest}, r.nowUTC().Add(r.gc.BlobGrace)); err != nil {
				return err
			}
			return tx.PutBlob(ctx, repo, *b, r.nowUTC())
		})
	})
	return b, err
}

// GetImage returns the manifest a tag or digest names, recording the pull.
func (r *Registry) GetImage(ctx context.Context, repo, reference string) (*berth.Image, error) {
	id := berth.ImageRef{Tag: reference}
	if strings.Contains(reference, ":") {
		id = berth.ImageRef{Digest: reference}
	}
	images, failures, err := r.BatchGetImage(ctx, repo, []berth.ImageRef{id}, nil)
	if err != nil {
		return nil, err
	}
	if len(failures) > 0 {
		f := failures[0]
		if f.archived {
			return nil, berth.Errorf(berth.EImageNotFound, "%s", f.Reason)
		}
		if f.Code == "ImageNotFound" {
			return nil, berth.Errorf(berth.EImageNotFound, "The manifest %s does not exist in the repository with name '%s' in the registry with id '%s'", reference, repo, r.id)
		}
		return nil, berth.Errorf(berth.EInvalidParameter, "%s", f.Reason)
	}
	return &images[0], nil
}

// DeleteManifest deletes by digest (the image and its tags) or removes a
// tag (the image stays), as the registry endpoint's DELETE does.
func (r *Registry) DeleteManifest(ctx context.Context, repo, reference string) error {
	if err := ValidRepositoryName(repo); err != nil {
		return err
	}
	byDigest := strings.Contains(reference, ":")
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		notFound := berth.Errorf(berth.EImageNotFound, "The manifest %s does not exist in the repository with name '%s' in the registry with id '%s'", reference, repo, r.id)
		if !byDigest {
			if ValidTag(reference) != nil {
				return notFound
			}
			err := tx.DeleteTag(ctx, repo, reference)
			if berth.IsCode(err, berth.ENotFound) {
				return notFound
			}
			return err
		}
		if ValidDigest("digest", reference) != nil {
			return notFound
		}
		id := berth.ImageRef{Digest: reference}
		digest, failure, err := lockImage(ctx, tx, repo, id)
		switch {
		case err != nil:
			return err
		case failure != nil:
			return notFound
		}
		_, failure, err = r.deleteOne(ctx, tx, repo, id, digest)
		switch {
		case berth.IsCode(err, berth.ENotFound):
			return notFound
		case err != nil:
			return err
		case failure != nil:
			return berth.Errorf(berth.EConflict, "%s", failure.Reason)
		}
		return nil
	})
}

// ListTags returns a page of a repository's tags in lexical order.
func (r *Registry) ListTags(ctx context.Context, repo string, n int, last string) ([]string, string, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, "", err
	}
	var tags []string
	var next string
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		tags, next, err = tx.ListTags(ctx, repo, berth.Page{After: last, Limit: n})
		return err
	})
	return tags, next, err
}

// Catalog returns a page of repository names in lexical order.
func (r *Registry) Catalog(ctx context.Context, n int, last string) ([]string, string, error) {
	var names []string
	var next string
	err := r.meta.View(ctx, func(tx berth.MetaTx) error {
		repos, nx, err := tx.ListRepositories(ctx, berth.Page{After: last, Limit: n})
		for _, repo := range repos {
			names = append(names, repo.Name)
		}
		next = nx
		return err
	})
	return names, next, err
}

// Referrer is a manifest that names another as its subject.
type Referrer struct {
	Digest, MediaType, ArtifactType string
	Size                            int64
	Annotations                     map[string]string
}

// Referrers lists the manifests whose subject is digest, optionally only
// those of one artifact type. A subject that does not exist has none.
func (r *Registry) Referrers(ctx context.Context, repo, digest, artifactType string) ([]Referrer, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if err := ValidDigest("subjectId.imageDigest", digest); err != nil {
		return nil, err
	}
	var ms []berth.Manifest
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		ms, err = tx.ListReferrers(ctx, repo, digest)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []Referrer{}
	for _, m := range ms {
		if artifactType != "" && m.ArtifactType != artifactType {
			continue
		}
		out = append(out, Referrer{Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ArtifactType,
			Size: int64(len(m.Bytes)), Annotations: manifest.Annotations(m.Bytes)})
	}
	return out, nil
}

// ReferrersInput is one ListImageReferrers call.
type ReferrersInput struct {
	Repository, Subject string
	// ArtifactTypes, if any (at most 5), keeps referrers of these types.
	ArtifactTypes []string
	MaxResults    *int // 1 to 50, default 20
	NextToken     string
}

// ListImageReferrers is ECR's paginated view of the referrers of a subject.
func (r *Registry) ListImageReferrers(ctx context.Context, in ReferrersInput) ([]Referrer, string, error) {
	limit := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, "", invalidParam("maxResults", "Member must have value between 1 and 50', got %d", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	if len(in.ArtifactTypes) > 5 {
		return nil, "", invalidParam("filter.artifactTypes", "Member must have length less than or equal to 5")
	}
	after, err := decodeToken(tokenReferrers+in.Subject, in.Repository, in.NextToken)
	if err != nil {
		return nil, "", err
	}
	all, err := r.Referrers(ctx, in.Repository, in.Subject, "")
	if err != nil {
		return nil, "", err
	}
	var out []Referrer
	next := ""
	for _, ref := range all {
		if ref.Digest <= after || (len(in.ArtifactTypes) > 0 && !slices.Contains(in.ArtifactTypes, ref.ArtifactType)) {
			continue
		}
		if len(out) == limit {
			next = out[len(out)-1].Digest
			break
		}
		out = append(out, ref)
	}
	return out, encodeToken(tokenReferrers+in.Subject, in.Repository, next), nil
}

// BlobURL returns a time-limited URL from which a client can download a
// blob of repo directly, when the blob store offers them (S3); ok is
// false when berth should serve the bytes itself.
func (r *Registry) BlobURL(ctx context.Context, repo, digest string, expiry time.Duration) (url string, ok bool, err error) {
	urler, can := r.blobs.(berth.BlobURLer)
	if !can {
		return "", false, nil
	}
	b, err := r.StatBlob(ctx, repo, digest)
	if err != nil {
		return "", false, err
	}
	return urler.BlobURL(ctx, b.Key, expiry)
}
