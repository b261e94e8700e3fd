package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func (e *env) storageClass(t *testing.T, repo string, id types.ImageIdentifier, target types.TargetStorageClass) (types.ImageStatus, error) {
	t.Helper()
	out, err := e.ecr.UpdateImageStorageClass(ctx, &ecr.UpdateImageStorageClassInput{RepositoryName: &repo, ImageId: &id, TargetStorageClass: target})
	if err != nil {
		return "", err
	}
	return out.ImageStatus, nil
}

func (e *env) imageStatus(t *testing.T, repo, digest string) types.ImageDetail {
	t.Helper()
	out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repo, ImageIds: []types.ImageIdentifier{{ImageDigest: &digest}}}))
	return out.ImageDetails[0]
}

func (e *env) listed(t *testing.T, repo string, status types.ImageStatusFilter) []string {
	t.Helper()
	in := &ecr.ListImagesInput{RepositoryName: &repo}
	if status != "" {
		in.Filter = &types.ListImagesFilter{ImageStatus: status}
	}
	var out []string
	for p := ecr.NewListImagesPaginator(e.ecr, in); p.HasMorePages(); {
		for _, id := range must[*ecr.ListImagesOutput](t)(p.NextPage(ctx)).ImageIds {
			if !slices.Contains(out, *id.ImageDigest) {
				out = append(out, *id.ImageDigest)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestArchive: the archive storage class. An archived image is listed
// only when asked for, described with its status and times, cannot be
// pulled through either API, and is restored by UpdateImageStorageClass
// (ACTIVATING, then ACTIVE) or by pushing it again; an image an index
// lists cannot be archived; garbage collection keeps an archived image's
// blobs; lifecycle rules archive images and expire them from the archive.
func TestArchive(t *testing.T) {
	e := startWith(t, func(c *serverConfig) {
		c.ArchiveRestoreTime = 300 * time.Millisecond
		c.LifecycleInterval = 100 * time.Millisecond
	}).clocked()
	e.createRepo("arc")
	digests := e.pushTagged(t, "arc", 3)
	v0 := types.ImageIdentifier{ImageTag: aws.String("v0")}
	if st, err := e.storageClass(t, "arc", v0, types.TargetStorageClassArchive); err != nil || st != types.ImageStatusArchived {
		t.Fatalf("archive: %s %v", st, err)
	}
	_, err := e.storageClass(t, "arc", v0, types.TargetStorageClassArchive)
	wantError(t, err, "ImageStorageClassUpdateNotSupportedException", 400)
	_, err = e.storageClass(t, "arc", types.ImageIdentifier{ImageTag: aws.String("v1")}, types.TargetStorageClassStandard)
	wantError(t, err, "ImageStorageClassUpdateNotSupportedException", 400)
	_, err = e.storageClass(t, "arc", types.ImageIdentifier{ImageTag: aws.String("nope")}, types.TargetStorageClassArchive)
	wantError(t, err, "ImageNotFoundException", 400)

	d := e.imageStatus(t, "arc", digests[0])
	if d.ImageStatus != types.ImageStatusArchived || d.LastArchivedAt == nil || d.LastActivatedAt != nil {
		t.Fatalf("described: %s archived %v activated %v", d.ImageStatus, d.LastArchivedAt, d.LastActivatedAt)
	}
	if got := e.listed(t, "arc", ""); !slices.Equal(got, sorted(digests[1:])) {
		t.Fatalf("listed by default: %v", got)
	}
	if got := e.listed(t, "arc", types.ImageStatusFilterArchived); !slices.Equal(got, digests[:1]) {
		t.Fatalf("listed archived: %v", got)
	}
	if got := e.listed(t, "arc", types.ImageStatusFilterAny); !slices.Equal(got, sorted(digests)) {
		t.Fatalf("listed any: %v", got)
	}
	wantNoPull := func(when string) {
		t.Helper()
		out := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("arc"), ImageIds: []types.ImageIdentifier{v0}}))
		if len(out.Images) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound || !strings.Contains(*out.Failures[0].FailureReason, "restored") {
			t.Fatalf("%s: BatchGetImage %d images, failures %+v", when, len(out.Images), out.Failures)
		}
		req := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/arc/manifests/v0", nil))
		req.SetBasicAuth("AWS", e.loginPassword())
		if resp, body := e.raw(req); resp.StatusCode != 404 || !strings.Contains(string(body), "MANIFEST_UNKNOWN") {
			t.Fatalf("%s: registry API answered %d %s", when, resp.StatusCode, body)
		}
	}
	wantNoPull("archived")

	// Restored: ACTIVATING for the restore time, then ACTIVE.
	if st, err := e.storageClass(t, "arc", v0, types.TargetStorageClassStandard); err != nil || st != types.ImageStatusActivating {
		t.Fatalf("restore: %s %v", st, err)
	}
	wantNoPull("activating")
	if got := e.listed(t, "arc", types.ImageStatusFilterActivating); !slices.Equal(got, digests[:1]) {
		t.Fatalf("listed activating: %v", got)
	}
	for e.imageStatus(t, "arc", digests[0]).ImageStatus != types.ImageStatusActive {
		time.Sleep(50 * time.Millisecond)
	}
	if d := e.imageStatus(t, "arc", digests[0]); d.LastActivatedAt == nil {
		t.Fatal("no lastActivatedAt after a restore")
	}
	if err := pullVerified(t, e.ecr, "arc", digests[0]); err != nil {
		t.Fatal(err)
	}

	// Pushed again: restored at once.
	v1 := types.ImageIdentifier{ImageTag: aws.String("v1")}
	must[types.ImageStatus](t)(e.storageClass(t, "arc", v1, types.TargetStorageClassArchive))
	img := imageOf("arc-1", 1) // what pushTagged pushed as v1, its blobs there
	must[*ecr.PutImageOutput](t)(e.putImage("arc", img.docker(), "v1"))
	if st := e.imageStatus(t, "arc", digests[1]).ImageStatus; st != types.ImageStatusActive {
		t.Fatalf("pushed again: %s", st)
	}

	// An index's child cannot be archived; the index can.
	e.createRepo("arc-idx")
	a, b := e.pushImage("arc-idx", "a", 1).docker(), e.pushImage("arc-idx", "b", 1).docker()
	must[*ecr.PutImageOutput](t)(e.putImage("arc-idx", a, ""))
	must[*ecr.PutImageOutput](t)(e.putImage("arc-idx", b, ""))
	idx := index("application/vnd.docker.distribution.manifest.list.v2+json", a, b)
	must[*ecr.PutImageOutput](t)(e.putImage("arc-idx", idx, "multi"))
	_, err = e.storageClass(t, "arc-idx", types.ImageIdentifier{ImageDigest: aws.String(digestOf([]byte(a)))}, types.TargetStorageClassArchive)
	wantError(t, err, "ImageStorageClassUpdateNotSupportedException", 400)
	must[types.ImageStatus](t)(e.storageClass(t, "arc-idx", types.ImageIdentifier{ImageTag: aws.String("multi")}, types.TargetStorageClassArchive))
	must[types.ImageStatus](t)(e.storageClass(t, "arc-idx", types.ImageIdentifier{ImageDigest: aws.String(digestOf([]byte(a)))}, types.TargetStorageClassArchive))

	// Garbage collection keeps the blobs of archived images.
	must[types.ImageStatus](t)(e.storageClass(t, "arc", types.ImageIdentifier{ImageTag: aws.String("v2")}, types.TargetStorageClassArchive))
	e.clock.Advance(30 * 24 * time.Hour)
	if rep := e.gc(t); rep.BlobsDeleted != 0 {
		t.Fatalf("a sweep deleted %d blobs of archived images", rep.BlobsDeleted)
	}
	must[types.ImageStatus](t)(e.storageClass(t, "arc", types.ImageIdentifier{ImageTag: aws.String("v2")}, types.TargetStorageClassStandard))
	for e.imageStatus(t, "arc", digests[2]).ImageStatus != types.ImageStatusActive {
		e.clock.Advance(100 * time.Millisecond)
	}
	if err := pullVerified(t, e.ecr, "arc", digests[2]); err != nil {
		t.Fatal(err)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestLifecycleArchive: rules that archive images by age, and expire them
// from the archive after 90 days or more, carried out by the scheduler.
func TestLifecycleArchive(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.LifecycleInterval = 100 * time.Millisecond }).clocked()
	e.createRepo("lca")
	digests := e.pushTagged(t, "lca", 2)
	policy := `{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v0"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}},
		{"rulePriority":2,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}`
	// The preview (of the text, before it is stored and run) shows the
	// transition of v0 only.
	e.clock.Advance(31 * 24 * time.Hour)
	must[*ecr.StartLifecyclePolicyPreviewOutput](t)(e.ecr.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String("lca"), LifecyclePolicyText: &policy}))
	pv := e.waitPreview(t, "lca")
	if len(pv.PreviewResults) != 1 || *pv.PreviewResults[0].ImageDigest != digests[0] || pv.PreviewResults[0].Action.Type != types.ImageActionTypeTransition ||
		pv.PreviewResults[0].Action.TargetStorageClass != types.LifecyclePolicyTargetStorageClassArchive || len(pv.Summary.TransitioningImageTotalCounts) != 1 ||
		*pv.Summary.TransitioningImageTotalCounts[0].ImageTotalCount != 1 {
		t.Fatalf("preview: %+v %+v", pv.PreviewResults, pv.Summary)
	}
	must[*ecr.PutLifecyclePolicyOutput](t)(e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("lca"), LifecyclePolicyText: &policy}))
	for e.imageStatus(t, "lca", digests[0]).ImageStatus != types.ImageStatusArchived {
		time.Sleep(50 * time.Millisecond)
	}
	if st := e.imageStatus(t, "lca", digests[1]).ImageStatus; st != types.ImageStatusActive {
		t.Fatalf("v1 is %s", st)
	}
	// 91 days in the archive: expired.
	e.clock.Advance(91 * 24 * time.Hour)
	for len(e.listed(t, "lca", types.ImageStatusFilterAny)) != 1 {
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.listed(t, "lca", types.ImageStatusFilterAny); got[0] != digests[1] {
		t.Fatalf("left %v", got)
	}
}
