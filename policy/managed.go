package policy

import (
	"sync"
	"time"
)

// ManagedPolicy is an AWS managed policy berth ships, attachable to users,
// groups and roles as on AWS.
type ManagedPolicy struct {
	Name string
	// ARN is arn:aws:iam::aws:policy/<Name>.
	ARN string
	// VersionID is the default version's id ("v3").
	VersionID string
	// Created is when AWS created the policy, Updated when it created the
	// default version.
	Created, Updated time.Time
	Description      string
	// Document is the default version's JSON text, as GetPolicyVersion
	// shows it.
	Document string
	// Policy is Document parsed; shared, so it must not be changed.
	Policy *Policy
}

// managedDocuments are the ECR and ECR Public managed policies of ecr-auth
// §1.5, their statements as AWS publishes them (zoph-io/MAMIP, 2026-03),
// their version dates from the same files. The three older ECR policies
// were created with ECR on 2015-12-21 (ECR User Guide, "Amazon ECR updates
// to AWS managed policies"; the day only, so midnight UTC); PullOnly and the
// Public ones were created with their first version. The descriptions are
// berth's.
var managedDocuments = []struct {
	name, version, created, updated, description, document string
}{
	{
		"AmazonEC2ContainerRegistryReadOnly", "v3", "2015-12-21T00:00:00Z", "2019-12-10T20:56:32Z",
		"Read-only access to Amazon ECR repositories: pull images, list and describe them, read their policies.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ecrReadOnly + `],"Resource":"*"}]}`,
	},
	{
		"AmazonEC2ContainerRegistryPowerUser", "v3", "2015-12-21T00:00:00Z", "2019-12-10T20:48:08Z",
		"Push and pull access to Amazon ECR repositories, without deleting repositories or changing their policies.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ecrReadOnly +
			`,"ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}`,
	},
	{
		"AmazonEC2ContainerRegistryFullAccess", "v3", "2015-12-21T00:00:00Z", "2020-12-05T00:04:19Z",
		"Administrative access to Amazon ECR, including creating the service-linked role replication needs.",
		`{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":["ecr:*","cloudtrail:LookupEvents"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"iam:AWSServiceName":["replication.ecr.amazonaws.com"]}}}]}`,
	},
	{
		"AmazonEC2ContainerRegistryPullOnly", "v1", "2024-10-04T16:58:49Z", "2024-10-04T16:58:49Z",
		"Pull images from Amazon ECR, including through pull-through cache rules.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken",` +
			`"ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}`,
	},
	{
		"AmazonElasticContainerRegistryPublicReadOnly", "v1", "2020-12-01T17:27:04Z", "2020-12-01T17:27:04Z",
		"Read-only access to Amazon ECR Public repositories and registries, with the bearer token they need.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ecrPublicReadOnly + `],"Resource":"*"}]}`,
	},
	{
		"AmazonElasticContainerRegistryPublicPowerUser", "v1", "2020-12-01T16:16:54Z", "2020-12-01T16:16:54Z",
		"Push and pull access to Amazon ECR Public repositories, without deleting them or changing their policies.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ecrPublicReadOnly +
			`,"ecr-public:InitiateLayerUpload","ecr-public:UploadLayerPart","ecr-public:CompleteLayerUpload","ecr-public:PutImage"],"Resource":"*"}]}`,
	},
	{
		"AmazonElasticContainerRegistryPublicFullAccess", "v1", "2020-12-01T17:25:52Z", "2020-12-01T17:25:52Z",
		"Administrative access to Amazon ECR Public, with the bearer token it needs.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr-public:*","sts:GetServiceBearerToken"],"Resource":"*"}]}`,
	},
}

const ecrReadOnly = `"ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer",` +
	`"ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage",` +
	`"ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings"`

const ecrPublicReadOnly = `"ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken",` +
	`"ecr-public:BatchCheckLayerAvailability","ecr-public:GetRepositoryPolicy","ecr-public:DescribeRepositories",` +
	`"ecr-public:DescribeRegistries","ecr-public:DescribeImages","ecr-public:DescribeImageTags",` +
	`"ecr-public:GetRepositoryCatalogData","ecr-public:GetRegistryCatalogData"`

// managed parses the documents once; they are constants, so a failure is a
// bug the package's tests catch.
var managed = sync.OnceValue(func() []ManagedPolicy {
	out := make([]ManagedPolicy, 0, len(managedDocuments))
	for _, d := range managedDocuments {
		p, err := Parse(d.document)
		if err != nil {
			panic("policy: managed policy " + d.name + ": " + err.Error())
		}
		out = append(out, ManagedPolicy{
			Name:        d.name,
			ARN:         "arn:aws:iam::aws:policy/" + d.name,
			VersionID:   d.version,
			Created:     mustTime(d.created),
			Updated:     mustTime(d.updated),
			Description: d.description,
			Document:    d.document,
			Policy:      p,
		})
	}
	return out
})

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic("policy: managed policy date " + s + ": " + err.Error())
	}
	return t
}

// Managed lists the AWS managed policies berth ships. The slice is a copy;
// the Policies in it are shared.
func Managed() []ManagedPolicy {
	return append([]ManagedPolicy(nil), managed()...)
}

// ManagedByARN finds a managed policy by its ARN.
func ManagedByARN(arn string) (ManagedPolicy, bool) {
	for _, m := range managed() {
		if m.ARN == arn {
			return m, true
		}
	}
	return ManagedPolicy{}, false
}
