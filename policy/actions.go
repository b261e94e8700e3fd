package policy

import (
	"sort"
	"strings"
)

// Scope is the resource an action is authorized against.
type Scope int

// The resource types of ECR and ECR Public actions.
const (
	// ScopeNone: the action has no resource type; policies grant it with
	// "Resource": "*" and the request's resource is "*".
	ScopeNone Scope = iota
	// ScopeRepository: the action takes the repository's ARN.
	ScopeRepository
	// ScopeRegistry: the action takes the registry's ARN (ECR Public only:
	// arn:aws:ecr-public::<account>:registry/<id>).
	ScopeRegistry
)

// ecrActions maps each private ECR IAM action name (without "ecr:") to its
// scope: the 58 operations of the 2015-09-21 model joined with the Service
// Authorization Reference (ecr-auth §1.2), the permission-only actions
// (BatchImportUpstreamImage, GetImageCopyStatus, ReplicateImage), and the
// four replication-backfill operations of newer SDKs, which the reference
// does not list yet and are assumed to take "*" [verify].
var ecrActions = map[string]Scope{
	"BatchCheckLayerAvailability":             ScopeRepository,
	"BatchDeleteImage":                        ScopeRepository,
	"BatchGetImage":                           ScopeRepository,
	"BatchGetRepositoryScanningConfiguration": ScopeRepository,
	"BatchImportUpstreamImage":                ScopeRepository,
	"CompleteLayerUpload":                     ScopeRepository,
	"CreatePullThroughCacheRule":              ScopeNone,
	"CreateRepository":                        ScopeRepository,
	"CreateRepositoryCreationTemplate":        ScopeNone,
	"DeleteLifecyclePolicy":                   ScopeRepository,
	"DeletePullThroughCacheRule":              ScopeNone,
	"DeleteRegistryPolicy":                    ScopeNone,
	"DeleteRepository":                        ScopeRepository,
	"DeleteRepositoryCreationTemplate":        ScopeNone,
	"DeleteRepositoryPolicy":                  ScopeRepository,
	"DeleteSigningConfiguration":              ScopeNone,
	"DeregisterPullTimeUpdateExclusion":       ScopeNone,
	"DescribeImageReplicationStatus":          ScopeRepository,
	"DescribeImageScanFindings":               ScopeRepository,
	"DescribeImageSigningStatus":              ScopeRepository,
	"DescribeImages":                          ScopeRepository,
	"DescribePullThroughCacheRules":           ScopeNone,
	"DescribeRegistry":                        ScopeNone,
	"DescribeReplicationBackfillResults":      ScopeNone,
	"DescribeRepositories":                    ScopeRepository,
	"DescribeRepositoryCreationTemplates":     ScopeNone,
	"GetAccountSetting":                       ScopeNone,
	"GetAuthorizationToken":                   ScopeNone,
	"GetDownloadUrlForLayer":                  ScopeRepository,
	"GetImageCopyStatus":                      ScopeRepository,
	"GetLifecyclePolicy":                      ScopeRepository,
	"GetLifecyclePolicyPreview":               ScopeRepository,
	"GetRegistryPolicy":                       ScopeNone,
	"GetRegistryScanningConfiguration":        ScopeNone,
	"GetRepositoryPolicy":                     ScopeRepository,
	"GetSigningConfiguration":                 ScopeNone,
	"InitiateLayerUpload":                     ScopeRepository,
	"ListImages":                              ScopeRepository,
	"ListPullTimeUpdateExclusions":            ScopeNone,
	"ListReplicationBackfills":                ScopeNone,
	"ListTagsForResource":                     ScopeRepository,
	"PutAccountSetting":                       ScopeNone,
	"PutImage":                                ScopeRepository,
	"PutImageScanningConfiguration":           ScopeRepository,
	"PutImageTagMutability":                   ScopeRepository,
	"PutLifecyclePolicy":                      ScopeRepository,
	"PutRegistryPolicy":                       ScopeNone,
	"PutRegistryScanningConfiguration":        ScopeNone,
	"PutReplicationConfiguration":             ScopeNone,
	"PutSigningConfiguration":                 ScopeNone,
	"RegisterPullTimeUpdateExclusion":         ScopeNone,
	"ReplicateImage":                          ScopeRepository,
	"SetRepositoryPolicy":                     ScopeRepository,
	"StartImageScan":                          ScopeRepository,
	"StartLifecyclePolicyPreview":             ScopeRepository,
	"StartReplicationBackfill":                ScopeNone,
	"StopReplicationBackfill":                 ScopeNone,
	"TagResource":                             ScopeRepository,
	"UntagResource":                           ScopeRepository,
	"UpdateImageStorageClass":                 ScopeRepository,
	"UpdatePullThroughCacheRule":              ScopeNone,
	"UpdateRepositoryCreationTemplate":        ScopeNone,
	"UploadLayerPart":                         ScopeRepository,
	"ValidatePullThroughCacheRule":            ScopeNone,
}

// ecrOperationAction names the operations whose permission is another
// action's: "The IAM principal invoking this operation must have the
// ecr:BatchGetImage permission" (ListImageReferrers, 2015-09-21 model).
var ecrOperationAction = map[string]string{
	"ListImageReferrers": "BatchGetImage",
}

// ecrPublicActions maps each ECR Public action (without "ecr-public:") to
// its scope (ecr-auth §5, from the Service Authorization Reference).
// DescribeRepositories takes a repository optionally; listed here as
// repository-scoped, a door asking for all repositories passes
// …:repository/* as ECR does.
var ecrPublicActions = map[string]Scope{
	"BatchCheckLayerAvailability": ScopeRepository,
	"BatchDeleteImage":            ScopeRepository,
	"CompleteLayerUpload":         ScopeRepository,
	"CreateRepository":            ScopeRepository,
	"DeleteRepository":            ScopeRepository,
	"DeleteRepositoryPolicy":      ScopeRepository,
	"DescribeImageTags":           ScopeRepository,
	"DescribeImages":              ScopeRepository,
	"DescribeRegistries":          ScopeRegistry,
	"DescribeRepositories":        ScopeRepository,
	"GetAuthorizationToken":       ScopeNone,
	"GetRegistryCatalogData":      ScopeRegistry,
	"GetRepositoryCatalogData":    ScopeRepository,
	"GetRepositoryPolicy":         ScopeRepository,
	"InitiateLayerUpload":         ScopeRepository,
	"ListTagsForResource":         ScopeRepository,
	"PutImage":                    ScopeRepository,
	"PutRegistryCatalogData":      ScopeRegistry,
	"PutRepositoryCatalogData":    ScopeRepository,
	"SetRepositoryPolicy":         ScopeRepository,
	"TagResource":                 ScopeRepository,
	"UntagResource":               ScopeRepository,
	"UploadLayerPart":             ScopeRepository,
}

// ECRAction is the IAM action a private ECR operation is authorized as:
// "ecr:<Operation>", except ListImageReferrers, which is ecr:BatchGetImage.
// op may be given with or without the "ecr:" prefix; known is false for a
// name that is neither an operation nor a permission-only action.
func ECRAction(op string) (action string, known bool) {
	name, ok := lookupAction(ecrActions, op, "ecr:")
	if !ok {
		for o, a := range ecrOperationAction {
			if strings.EqualFold(o, trimService(op, "ecr:")) {
				return "ecr:" + a, true
			}
		}
		return "", false
	}
	return "ecr:" + name, true
}

// ECRResourceScope says whether a private ECR operation or action is
// authorized against the repository's ARN (repositoryScoped) or "*".
func ECRResourceScope(op string) (repositoryScoped, known bool) {
	action, ok := ECRAction(op)
	if !ok {
		return false, false
	}
	return ecrActions[strings.TrimPrefix(action, "ecr:")] == ScopeRepository, true
}

// ECRPublicResourceScope says what resource an ECR Public operation is
// authorized against.
func ECRPublicResourceScope(op string) (scope Scope, known bool) {
	name, ok := lookupAction(ecrPublicActions, op, "ecr-public:")
	if !ok {
		return ScopeNone, false
	}
	return ecrPublicActions[name], true
}

// ECRActions lists every private ECR action, "ecr:" prefixed, sorted.
func ECRActions() []string {
	out := make([]string, 0, len(ecrActions))
	for name := range ecrActions {
		out = append(out, "ecr:"+name)
	}
	sort.Strings(out)
	return out
}

// lookupAction finds op in table ignoring case, as IAM compares actions,
// and returns the name as the table spells it.
func lookupAction(table map[string]Scope, op, prefix string) (string, bool) {
	name := trimService(op, prefix)
	if _, ok := table[name]; ok {
		return name, true
	}
	for n := range table {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

func trimService(op, prefix string) string {
	if len(op) >= len(prefix) && strings.EqualFold(op[:len(prefix)], prefix) {
		return op[len(prefix):]
	}
	return op
}

// ecrActionsMatching returns the private ECR actions an Action entry
// matches, as "ecr:<Name>".
func ecrActionsMatching(pattern string) []string {
	var out []string
	for name := range ecrActions {
		if matchAction(pattern, "ecr:"+name) {
			out = append(out, "ecr:"+name)
		}
	}
	return out
}
