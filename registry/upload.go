package registry

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"
)

// Blob uploads, shared by the ECR layer calls and OCI blob uploads. The
// bytes go to the BlobStore's staging object while a sha256 is computed in
// the same pass; the hash state is saved with the upload after every write,
// so an upload survives restarts and can move between replicas.

// InitiateLayerUpload starts an upload and returns it. A repository
// creation template may create the repository first (create on push).
func (r *Registry) InitiateLayerUpload(ctx context.Context, repo string) (*berth.Upload, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	state, err := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	u := &berth.Upload{ID: uuid.NewString(), Repository: repo, CreatedAt: r.nowUTC(), HashState: state}
	// A session holds no data yet: if a crash loses it, the client starts
	// a new one, so its commit does not wait for the disk.
	err = r.onPush(ctx, repo, func() error {
		return r.meta.Update(berth.DeferSync(ctx), func(tx berth.MetaTx) error {
			err := tx.CreateUpload(ctx, u)
			if berth.IsCode(err, berth.ENotFound) {
				return r.repoNotFound(repo)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (r *Registry) uploadNotFound(id, repo string) error {
	return berth.Errorf(berth.EUploadNotFound, "The upload with id '%s' could not be found in the repository with name '%s' in the registry with id '%s'; it was completed, cancelled or never started. Start a new one", id, repo, r.id)
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

// GetUpload returns an upload in progress.
func (r *Registry) GetUpload(ctx context.Context, repo, id string) (*berth.Upload, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	var u *berth.Upload
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		u, err = r.getUpload(ctx, tx, repo, id)
		return err
	})
	return u, err
}

// CancelUpload abandons an upload and discards its bytes.
func (r *Registry) CancelUpload(ctx context.Context, repo, id string) error {
	u, err := r.GetUpload(ctx, repo, id)
	if err != nil {
		return err
	}
	defer r.lockUpload(id)()
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.DeleteUpload(ctx, id) })
	if berth.IsCode(err, berth.ENotFound) {
		return r.uploadNotFound(id, repo)
	}
	if err != nil {
		return err
	}
	return r.blobs.DeleteUpload(ctx, u)
}

// AppendInput is one write to an upload.
type AppendInput struct {
	Repository, UploadID string
	// Offset is where the bytes start; it must equal the bytes received.
	// -1 means wherever the upload stands (a streamed chunk).
	Offset int64
	// Length is the exact number of bytes Body holds, or -1 to read Body to
	// its end.
	Length int64
	Body   io.Reader
	// ECRPart applies ECR's UploadLayerPart limits: at most MaxPartSize
	// bytes, at most MaxParts parts.
	ECRPart bool
}

// AppendUpload writes the next bytes of an upload, streaming: memory use
// does not depend on their length.
func (r *Registry) AppendUpload(ctx context.Context, in AppendInput) (*berth.Upload, error) {
	if err := ValidRepositoryName(in.Repository); err != nil {
		return nil, err
	}
	defer r.lockUpload(in.UploadID)()
	u, err := r.GetUpload(ctx, in.Repository, in.UploadID)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Offset >= 0 && in.Offset != u.Size:
		return nil, r.invalidPart(u, fmt.Sprintf("The part starts at byte %d, but %d bytes have been received; send the part that starts at byte %d", in.Offset, u.Size, u.Size))
	case in.ECRPart && in.Length > MaxPartSize:
		return nil, r.invalidPart(u, fmt.Sprintf("The part is %d bytes; parts may be at most %d bytes", in.Length, MaxPartSize))
	case in.ECRPart && u.Parts >= r.maxParts():
		return nil, berth.Errorf(berth.ELimitExceeded, "The upload already has %d parts, the most a layer may have", r.maxParts())
	case r.public && in.Length > 0 && u.Size+in.Length > MaxPublicLayer:
		return nil, berth.Errorf(berth.ELimitExceeded, "The layer would be more than %d MiB, the most ECR Public takes", MaxPublicLayer>>20)
	}
	prev := u.Size
	next, err := r.writeChunk(ctx, u, in.Length, in.Body)
	if err != nil {
		if _, ok := err.(*berth.Error); !ok {
			// The staging object may be gone because the upload expired
			// (or was cancelled) while this write waited: say so.
			if _, gone := r.GetUpload(ctx, in.Repository, in.UploadID); berth.IsCode(gone, berth.EUploadNotFound) {
				return nil, gone
			}
		}
		return nil, err
	}
	if next.Size == prev {
		return next, nil
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, next, prev) })
	switch {
	case berth.IsCode(err, berth.ENotFound):
		return nil, r.uploadNotFound(u.ID, in.Repository)
	case berth.IsCode(err, berth.EConflict):
		return nil, r.invalidPart(u, "Another part of this upload was received at the same time; check the upload's progress and resend")
	case err != nil:
		return nil, err
	}
	return next, nil
}

// writeChunk writes the next bytes of u (length of them, or to the end of
// body when length is -1) and returns the upload as it stands after them,
// hash state included. It saves nothing in the metadata.
func (r *Registry) writeChunk(ctx context.Context, u *berth.Upload, length int64, body io.Reader) (*berth.Upload, error) {
	h, err := restoreHash(u.HashState)
	if err != nil {
		return nil, err
	}
	if length >= 0 {
		body = io.LimitReader(body, length+1) // one more, to detect excess
	}
	next := *u
	next.UpdatedAt = r.nowUTC()
	pipe := newHashPipe(body, h)
	n, err := r.blobs.WriteUpload(ctx, &next, u.Size, pipe)
	pipe.Done()
	if err != nil {
		if ctx.Err() != nil {
			return nil, berth.Errorf(berth.EInvalidLayerPart, "The request ended before the part was received; resend it from byte %d", u.Size)
		}
		return nil, wrapf(err, "writing to upload %s", u.ID)
	}
	if length >= 0 && n != length {
		return nil, r.invalidPart(u, fmt.Sprintf("The range given covers %d bytes, but the part has %d", length, n))
	}
	if n == 0 {
		return u, nil
	}
	next.Size += n
	next.Parts++
	if u.Parts > 0 && u.LastPartSize < MinPartSize {
		next.SmallPart = true
	}
	next.LastPartSize = n
	if next.HashState, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, err
	}
	return &next, nil
}

func (r *Registry) invalidPart(u *berth.Upload, msg string) error {
	return &berth.Error{Code: berth.EInvalidLayerPart, Message: msg, LastValidByte: u.Size - 1}
}

func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restoring upload hash state: %w", err)
	}
	return h, nil
}

// CompleteLayerUploadInput is one completion of an upload.
type CompleteLayerUploadInput struct {
	Repository string
	UploadID   string
	Digests    []string
	// RequireMinPartSize applies ECR's rule that every part but the last is
	// at least MinPartSize.
	RequireMinPartSize bool
	// OCI semantics: a zero-byte blob is valid, and completing a blob the
	// repository already has succeeds.
	AllowEmpty, AllowExisting bool
	// Final, if set, holds the last bytes of the upload (FinalLength of
	// them, or -1 for all), starting at FinalOffset (-1: where the upload
	// stands): written and completed in one step, without saving the
	// upload's state in between.
	Final                    io.Reader
	FinalOffset, FinalLength int64
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
	want := in.Digests[0]
	if err := ValidDigest("layerDigests", want); err != nil {
		return "", err
	}
	defer r.lockUpload(in.UploadID)()
	u, err := r.GetUpload(ctx, in.Repository, in.UploadID)
	if err != nil {
		return "", err
	}
	// keep saves the final bytes when completion fails, so that the
	// client can complete again without sending them twice.
	keep := func() {}
	if in.Final != nil {
		if in.FinalOffset >= 0 && in.FinalOffset != u.Size {
			return "", r.invalidPart(u, fmt.Sprintf("The part starts at byte %d, but %d bytes have been received; send the part that starts at byte %d", in.FinalOffset, u.Size, u.Size))
		}
		prev := u.Size
		if u, err = r.writeChunk(ctx, u, in.FinalLength, in.Final); err != nil {
			return "", err
		}
		if u.Size != prev {
			next := u
			keep = func() {
				if err := r.meta.Update(ctx, func(tx berth.MetaTx) error { return tx.UpdateUpload(ctx, next, prev) }); err != nil {
					r.log.Warn("saving the last chunk of a failed completion", "upload", next.ID, "err", err)
				}
			}
		}
	}
	switch {
	case u.Size == 0 && !in.AllowEmpty:
		return "", berth.Errorf(berth.EEmptyUpload, "The upload with id '%s' does not contain any layer parts; upload them with UploadLayerPart first", u.ID)
	case in.RequireMinPartSize && u.SmallPart:
		return "", berth.Errorf(berth.ELayerPartTooSmall, "Layer parts must be at least %d bytes (5 MiB) in size, except the last; upload the layer again in larger parts", MinPartSize)
	}
	computed, err := r.uploadDigest(ctx, u, want)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(want, computed) {
		keep()
		return "", berth.Errorf(berth.EInvalidLayer, "The layer digest '%s' does not match the digest '%s' calculated for the %d bytes received", want, computed, u.Size)
	}
	exists, err := r.recordBlob(ctx, in.Repository, u, computed)
	if err != nil {
		return "", err
	}
	if exists && !in.AllowExisting {
		return "", berth.Errorf(berth.ELayerAlreadyExists, "The layer '%s' already exists in the repository with name '%s' in the registry with id '%s'", computed, in.Repository, r.id)
	}
	return computed, nil
}

// errCommit asks recordBlob to commit the upload's bytes: no blob of the
// digest is stored.
var errCommit = errors.New("the blob is not stored yet")

// recordBlob ends upload u of digest d in repo: the upload goes, and repo
// holds the blob, whose review by garbage collection is put off by the
// grace period. exists reports whether repo held it already. Bytes the
// registry stores already are not stored twice: the upload's are
// discarded. Otherwise they are committed under a new object key first,
// and recorded after, so that the metadata never names bytes that are not
// durable; if a concurrent upload of the same digest was recorded first,
// this one's object is queued for deletion.
func (r *Registry) recordBlob(ctx context.Context, repo string, u *berth.Upload, d string) (exists bool, err error) {
	key := ""
	for {
		err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
			if err := tx.DeleteUpload(ctx, u.ID); err != nil {
				return err
			}
			// The record first, then the link: the order of garbage
			// collection's locks. Moving the review locks the record.
			now := r.nowUTC()
			if err := tx.ReviewBlobs(ctx, []string{d}, now.Add(r.gc.BlobGrace)); err != nil {
				return err
			}
			o, err := tx.GetBlobObject(ctx, d)
			switch {
			case berth.IsCode(err, berth.ENotFound) && key == "":
				return errCommit
			case berth.IsCode(err, berth.ENotFound):
				o = &berth.BlobObject{Digest: d, Key: key, Size: u.Size, CreatedAt: now, Review: now.Add(r.gc.BlobGrace)}
				if err := tx.PutBlobObject(ctx, o); err != nil {
					return err
				}
			case err != nil:
				return err
			case key != "" && key != o.Key:
				// A concurrent upload of the same bytes was recorded first.
				if err := tx.QueueDeletion(ctx, berth.Deletion{Key: key, NotBefore: now}); err != nil {
					return err
				}
			}
			_, err = tx.GetBlob(ctx, repo, d)
			if exists = err == nil; exists || !berth.IsCode(err, berth.ENotFound) {
				return err
			}
			return tx.PutBlob(ctx, repo, berth.Blob{Digest: d, Size: u.Size}, now)
		})
		if !errors.Is(err, errCommit) {
			break
		}
		if key, err = r.blobs.CommitUpload(ctx, u, d, u.Size); err != nil {
			return false, wrapf(err, "committing upload %s", u.ID)
		}
	}
	switch {
	case berth.IsCode(err, berth.ENotFound):
		// The upload went meanwhile (cancelled, or expired): its object,
		// if it committed one, is for reconciliation to find.
		return false, r.uploadNotFound(u.ID, repo)
	case err != nil:
		return false, err
	case key == "":
		// Stored already: the upload's staging object is not needed. Lost
		// in a crash, reconciliation removes it.
		if err := r.blobs.DeleteUpload(ctx, u); err != nil {
			r.log.Warn("removing the staging object of a completed upload", "upload", u.ID, "err", err)
		}
	}
	return exists, nil
}

// uploadDigest returns the digest of the bytes received, under the
// algorithm of want: sha256 from the saved state, any other algorithm by
// reading the staged bytes once more.
func (r *Registry) uploadDigest(ctx context.Context, u *berth.Upload, want string) (string, error) {
	alg := digest.Algorithm(strings.ToLower(strings.SplitN(want, ":", 2)[0]))
	if alg == digest.SHA256 {
		h, err := restoreHash(u.HashState)
		if err != nil {
			return "", err
		}
		return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
	}
	if !alg.Available() {
		return "", invalidParam("layerDigest", "the digest algorithm %s is not supported; use sha256 or sha512", alg)
	}
	h := alg.Hash()
	if u.Size > 0 {
		f, err := r.blobs.OpenUpload(ctx, u)
		if err != nil {
			return "", wrapf(err, "reading upload %s", u.ID)
		}
		defer f.Close()
		if _, err := io.CopyN(h, f, u.Size); err != nil {
			return "", wrapf(err, "reading upload %s", u.ID)
		}
	}
	return string(alg) + ":" + hex.EncodeToString(h.Sum(nil)), nil
}

// CountUploads returns how many uploads are in progress.
func (r *Registry) CountUploads(ctx context.Context) (n int, err error) {
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		n, err = tx.CountUploads(ctx)
		return err
	})
	return n, err
}
