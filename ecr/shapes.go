package ecr

import (
	"github.com/berth-registry/berth/awsproto"

	"github.com/berth-registry/berth"
)

// Shapes of the ECR API, named and spelled as in the service model
// (ecr-2015-09-21). Only members berth reads or writes are declared.

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type exclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

type imageScanningConfiguration struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type encryptionConfiguration struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

type repository struct {
	RepositoryArn                      string                     `json:"repositoryArn"`
	RegistryID                         string                     `json:"registryId"`
	RepositoryName                     string                     `json:"repositoryName"`
	RepositoryURI                      string                     `json:"repositoryUri,omitempty"`
	CreatedAt                          *awsproto.Epoch            `json:"createdAt"`
	ImageTagMutability                 string                     `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter          `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         imageScanningConfiguration `json:"imageScanningConfiguration"`
	EncryptionConfiguration            encryptionConfiguration    `json:"encryptionConfiguration"`
}

type imageIdentifier struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageIdentifier) ref() berth.ImageRef {
	return berth.ImageRef{Digest: id.ImageDigest, Tag: id.ImageTag}
}

func refsOf(ids []imageIdentifier) []berth.ImageRef {
	out := make([]berth.ImageRef, len(ids))
	for i, id := range ids {
		out[i] = id.ref()
	}
	return out
}

func idsOf(refs []berth.ImageRef) []imageIdentifier {
	out := make([]imageIdentifier, len(refs))
	for i, r := range refs {
		out[i] = imageIdentifier{ImageDigest: r.Digest, ImageTag: r.Tag}
	}
	return out
}

type image struct {
	RegistryID             string          `json:"registryId"`
	RepositoryName         string          `json:"repositoryName"`
	ImageID                imageIdentifier `json:"imageId"`
	ImageManifest          string          `json:"imageManifest"`
	ImageManifestMediaType string          `json:"imageManifestMediaType"`
}

type imageFailure struct {
	ImageID       imageIdentifier `json:"imageId"`
	FailureCode   string          `json:"failureCode"`
	FailureReason string          `json:"failureReason"`
}

type imageDetail struct {
	RegistryID             string          `json:"registryId"`
	RepositoryName         string          `json:"repositoryName"`
	ImageDigest            string          `json:"imageDigest"`
	ImageTags              []string        `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64           `json:"imageSizeInBytes"`
	ImagePushedAt          *awsproto.Epoch `json:"imagePushedAt"`
	LastRecordedPullTime   *awsproto.Epoch `json:"lastRecordedPullTime,omitempty"`
	ImageManifestMediaType string          `json:"imageManifestMediaType"`
	ArtifactMediaType      string          `json:"artifactMediaType,omitempty"`
	SubjectManifestDigest  string          `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string          `json:"imageStatus"`
	LastArchivedAt         *awsproto.Epoch `json:"lastArchivedAt,omitempty"`
	LastActivatedAt        *awsproto.Epoch `json:"lastActivatedAt,omitempty"`
}

type filter struct {
	TagStatus   string `json:"tagStatus"`
	ImageStatus string `json:"imageStatus"`
}

type layer struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
	MediaType         string `json:"mediaType,omitempty"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type authorizationData struct {
	AuthorizationToken string          `json:"authorizationToken"`
	ExpiresAt          *awsproto.Epoch `json:"expiresAt"`
	ProxyEndpoint      string          `json:"proxyEndpoint"`
}
