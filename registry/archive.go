package registry

import (
	"context"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/lifecycle"
)

// The archive storage class. In berth an archived image keeps its bytes
// where they are (one blob store, one tier): archiving is a state of the
// image, kept by the metadata store, that ECR's API shows and honours.
// An archived image is listed (with imageStatus ARCHIVED, when a list asks
// for it), described, deleted and expired as any other, and cannot be
// pulled; a restore (UpdateImageStorageClass to STANDARD) makes it
// ACTIVATING for the restore time, then ACTIVE; pushing it again restores
// it at once. Its blobs stay referenced, so garbage collection keeps them.

// DefaultRestoreTime is how long a restore from the archive takes unless
// configured: ECR's take minutes; berth's need not, but a client should
// see ACTIVATING.
const DefaultRestoreTime = time.Minute

func (r *Registry) storageNotSupported(format string, args ...any) error {
	return berth.Errorf(berth.EStorageClassUpdateNotSupported, format, args...)
}

// UpdateImageStorageClass moves an image to the archive (target ARCHIVE)
// or starts its restore (target STANDARD), and returns its status after.
func (r *Registry) UpdateImageStorageClass(ctx context.Context, repo string, id berth.ImageRef, target string) (string, berth.ImageStatus, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return "", "", err
	}
	if target != "ARCHIVE" && target != "STANDARD" {
		return "", "", invalidParam("targetStorageClass", "Member must satisfy enum value set: [STANDARD, ARCHIVE]', got '%s", target)
	}
	var digest string
	var status berth.ImageStatus
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		d, failure, err := lockImage(ctx, tx, repo, id)
		switch {
		case err != nil:
			return err
		case failure != nil && failure.Code == "ImageNotFound":
			return berth.Errorf(berth.EImageNotFound, "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", id.Digest, id.Tag, repo, r.id)
		case failure != nil:
			return berth.Errorf(berth.EInvalidParameter, "%s", failure.Reason)
		}
		digest = d
		m, err := tx.GetManifest(ctx, repo, d)
		if err != nil {
			return err
		}
		now := r.nowUTC()
		switch st := m.Status(now); {
		case target == "ARCHIVE" && st == berth.ImageArchived:
			return r.storageNotSupported("The image %s is already archived", d)
		case target == "ARCHIVE" && st == berth.ImageActivating:
			return r.storageNotSupported("The image %s is being restored from the archive; archive it again once it is ACTIVE", d)
		case target == "ARCHIVE":
			if err := r.archivable(ctx, tx, repo, d); err != nil {
				return err
			}
			status = berth.ImageArchived
			return tx.SetImageStorage(ctx, repo, d, now, m.RestoredAt)
		case st == berth.ImageActive:
			return r.storageNotSupported("The image %s is in the standard storage class already", d)
		case st == berth.ImageActivating:
			status = st // restoring already
			return nil
		}
		status = berth.ImageActivating
		if r.restoreTime <= 0 {
			status = berth.ImageActive
		}
		restored := now.Add(r.restoreTime)
		if !restored.After(m.ArchivedAt) {
			restored = m.ArchivedAt.Add(time.Nanosecond)
		}
		return tx.SetImageStorage(ctx, repo, d, m.ArchivedAt, restored)
	})
	return digest, status, err
}

// archivable refuses to archive an image an index lists: as ECR's, the
// index goes (or is archived) first.
func (r *Registry) archivable(ctx context.Context, tx berth.MetaTx, repo, digest string) error {
	parents, err := tx.ManifestParents(ctx, repo, digest)
	if err != nil {
		return err
	}
	now := r.nowUTC()
	for _, p := range parents {
		m, err := tx.GetManifest(ctx, repo, p)
		if err != nil {
			return err
		}
		if m.Status(now) != berth.ImageArchived {
			return r.storageNotSupported("The image %s is referenced by the manifest list %s; archive or delete that first", digest, p)
		}
	}
	return nil
}

// archiveForLifecycle archives the image of a lifecycle transition, if it
// is as evaluated, with its referrers; it returns the digests archived.
func (r *Registry) archiveForLifecycle(ctx context.Context, tx berth.MetaTx, repo string, a lifecycle.Action) ([]string, error) {
	m, err := r.asEvaluated(ctx, tx, repo, a)
	if err != nil || m == nil {
		return nil, err
	}
	digest, now := m.Digest, r.nowUTC()
	if err := r.archivable(ctx, tx, repo, digest); err != nil {
		return nil, nil // an index came to list it
	}
	done := []string{}
	var archive func(d string, m *berth.Manifest) error
	archive = func(d string, m *berth.Manifest) error {
		if err := tx.SetImageStorage(ctx, repo, d, now, m.RestoredAt); err != nil {
			return err
		}
		done = append(done, d)
		refs, err := tx.ListReferrers(ctx, repo, d)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if ref.Status(now) == berth.ImageActive {
				if err := archive(ref.Digest, &ref); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return done, archive(digest, m)
}
