// Package berth is the vocabulary of the registry: the domain types, the two
// storage ports (MetaStore and BlobStore) and the typed errors every layer
// speaks. It does no I/O; the rules live in package registry, the wire
// formats in ecr and oci, and the storage in meta/* and blob/*.
package berth

import (
	"time"
)

// TagMutability is a repository's tag mutability setting, spelled as the ECR
// API spells it.
type TagMutability string

// The four mutability settings of ECR.
const (
	Mutable                 TagMutability = "MUTABLE"
	Immutable               TagMutability = "IMMUTABLE"
	ImmutableWithExclusion  TagMutability = "IMMUTABLE_WITH_EXCLUSION"
	MutableWithExclusion    TagMutability = "MUTABLE_WITH_EXCLUSION"
	ExclusionFilterWildcard               = "WILDCARD"
)

// ResourceTag is a key/value tag attached to a repository (not an image tag).
type ResourceTag struct {
	Key   string
	Value string
}

// Repository is one repository of the registry and its settings.
type Repository struct {
	Name      string
	CreatedAt time.Time
	// TagMutability and TagMutabilityExclusions decide which tags can move;
	// exclusions are WILDCARD filters where '*' matches any run of characters.
	TagMutability           TagMutability
	TagMutabilityExclusions []string
	ScanOnPush              bool
	EncryptionType          string // AES256, KMS or KMS_DSSE
	KMSKey                  string
	Tags                    []ResourceTag
}

// Manifest is an image as stored: its exact bytes and what was derived from
// them when it was pushed.
type Manifest struct {
	Repository string
	Digest     string
	MediaType  string
	// ArtifactType is the artifactType of an OCI manifest or, failing that, its
	// config media type (ECR's artifactMediaType).
	ArtifactType string
	// Subject is the digest of the manifest this one refers to (OCI 1.1), or "".
	Subject string
	Bytes   []byte
	// Size is ECR's imageSizeInBytes: config plus layers for an image manifest,
	// the largest child for an index.
	Size     int64
	PushedAt time.Time
	// LastPulledAt is zero until the image is first pulled.
	LastPulledAt time.Time
	// ArchivedAt is when the image last moved to the archive storage class
	// (zero if never); RestoredAt when its last restore from there ends
	// (zero, or before ArchivedAt, if it has not been restored since).
	// Status derives the image's status from them.
	ArchivedAt, RestoredAt time.Time
	// Blobs are the distributable blobs (config and layers) the manifest needs;
	// Children are the manifests an index or list names.
	Blobs    []BlobRef
	Children []string
}

// BlobRef is a manifest's reference to a blob.
type BlobRef struct {
	Digest    string
	Size      int64
	MediaType string
}

// Image is one manifest with the tags that point at it.
type Image struct {
	Manifest
	Tags []string
}

// ImageStatus is where an image's storage stands (ECR's imageStatus).
type ImageStatus string

// Image statuses, as ECR spells them; ImageAny is the filter for all.
const (
	ImageActive     ImageStatus = "ACTIVE"
	ImageArchived   ImageStatus = "ARCHIVED"
	ImageActivating ImageStatus = "ACTIVATING"
	ImageAny        ImageStatus = "ANY"
)

// Status is the image's status at t: ACTIVE unless it was archived and
// not restored since (ARCHIVED), or its restore ends after t (ACTIVATING).
func (m *Manifest) Status(t time.Time) ImageStatus {
	switch {
	case m.ArchivedAt.IsZero():
		return ImageActive
	case !m.RestoredAt.After(m.ArchivedAt):
		return ImageArchived
	case t.Before(m.RestoredAt):
		return ImageActivating
	}
	return ImageActive
}

// ActivatedAt is when the image was last restored from the archive, as of
// t; zero if it never was, or its restore has not ended by t.
func (m *Manifest) ActivatedAt(t time.Time) time.Time {
	if m.RestoredAt.After(m.ArchivedAt) && !m.RestoredAt.After(t) {
		return m.RestoredAt
	}
	return time.Time{}
}

// ImageFilter selects the images of a list.
type ImageFilter struct {
	Tags   TagStatus   // "" or TagStatusAny: all
	Status ImageStatus // "" or ImageAny: all
	// Now is the time statuses are reckoned at.
	Now time.Time
}

// ImageRef is one (digest, tag) pair, as ECR's ImageIdentifier.
type ImageRef struct {
	Digest string
	Tag    string
}

// Blob is a blob known to a repository.
type Blob struct {
	Digest    string
	Size      int64
	MediaType string
	// Key is the object key of its bytes in the BlobStore; Review, when
	// not zero, when garbage collection will next ask whether anything
	// still references it (BlobObject.Review).
	Key    string
	Review time.Time
}

// BlobObject is the registry-wide record of a stored blob: one per digest,
// whichever repositories hold it.
type BlobObject struct {
	Digest    string
	Key       string
	Size      int64
	CreatedAt time.Time
	// Review is when garbage collection is to ask whether any manifest
	// references the blob; zero when it last found one that does and
	// nothing has released or confirmed the blob since.
	Review time.Time
}

// Deletion is an object queued for removal from the BlobStore: written in
// the transaction that made the object unreachable, carried out after it
// commits, so that storage never loses bytes the metadata still names.
type Deletion struct {
	// Key is the object key of a committed blob, or for the staging object
	// of an upload "upload/" and its id, with UploadState its BackendState.
	Key         string
	UploadState string
	NotBefore   time.Time
	Attempts    int
}

// UploadDeletionKey is the Deletion key of an upload's staging object.
func UploadDeletionKey(id string) string { return "upload/" + id }

// Upload is a blob upload in progress. It survives restarts: the bytes live
// in the BlobStore's staging area, the state here in the MetaStore.
type Upload struct {
	ID         string
	Repository string
	CreatedAt  time.Time
	// UpdatedAt is when its last part arrived; uploads idle for longer
	// than the upload TTL are collected.
	UpdatedAt time.Time
	// Size is the number of bytes received and made durable so far.
	Size int64
	// HashState is the marshalled sha256 state after Size bytes.
	HashState []byte
	// Parts counts the parts received; SmallPart is set once a part shorter
	// than the ECR minimum was followed by another part.
	Parts        int
	LastPartSize int64
	SmallPart    bool
	BackendState string
}

// TagStatus filters images by whether they carry tags.
type TagStatus string

// Tag status filter values, as ECR spells them.
const (
	TagStatusAny      TagStatus = "ANY"
	TagStatusTagged   TagStatus = "TAGGED"
	TagStatusUntagged TagStatus = "UNTAGGED"
)

// Page is a request for one page of a list: Limit items after the opaque
// position After ("" for the first page).
type Page struct {
	After string
	Limit int
}

// CreationTemplate is a repository creation template: the settings a
// repository gets when berth creates it, for instance on push.
type CreationTemplate struct {
	// Prefix is a repository namespace ("team" covers team/...), or ROOT
	// for every repository no other template covers.
	Prefix                  string
	Description             string
	AppliedFor              []string
	TagMutability           TagMutability
	TagMutabilityExclusions []string
	EncryptionType          string
	KMSKey                  string
	ResourceTags            []ResourceTag
	RepositoryPolicy        string
	LifecyclePolicy         string
	CustomRoleArn           string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// RootPrefix is the prefix of the template that applies to every repository.
const RootPrefix = "ROOT"

// AppliedForCreateOnPush marks a template used when a push names a
// repository that does not exist.
const AppliedForCreateOnPush = "CREATE_ON_PUSH"
