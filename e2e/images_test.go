package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func ids(pairs ...string) []types.ImageIdentifier {
	var out []types.ImageIdentifier
	for _, p := range pairs {
		var id types.ImageIdentifier
		if d, tag, ok := strings.Cut(p, "#"); ok {
			id.ImageDigest, id.ImageTag = aws.String(d), aws.String(tag)
		} else if strings.HasPrefix(p, "sha256:") || strings.HasPrefix(p, "@") {
			id.ImageDigest = aws.String(strings.TrimPrefix(p, "@"))
		} else if p != "" {
			id.ImageTag = aws.String(p)
		}
		out = append(out, id)
	}
	return out
}

func TestBatchGetImage(t *testing.T) {
	e := start(t)
	e.createRepo("get")
	m := e.pushImage("get", "g", 1).docker()
	d := digestOf([]byte(m))
	must[*ecr.PutImageOutput](t)(e.putImage("get", m, "v1"))
	out := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("get"),
		ImageIds: ids("v1", d, "missing", "", "@sha256:zz", d+"#missing", digestOf([]byte("x"))+"#v1", "bad tag")}))
	if len(out.Images) != 2 {
		t.Fatalf("images %+v", out.Images)
	}
	for _, img := range out.Images {
		if *img.ImageManifest != m || *img.ImageId.ImageDigest != d || *img.ImageManifestMediaType != "application/vnd.docker.distribution.manifest.v2+json" {
			t.Fatalf("image %+v", img)
		}
	}
	if aws.ToString(out.Images[0].ImageId.ImageTag) != "v1" {
		t.Errorf("by tag, imageId carries the tag: %+v", out.Images[0].ImageId)
	}
	var codes []string
	for _, f := range out.Failures {
		codes = append(codes, string(f.FailureCode))
		if aws.ToString(f.FailureReason) == "" {
			t.Errorf("failure %s has no reason", f.FailureCode)
		}
	}
	want := "ImageNotFound,MissingDigestAndTag,InvalidImageDigest,ImageNotFound,ImageTagDoesNotMatchDigest,InvalidImageTag"
	if strings.Join(codes, ",") != want {
		t.Fatalf("failure codes %v, want %s", codes, want)
	}
	// acceptedMediaTypes filters what may come back.
	out = must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("get"), ImageIds: ids("v1"),
		AcceptedMediaTypes: []string{"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"}}))
	if len(out.Images) != 1 {
		t.Fatal("accepted media type refused")
	}
	out = must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("get"), ImageIds: ids("v1"),
		AcceptedMediaTypes: []string{"application/vnd.oci.image.index.v1+json"}}))
	if len(out.Images) != 0 || len(out.Failures) != 1 {
		t.Fatalf("unaccepted media type returned: %+v", out)
	}
	_, err := e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("nope"), ImageIds: ids("v1")})
	wantError(t, err, "RepositoryNotFoundException", 400)
	_, err = e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("get"), ImageIds: []types.ImageIdentifier{}})
	wantError(t, err, "InvalidParameterException", 400)

	// Pulling records lastRecordedPullTime.
	det := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("get"), ImageIds: ids("v1")}))
	if det.ImageDetails[0].LastRecordedPullTime == nil {
		t.Error("lastRecordedPullTime not set after a pull")
	}

	// Retag: BatchGetImage, then PutImage of the byte-identical manifest.
	got := out0(t, e, "get", "v1")
	must[*ecr.PutImageOutput](t)(e.putImage("get", got, "v2"))
	if tags := e.tagsOf("get", d); strings.Join(tags, ",") != "v1,v2" {
		t.Fatalf("retag: %v", tags)
	}
}

func out0(t *testing.T, e *env, repo, tag string) string {
	out := must[*ecr.BatchGetImageOutput](t)(e.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: &repo, ImageIds: ids(tag)}))
	return *out.Images[0].ImageManifest
}

func TestDescribeAndListImages(t *testing.T) {
	e := start(t)
	e.createRepo("list")
	img := e.pushImage("list", "base", 2)
	var digests []string
	for i := 0; i < 12; i++ {
		c := img
		cfg := []byte(fmt.Sprintf(`{"n":%d}`, i))
		c.config = descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: e.pushBlob("list", cfg), Size: len(cfg)}
		m := c.docker()
		tag := ""
		if i%3 != 0 { // images 0, 3, 6, 9 are untagged
			tag = fmt.Sprintf("t%02d", i)
		}
		must[*ecr.PutImageOutput](t)(e.putImage("list", m, tag))
		if i == 1 {
			must[*ecr.PutImageOutput](t)(e.putImage("list", m, "second-tag"))
		}
		digests = append(digests, digestOf([]byte(m)))
	}
	sorted := append([]string(nil), digests...)
	sort.Strings(sorted)

	t.Run("describe pages", func(t *testing.T) {
		var got []string
		p := ecr.NewDescribeImagesPaginator(e.ecr, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), MaxResults: aws.Int32(5)})
		pages := 0
		for p.HasMorePages() {
			out := must[*ecr.DescribeImagesOutput](t)(p.NextPage(ctx))
			pages++
			for _, d := range out.ImageDetails {
				got = append(got, *d.ImageDigest)
				if *d.ImageDigest == digests[1] && strings.Join(d.ImageTags, ",") != "second-tag,t01" {
					t.Errorf("tags %v", d.ImageTags)
				}
				if *d.ImageDigest == digests[0] && d.ImageTags != nil {
					t.Errorf("untagged image has imageTags %v", d.ImageTags)
				}
				if want := int64(len(fmt.Sprintf(`{"n":%d}`, 0))) + int64(img.layers[0].Size+img.layers[1].Size); *d.ImageDigest == digests[0] && *d.ImageSizeInBytes != want {
					t.Errorf("imageSizeInBytes %d, want %d", *d.ImageSizeInBytes, want)
				}
				if d.ImagePushedAt == nil || d.ImageStatus != types.ImageStatusActive {
					t.Errorf("detail %+v", d)
				}
			}
		}
		if pages != 3 || strings.Join(got, ",") != strings.Join(sorted, ",") {
			t.Fatalf("%d pages, %v", pages, got)
		}
	})
	t.Run("describe filters", func(t *testing.T) {
		for status, want := range map[types.TagStatus]int{types.TagStatusTagged: 8, types.TagStatusUntagged: 4, types.TagStatusAny: 12} {
			out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), Filter: &types.DescribeImagesFilter{TagStatus: status}}))
			if len(out.ImageDetails) != want {
				t.Errorf("%s: %d images, want %d", status, len(out.ImageDetails), want)
			}
		}
		_, err := e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), Filter: &types.DescribeImagesFilter{TagStatus: "SOME"}})
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("describe by id", func(t *testing.T) {
		out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), ImageIds: ids("t01", "@"+digests[1], "@"+digests[0])}))
		if len(out.ImageDetails) != 2 {
			t.Fatalf("%d details", len(out.ImageDetails))
		}
		_, err := e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), ImageIds: ids("t01", "absent")})
		wantError(t, err, "ImageNotFoundException", 400)
		_, err = e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), ImageIds: ids("t01"), NextToken: aws.String("x")})
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("list pages", func(t *testing.T) {
		var got []string
		p := ecr.NewListImagesPaginator(e.ecr, &ecr.ListImagesInput{RepositoryName: aws.String("list"), MaxResults: aws.Int32(4)})
		for p.HasMorePages() {
			out := must[*ecr.ListImagesOutput](t)(p.NextPage(ctx))
			for _, id := range out.ImageIds {
				got = append(got, *id.ImageDigest+"#"+aws.ToString(id.ImageTag))
			}
		}
		// 8 tagged images, one with two tags, plus 4 untagged: 13 entries.
		if len(got) != 13 || !sort.StringsAreSorted(got) {
			t.Fatalf("%d entries: %v", len(got), got)
		}
		out := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("list"), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}}))
		if len(out.ImageIds) != 4 || out.ImageIds[0].ImageTag != nil {
			t.Fatalf("untagged %+v", out.ImageIds)
		}
		// A token from DescribeImages does not work on ListImages.
		d := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("list"), MaxResults: aws.Int32(1)}))
		_, err := e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("list"), NextToken: d.NextToken})
		wantError(t, err, "InvalidParameterException", 400)
	})
}

func TestBatchDeleteImage(t *testing.T) {
	e := start(t)
	e.createRepo("del")
	a := e.pushImage("del", "a", 1).docker()
	b := e.pushImage("del", "b", 1).docker()
	da, db := digestOf([]byte(a)), digestOf([]byte(b))
	must[*ecr.PutImageOutput](t)(e.putImage("del", a, "a1"))
	must[*ecr.PutImageOutput](t)(e.putImage("del", a, "a2"))
	must[*ecr.PutImageOutput](t)(e.putImage("del", b, "b1"))
	list := index("application/vnd.docker.distribution.manifest.list.v2+json", b)
	must[*ecr.PutImageOutput](t)(e.putImage("del", list, "multi"))

	del := func(pairs ...string) *ecr.BatchDeleteImageOutput {
		return must[*ecr.BatchDeleteImageOutput](t)(e.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("del"), ImageIds: ids(pairs...)}))
	}
	// By tag with another tag left: only the tag goes.
	out := del("a1")
	if len(out.ImageIds) != 1 || *out.ImageIds[0].ImageTag != "a1" || *out.ImageIds[0].ImageDigest != da {
		t.Fatalf("deleted %+v", out.ImageIds)
	}
	if tags := e.tagsOf("del", da); strings.Join(tags, ",") != "a2" {
		t.Fatalf("tags %v", tags)
	}
	// The last tag takes the image with it.
	del("a2")
	_, err := e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("del"), ImageIds: ids("@" + da)})
	wantError(t, err, "ImageNotFoundException", 400)
	// An image in a manifest list cannot be deleted by digest...
	out = del("@" + db)
	if len(out.ImageIds) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageReferencedByManifestList {
		t.Fatalf("%+v", out)
	}
	// ...but the list can, and then the image.
	del("@" + digestOf([]byte(list)))
	out = del("@" + db)
	if len(out.ImageIds) != 1 || *out.ImageIds[0].ImageTag != "b1" {
		t.Fatalf("%+v", out)
	}
	out = del("missing", "", db+"#x")
	if len(out.Failures) != 3 || out.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound || out.Failures[1].FailureCode != types.ImageFailureCodeMissingDigestAndTag {
		t.Fatalf("%+v", out.Failures)
	}
	_, err = e.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("nope"), ImageIds: ids("x")})
	wantError(t, err, "RepositoryNotFoundException", 400)
}

func TestImageStatusFilter(t *testing.T) {
	e := start(t)
	e.createRepo("status")
	must[*ecr.PutImageOutput](t)(e.putImage("status", e.pushImage("status", "s", 1).docker(), "v1"))
	for status, want := range map[types.ImageStatusFilter]int{types.ImageStatusFilterActive: 1, types.ImageStatusFilterAny: 1, types.ImageStatusFilterArchived: 0} {
		d := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("status"), Filter: &types.DescribeImagesFilter{ImageStatus: status}}))
		l := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("status"), Filter: &types.ListImagesFilter{ImageStatus: status}}))
		if len(d.ImageDetails) != want || len(l.ImageIds) != want {
			t.Errorf("%s: %d details, %d ids, want %d", status, len(d.ImageDetails), len(l.ImageIds), want)
		}
	}
	_, err := e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("status"), Filter: &types.ListImagesFilter{ImageStatus: "FROZEN"}})
	wantError(t, err, "InvalidParameterException", 400)
	_, err = e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("absent"), Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterArchived}})
	wantError(t, err, "RepositoryNotFoundException", 400)
}
