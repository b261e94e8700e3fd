package registry

import (
	"bytes"
	"context"

	"github.com/berth-registry/berth"
)

// Layer upload limits of ECR.
const (
	// PartSize is the part size InitiateLayerUpload suggests.
	PartSize = 10 << 20
	// MinPartSize is the smallest part but the last that ECR accepts.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest layerPartBlob of one UploadLayerPart.
	MaxPartSize = 20 << 20
	// MaxParts is the most parts one layer upload may have.
	MaxParts = 4200
	// MaxPublicParts and MaxPublicLayer are ECR Public's own: 1,000 parts
	// and 10,000 MiB a layer.
	MaxPublicParts = 1000
	MaxPublicLayer = 10000 << 20
)

// maxParts is the most parts a layer upload of this registry may have.
func (r *Registry) maxParts() int {
	if r.public {
		return MaxPublicParts
	}
	return MaxParts
}

// LayerAvailability is one answer of BatchCheckLayerAvailability.
type LayerAvailability struct {
	Blob      berth.Blob
	Available bool
}

// LayerFailure is a per-digest failure of BatchCheckLayerAvailability.
type LayerFailure struct {
	Digest string
	Code   string
	Reason string
}

// BatchCheckLayerAvailability reports which blobs the repository holds.
func (r *Registry) BatchCheckLayerAvailability(ctx context.Context, repo string, digests []string) ([]LayerAvailability, []LayerFailure, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, nil, err
	}
	if len(digests) < 1 || len(digests) > 100 {
		return nil, nil, invalidParam("layerDigests", "Member must have length between 1 and 100', got %d", len(digests))
	}
	var layers []LayerAvailability
	var failures []LayerFailure
	err := r.meta.View(ctx, func(tx berth.MetaTx) error {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		for _, d := range digests {
			if len(d) > 1000 || ValidDigest("layerDigest", d) != nil {
				failures = append(failures, LayerFailure{Digest: d, Code: "InvalidLayerDigest", Reason: "Invalid layer digest: it should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"})
				continue
			}
			b, err := tx.GetBlob(ctx, repo, d)
			switch {
			case berth.IsCode(err, berth.ENotFound):
				failures = append(failures, LayerFailure{Digest: d, Code: "MissingLayerDigest", Reason: "Could not find the requested layer digest in the repository"})
			case err != nil:
				return err
			default:
				layers = append(layers, LayerAvailability{Blob: *b, Available: true})
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// AVAILABLE is a promise that PutImage may reference the layer.
	blobs := make([]berth.Blob, len(layers))
	for i, l := range layers {
		blobs[i] = l.Blob
	}
	gone, err := r.confirmBlobs(ctx, repo, blobs)
	if err != nil || len(gone) == 0 {
		return layers, failures, err
	}
	kept := layers[:0]
	for _, l := range layers {
		if gone[l.Blob.Digest] {
			failures = append(failures, LayerFailure{Digest: l.Blob.Digest, Code: "MissingLayerDigest", Reason: "Could not find the requested layer digest in the repository"})
			continue
		}
		kept = append(kept, l)
	}
	return kept, failures, nil
}

// UploadLayerPart appends one ECR layer part, of exactly last-first+1
// bytes, to an upload. Parts must be consecutive: first must be the number
// of bytes received so far.
func (r *Registry) UploadLayerPart(ctx context.Context, repo, id string, first, last int64, part []byte) (*berth.Upload, error) {
	switch {
	case len(part) > MaxPartSize:
		return nil, invalidParam("layerPartBlob", "Member must have length less than or equal to %d', got %d bytes", MaxPartSize, len(part))
	case first < 0 || last < 0:
		return nil, invalidParam("partFirstByte", "Member must have value greater than or equal to 0")
	case last < first:
		return nil, berth.Errorf(berth.EInvalidLayerPart, "partLastByte %d is before partFirstByte %d; the range is inclusive", last, first)
	}
	return r.AppendUpload(ctx, AppendInput{Repository: repo, UploadID: id, Offset: first, Length: last - first + 1, Body: bytes.NewReader(part), ECRPart: true})
}

// CheckLayerDownload checks that a layer may be downloaded from repo: the
// repository holds it and an image references it, as ECR requires.
func (r *Registry) CheckLayerDownload(ctx context.Context, repo, digest string) (*berth.Blob, error) {
	b, err := r.StatBlob(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	var used bool
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		used, err = tx.BlobReferenced(ctx, repo, digest)
		return err
	})
	if err == nil && !used {
		err = berth.Errorf(berth.ELayerInaccessible, "The layer with digest '%s' is not referenced by any image in the repository with name '%s'; only layers of images can be downloaded", digest, repo)
	}
	return b, err
}

// OpenLayer opens a layer for download after CheckLayerDownload's checks.
func (r *Registry) OpenLayer(ctx context.Context, repo, digest string) (*berth.Blob, berth.BlobReader, error) {
	if _, err := r.CheckLayerDownload(ctx, repo, digest); err != nil {
		return nil, nil, err
	}
	return r.OpenBlob(ctx, repo, digest)
}
