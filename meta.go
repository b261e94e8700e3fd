package berth

import (
	"context"
	"time"
)

// MetaStore holds all metadata: repositories, blobs known to each repository,
// manifests, tags and uploads. It is the single source of truth; nothing is
// rebuilt by walking blob storage.
//
// Every read and write happens in a transaction. Update commits durably
// (fsync or the database's equivalent) before it returns nil, unless its
// context says DeferSync, and applies nothing if fn returns an error. Errors from the store carry ENotFound or
// EConflict where noted; anything else is EInternal.
type MetaStore interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(MetaTx) error) error
	// Update runs fn in a read-write transaction, serialised with every other
	// Update on the same data: what fn reads stays as read until it ends.
	// A store may run Updates concurrently; then a read inside an Update
	// locks what it returns against change by the others (Get* methods:
	// against change; Lock* methods: against change and other Lock* reads,
	// for data fn will change), and fn may be run more than once, when it
	// loses a race with a concurrent Update (so fn must not act outside the
	// store). One that keeps losing fails with EUnavailable.
	Update(ctx context.Context, fn func(MetaTx) error) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Namespaces is a MetaStore that keeps sets of repositories apart: the
// default namespace ("") is the private registry's, "public" the public
// registry's, where the same name may name another repository. Blobs and
// IAM data are shared; GC works across all of them.
type Namespaces interface {
	// Namespace returns the store as one namespace sees it.
	Namespace(ns string) MetaStore
}

type deferSyncKey struct{}

// DeferSync marks the Updates run with the returned context as ones whose
// loss in a crash costs a client only a retry (a new upload session, say):
// such an Update may return once it is committed but before it is on disk.
// Commits reach the disk in order, so it becomes durable with the next
// durable one; a crash of the machine or of the database before that may
// lose it, a crash of berth alone never does. Stores that cannot defer
// simply commit durably.
func DeferSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferSyncKey{}, true)
}

// SyncDeferred reports whether ctx was made by DeferSync.
func SyncDeferred(ctx context.Context) bool {
	v, _ := ctx.Value(deferSyncKey{}).(bool)
	return v
}

type readsApartKey struct{}

// ReadsApart marks a View whose reads need not share a snapshot: each
// may see the store at its own moment, so a store may run them without a
// transaction around them. For a View that reads once (a manifest by tag).
func ReadsApart(ctx context.Context) context.Context {
	return context.WithValue(ctx, readsApartKey{}, true)
}

// ReadingApart reports whether ctx was made by ReadsApart.
func ReadingApart(ctx context.Context) bool {
	v, _ := ctx.Value(readsApartKey{}).(bool)
	return v
}

// MetaTx is one transaction of a MetaStore.
type MetaTx interface {
	RepositoryTx
	ManifestTx
	TagTx
	BlobTx
	UploadTx
	TemplateTx
	GCTx
	LifecycleTx
	IAMTx
	RegistryPolicyTx
	ConsoleTx
}

// RepositoryTx reads and writes repositories.
type RepositoryTx interface {
	// CreateRepository inserts r; EConflict if the name is taken.
	CreateRepository(ctx context.Context, r *Repository) error
	// GetRepository returns the named repository; ENotFound.
	GetRepository(ctx context.Context, name string) (*Repository, error)
	// LockRepository is GetRepository for a repository the Update will
	// change or delete.
	LockRepository(ctx context.Context, name string) (*Repository, error)
	// UpdateRepository replaces the settings of r.Name; ENotFound.
	UpdateRepository(ctx context.Context, r *Repository) error
	// DeleteRepository deletes the repository and everything in it; ENotFound.
	DeleteRepository(ctx context.Context, name string) error
	// ListRepositories returns up to p.Limit repositories by name after
	// p.After, and the position after the last one ("" at the end).
	ListRepositories(ctx context.Context, p Page) ([]Repository, string, error)
	// CountManifests returns how many manifests the repository holds.
	CountManifests(ctx context.Context, repo string) (int, error)
}

// ManifestTx reads and writes manifests.
type ManifestTx interface {
	// PutManifest inserts m with its references; EConflict if present (if
	// the Update read it as missing and a concurrent one has inserted it
	// since, the Update runs again).
	PutManifest(ctx context.Context, m *Manifest) error
	// GetManifest returns a manifest (Blobs and Children left empty);
	// ENotFound if it or its repository does not exist.
	GetManifest(ctx context.Context, repo, digest string) (*Manifest, error)
	// LockManifest is GetManifest for a manifest the Update will delete or
	// whose tags it will change.
	LockManifest(ctx context.Context, repo, digest string) (*Manifest, error)
	// GetTaggedManifest returns the manifest a tag points at; ENotFound if
	// the tag or the repository does not exist.
	GetTaggedManifest(ctx context.Context, repo, tag string) (*Manifest, error)
	// DeleteManifest deletes a manifest, its references and its tags; ENotFound.
	DeleteManifest(ctx context.Context, repo, digest string) error
	// ListImages returns images by digest after p.After, with their tags.
	ListImages(ctx context.Context, repo string, f ImageFilter, p Page) ([]Image, string, error)
	// ListImageRefs returns one (digest, tag) pair per tag and one (digest, "")
	// per untagged image, ordered by digest then tag, after p.After.
	ListImageRefs(ctx context.Context, repo string, f ImageFilter, p Page) ([]ImageRef, string, error)
	// SetImageStorage records a manifest's archive and restore times
	// (Manifest.ArchivedAt, RestoredAt); ENotFound.
	SetImageStorage(ctx context.Context, repo, digest string, archivedAt, restoredAt time.Time) error
	// ManifestParents returns the digests of manifests that list digest as a child.
	ManifestParents(ctx context.Context, repo, digest string) ([]string, error)
	// ListReferrers returns the manifests whose subject is digest.
	ListReferrers(ctx context.Context, repo, digest string) ([]Manifest, error)
	// TouchPulled records that the manifest was pulled at t.
	TouchPulled(ctx context.Context, repo, digest string, t time.Time) error
}

// TagTx reads and writes tags.
type TagTx interface {
	// GetTag returns the digest a tag points at; ENotFound. In an Update,
	// it locks the tag as LockManifest does a manifest.
	GetTag(ctx context.Context, repo, tag string) (string, error)
	// PutTag points tag at digest, creating or moving it. If the Update
	// read the tag as missing and a concurrent one has created it since,
	// the Update runs again.
	PutTag(ctx context.Context, repo, tag, digest string, t time.Time) error
	// DeleteTag removes a tag; ENotFound.
	DeleteTag(ctx context.Context, repo, tag string) error
	// TagsOf returns the tags pointing at digest, sorted.
	TagsOf(ctx context.Context, repo, digest string) ([]string, error)
	// ListTags returns up to p.Limit tag names after p.After, sorted.
	ListTags(ctx context.Context, repo string, p Page) ([]string, string, error)
}

// BlobTx records which blobs each repository holds.
type BlobTx interface {
	// PutBlob records that repo holds blob b (idempotent).
	PutBlob(ctx context.Context, repo string, b Blob, t time.Time) error
	// GetBlob returns a blob of repo; ENotFound if the repository lacks it.
	// In an Update, the blob stays in repo until the Update ends.
	GetBlob(ctx context.Context, repo, digest string) (*Blob, error)
	// LockBlob is GetBlob for a blob the Update will delete.
	LockBlob(ctx context.Context, repo, digest string) (*Blob, error)
	// DeleteBlob forgets that repo holds a blob; ENotFound.
	DeleteBlob(ctx context.Context, repo, digest string) error
	// BlobReferenced reports whether any manifest of repo references digest.
	BlobReferenced(ctx context.Context, repo, digest string) (bool, error)
}

// LifecycleTx reads and writes lifecycle policies and their previews.
type LifecycleTx interface {
	// GetLifecyclePolicy returns a repository's policy text ("" for none)
	// and when it was last evaluated; ENotFound if the repository is not.
	GetLifecyclePolicy(ctx context.Context, repo string) (text string, evaluated time.Time, err error)
	// SetLifecyclePolicy sets (or with "", removes) a repository's policy.
	SetLifecyclePolicy(ctx context.Context, repo, text string) error
	// ClaimLifecycleRun records that the policy of repo is evaluated at t,
	// if it has one and its last evaluation was before since; it reports
	// whether it did, so that one process at a time evaluates a repository.
	ClaimLifecycleRun(ctx context.Context, repo string, since, t time.Time) (bool, error)
	// ListLifecycleRepositories returns up to p.Limit names of repositories
	// with a policy, after p.After, and the position after the last one.
	ListLifecycleRepositories(ctx context.Context, p Page) ([]string, string, error)
	// IndexChildren returns the digests of repo's manifests that an index
	// or manifest list of repo names.
	IndexChildren(ctx context.Context, repo string) ([]string, error)
	// PutLifecyclePreview replaces the preview of a repository.
	PutLifecyclePreview(ctx context.Context, repo string, p *LifecyclePreview) error
	// GetLifecyclePreview returns the preview of a repository; ENotFound.
	GetLifecyclePreview(ctx context.Context, repo string) (*LifecyclePreview, error)
}

// LifecyclePreview is the last lifecycle policy preview of a repository.
type LifecyclePreview struct {
	Policy    string // the text previewed, as sent
	Status    string // IN_PROGRESS, COMPLETE, FAILED
	StartedAt time.Time
	Results   []byte // the registry's encoding of what the policy would do
}

// GCTx keeps the registry-wide record of stored blobs and the work queues
// of garbage collection: blobs due for review, and objects due for removal
// from storage.
type GCTx interface {
	// GetBlobObject returns the stored blob of digest; ENotFound. In an
	// Update it stays until the Update ends.
	GetBlobObject(ctx context.Context, digest string) (*BlobObject, error)
	// LockBlobObject is GetBlobObject for a blob the Update may delete: it
	// also locks every repository's link to the blob, so that no manifest
	// can come to reference it until the Update ends.
	LockBlobObject(ctx context.Context, digest string) (*BlobObject, error)
	// PutBlobObject inserts o; EConflict if its digest is recorded.
	PutBlobObject(ctx context.Context, o *BlobObject) error
	// DeleteBlobObject deletes the record of digest and every repository's
	// link to it; ENotFound.
	DeleteBlobObject(ctx context.Context, digest string) error
	// ReviewBlobs sets the review time of each digest to t, or keeps it if
	// it is later; digests with no record are skipped.
	ReviewBlobs(ctx context.Context, digests []string, t time.Time) error
	// ReviewManifestBlobs is ReviewBlobs for the blobs a manifest references.
	ReviewManifestBlobs(ctx context.Context, repo, digest string, t time.Time) error
	// ReviewRepositoryBlobs is ReviewBlobs for every blob a repository holds.
	ReviewRepositoryBlobs(ctx context.Context, repo string, t time.Time) error
	// ClearBlobReview sets the review time of digest to zero.
	ClearBlobReview(ctx context.Context, digest string) error
	// DueBlobs returns up to limit digests whose review time is at or before
	// t, earliest first. In an Update it locks them as LockBlobObject does,
	// passing over any another Update holds.
	DueBlobs(ctx context.Context, t time.Time, limit int) ([]string, error)
	// ClearReferencedReviews clears the review of up to limit blobs due at
	// t that a manifest references, and returns how many it cleared. A
	// review moved past t meanwhile (a release) stays.
	ClearReferencedReviews(ctx context.Context, t time.Time, limit int) (int, error)
	// BlobInUse reports whether a manifest of any repository references digest.
	BlobInUse(ctx context.Context, digest string) (bool, error)
	// QueueDeletion queues an object for removal (idempotent by key).
	QueueDeletion(ctx context.Context, d Deletion) error
	// ClaimDeletions returns up to limit deletions due at t and, in an
	// Update, moves each one's NotBefore to until and counts an attempt, so
	// that no other worker takes it before then.
	ClaimDeletions(ctx context.Context, t, until time.Time, limit int) ([]Deletion, error)
	// DeleteDeletion forgets a deletion that was carried out.
	DeleteDeletion(ctx context.Context, key string) error
	// StaleUploads returns up to limit uploads last written before t.
	StaleUploads(ctx context.Context, t time.Time, limit int) ([]Upload, error)
	// ObjectOwned reports whether a blob record or a queued deletion names
	// key, or (upload not "") an upload of that id is in progress.
	ObjectOwned(ctx context.Context, key, upload string) (bool, error)
	// StorageStats counts what is stored and what garbage collection has
	// to do.
	StorageStats(ctx context.Context, t time.Time) (StorageStats, error)
}

// StorageStats is what StorageStats counts.
type StorageStats struct {
	Blobs, Bytes int64 // stored blobs and their bytes
	DueReviews   int64 // blobs whose review is due
	Reviews      int64 // blobs with a review pending
	Deletions    int64 // objects queued for removal
	Uploads      int64 // uploads in progress
}

// UploadTx reads and writes uploads in progress.
type UploadTx interface {
	// CreateUpload inserts u.
	CreateUpload(ctx context.Context, u *Upload) error
	// GetUpload returns the upload id of repo; ENotFound.
	GetUpload(ctx context.Context, repo, id string) (*Upload, error)
	// UpdateUpload saves u if its stored Size is still prevSize; EConflict
	// if another writer got there first, ENotFound if it is gone.
	UpdateUpload(ctx context.Context, u *Upload, prevSize int64) error
	// DeleteUpload removes an upload; ENotFound.
	DeleteUpload(ctx context.Context, id string) error
	// CountUploads returns how many uploads are in progress.
	CountUploads(ctx context.Context) (int, error)
}

// TemplateTx reads and writes repository creation templates.
type TemplateTx interface {
	// CreateTemplate inserts t; EConflict if its prefix is taken.
	CreateTemplate(ctx context.Context, t *CreationTemplate) error
	// UpdateTemplate replaces the template of t.Prefix; ENotFound.
	UpdateTemplate(ctx context.Context, t *CreationTemplate) error
	// GetTemplate returns the template of a prefix; ENotFound.
	GetTemplate(ctx context.Context, prefix string) (*CreationTemplate, error)
	// LockTemplate is GetTemplate for a template the Update will change.
	LockTemplate(ctx context.Context, prefix string) (*CreationTemplate, error)
	// ListTemplates returns templates by prefix after p.After.
	ListTemplates(ctx context.Context, p Page) ([]CreationTemplate, string, error)
	// DeleteTemplate removes a template; ENotFound.
	DeleteTemplate(ctx context.Context, prefix string) error
}
