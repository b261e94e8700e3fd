package registry

import (
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/google/uuid"
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
)

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
	return layers, failures, err
}

// InitiateLayerUpload starts an upload and returns it.
func (r *Registry) InitiateLayerUpload(ctx context.Context, repo string) (*berth.Upload, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	state, err := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	u := &berth.Upload{ID: uuid.NewString(), Repository: repo, CreatedAt: r.nowUTC(), HashState: state}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		return tx.CreateUpload(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (r *Registry) uploadNotFound(id, repo string) error {
	return berth.Errorf(berth.EUploadNotFound, "The upload with id '%s' could not be found in the repository with name '%s' in the registry with id '%s'; it was completed, cancelled or never started. Start a new one with InitiateLayerUpload", id, repo, r.id)
}

func (r *Registry) getUpload(ctx context.Context, tx berth.MetaTx, repo, id string) (*berth.Upload, error) {
	if _, err := r.getRepo(ctx, tx, repo); err != nil {
		return nil, err
	}
	if !uploadIDRE.MatchString(id) {
		return nil, r.uploadNotFound(id, repo)
	}
	u, err := tx.GetUpload(ctx, repo, id)
	if berth.IsCode(err, berth.ENotFound) {
		return nil, r.uploadNotFound(id, repo)
	}
	return u, err
}

// UploadLayerPart appends one part, of exactly last-first+1 bytes read from
// body, to an upload. Parts must be consecutive: first must be the number
// of bytes received so far.
func (r *Registry) UploadLayerPart(ctx context.Context, repo, id string, first, last int64, body io.Reader) (*berth.Upload, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if first < 0 || last < 0 {
		return nil, invalidParam("partFirstByte", "Member must have value greater than or equal to 0")
	}
	defer r.lockUpload(id)()
	var u *berth.Upload
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		u, err = r.getUpload(ctx, tx, repo, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	size := last - first + 1
	switch {
	case first != u.Size:
		return nil, r.invalidPart(u, fmt.Sprintf("The part starts at byte %d, but %d bytes have been received; send the part that starts at byte %d", first, u.Size, u.Size))
	case last < first:
		return nil, r.invalidPart(u, fmt.Sprintf("partLastByte %d is before partFirstByte %d; the range is inclusive", last, first))
	case size > MaxPartSize:
		return nil, r.invalidPart(u, fmt.Sprintf("The part is %d bytes; parts may be at most %d bytes", size, MaxPartSize))
	case u.Parts >= MaxParts:
		return nil, berth.Errorf(berth.ELimitExceeded, "The upload already has %d parts, the most a layer may have", MaxParts)
	}
	h, err := restoreHash(u.HashState)
	if err != nil {
		return nil, err
	}
	counted := &countingReader{r: io.TeeReader(io.LimitReader(body, size+1), h)}
	n, err := r.blobs.WriteUpload(ctx, u, u.Size, counted)
	if err != nil {
		return nil, wrapf(err, "writing part of upload %s", id)
	}
	if n != size {
		return nil, r.invalidPart(u, fmt.Sprintf("partFirstByte %d and partLastByte %d make %d bytes, but the part has %d", first, last, size, counted.n))
	}
	prev := u.Size
	next := *u
	next.Size += n
	next.Parts++
	if u.Parts > 0 && u.LastPartSize < MinPartSize {
		next.SmallPart = true
	}
	next.LastPartSize = n
	if next.HashState, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, err
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, &next, prev) })
	switch {
	case berth.IsCode(err, berth.ENotFound):
		return nil, r.uploadNotFound(id, repo)
	case berth.IsCode(err, berth.EConflict):
		return nil, r.invalidPart(u, "Another part of this upload was received at the same time; check the upload's progress and resend")
	case err != nil:
		return nil, err
	}
	return &next, nil
}

func (r *Registry) invalidPart(u *berth.Upload, msg string) error {
	return &berth.Error{Code: berth.EInvalidLayerPart, Message: msg, LastValidByte: u.Size - 1}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restoring upload hash state: %w", err)
	}
	return h, nil
}

// CompleteLayerUploadInput is one CompleteLayerUpload call.
type CompleteLayerUploadInput struct {
	Repository string
	UploadID   string
	Digests    []string
	// RequireMinPartSize applies ECR's rule that every part but the last is
	// at least MinPartSize.
	RequireMinPartSize bool
}

// CompleteLayerUpload verifies the digest of an upload and makes it a blob
// of the repository: the bytes are durable before the metadata commits.
func (r *Registry) CompleteLayerUpload(ctx context.Context, in CompleteLayerUploadInput) (string, error) {
	if err := ValidRepositoryName(in.Repository); err != nil {
		return "", err
	}
	if len(in.Digests) < 1 || len(in.Digests) > 100 {
		return "", invalidParam("layerDigests", "Member must have length between 1 and 100', got %d", len(in.Digests))
	}
	for _, d := range in.Digests {
		if err := ValidDigest("layerDigests", d); err != nil {
			return "", err
		}
	}
	defer r.lockUpload(in.UploadID)()
	var u *berth.Upload
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		u, err = r.getUpload(ctx, tx, in.Repository, in.UploadID)
		return err
	})
	if err != nil {
		return "", err
	}
	switch {
	case u.Size == 0:
		return "", berth.Errorf(berth.EEmptyUpload, "The upload with id '%s' does not contain any layer parts; upload them with UploadLayerPart first", u.ID)
	case in.RequireMinPartSize && u.SmallPart:
		return "", berth.Errorf(berth.ELayerPartTooSmall, "Layer parts must be at least %d bytes (5 MiB) in size, except the last; upload the layer again in larger parts", MinPartSize)
	}
	h, err := restoreHash(u.HashState)
	if err != nil {
		return "", err
	}
	computed := "sha256:" + fmt.Sprintf("%x", h.Sum(nil))
	want := in.Digests[0]
	if !strings.EqualFold(want, computed) {
		return "", berth.Errorf(berth.EInvalidLayer, "The layer digest '%s' does not match the digest '%s' calculated for the %d bytes received", want, computed, u.Size)
	}
	exists := false
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		_, err := tx.GetBlob(ctx, in.Repository, computed)
		exists = err == nil
		if berth.IsCode(err, berth.ENotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if !exists {
		if err := r.blobs.CommitUpload(ctx, u, computed, u.Size); err != nil {
			return "", wrapf(err, "committing upload %s", u.ID)
		}
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if err := tx.DeleteUpload(ctx, u.ID); err != nil {
			return err
		}
		if exists {
			return nil
		}
		return tx.PutBlob(ctx, in.Repository, berth.Blob{Digest: computed, Size: u.Size}, r.nowUTC())
	})
	if err != nil {
		if berth.IsCode(err, berth.ENotFound) {
			return "", r.uploadNotFound(u.ID, in.Repository)
		}
		return "", err
	}
	if exists {
		if err := r.blobs.DeleteUpload(ctx, u); err != nil {
			r.log.Warn("removing staging object of a duplicate upload", "upload", u.ID, "err", err)
		}
		return "", berth.Errorf(berth.ELayerAlreadyExists, "The layer '%s' already exists in the repository with name '%s' in the registry with id '%s'", computed, in.Repository, r.id)
	}
	return computed, nil
}

// CheckLayerDownload checks that a layer may be downloaded from repo: the
// repository holds it and an image references it, as ECR requires.
func (r *Registry) CheckLayerDownload(ctx context.Context, repo, digest string) (*berth.Blob, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if err := ValidDigest("layerDigest", digest); err != nil {
		return nil, err
	}
	var b *berth.Blob
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		b, err = tx.GetBlob(ctx, repo, digest)
		if berth.IsCode(err, berth.ENotFound) {
			return berth.Errorf(berth.ELayersNotFound, "The layer with digest '%s' does not exist in the repository with name '%s' in the registry with id '%s'", digest, repo, r.id)
		}
		if err != nil {
			return err
		}
		ok, err := tx.BlobReferenced(ctx, repo, digest)
		if err != nil {
			return err
		}
		if !ok {
			return berth.Errorf(berth.ELayerInaccessible, "The layer with digest '%s' is not referenced by any image in the repository with name '%s'; only layers of images can be downloaded", digest, repo)
		}
		return nil
	})
	return b, err
}

// OpenLayer opens a layer for download after CheckLayerDownload's checks.
func (r *Registry) OpenLayer(ctx context.Context, repo, digest string) (*berth.Blob, berth.BlobReader, error) {
	b, err := r.CheckLayerDownload(ctx, repo, digest)
	if err != nil {
		return nil, nil, err
	}
	f, err := r.blobs.Open(ctx, digest)
	if err != nil {
		if berth.IsCode(err, berth.ENotFound) {
			return nil, nil, errors.Join(berth.Errorf(berth.EInternal, "blob %s is recorded but missing from blob storage", digest), err)
		}
		return nil, nil, err
	}
	return b, f, nil
}
