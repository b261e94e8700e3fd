package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestRepositories(t *testing.T) {
	e := start(t)
	t.Run("create with every setting", func(t *testing.T) {
		out := must[*ecr.CreateRepositoryOutput](t)(e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName:             aws.String("team/app"),
			Tags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
			ImageTagMutability:         types.ImageTagMutabilityImmutable,
			ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
			EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:123456789012:key/k")},
		}))
		r := out.Repository
		if *r.RepositoryArn != "arn:aws:ecr:us-east-1:123456789012:repository/team/app" || *r.RegistryId != testRegistryID ||
			*r.RepositoryName != "team/app" || !strings.HasSuffix(*r.RepositoryUri, "/team/app") || r.CreatedAt == nil ||
			r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush ||
			r.EncryptionConfiguration.EncryptionType != types.EncryptionTypeKms || *r.EncryptionConfiguration.KmsKey == "" {
			t.Fatalf("repository %+v", r)
		}
		tags := must[*ecr.ListTagsForResourceOutput](t)(e.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn}))
		if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "web" {
			t.Fatalf("tags %+v", tags.Tags)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		r := must[*ecr.CreateRepositoryOutput](t)(e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("plain")})).Repository
		if r.ImageTagMutability != types.ImageTagMutabilityMutable || r.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 || r.ImageScanningConfiguration.ScanOnPush {
			t.Fatalf("defaults %+v", r)
		}
	})
	t.Run("already exists", func(t *testing.T) {
		_, err := e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("plain")})
		api := wantError(t, err, "RepositoryAlreadyExistsException", 400)
		if api.ErrorMessage() != "The repository with name 'plain' already exists in the registry with id '123456789012'" {
			t.Errorf("message %q", api.ErrorMessage())
		}
	})
	t.Run("names", func(t *testing.T) {
		good := []string{"ab", "a1", "a.b", "a_b", "a__b", "a---b", "a/b/c", "1abc", strings.Repeat("a", 256)}
		for _, n := range good {
			if _, err := e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
				t.Errorf("%q: %v", n, err)
			}
		}
		bad := []string{"a", "", "Upper", "-lead", "trail-", "a//b", "a/", "/a", "a..b", "a___b", "has space", strings.Repeat("a", 257), "a:b"}
		for _, n := range bad {
			_, err := e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)})
			wantError(t, err, "InvalidParameterException", 400)
		}
	})
	t.Run("encryption validation", func(t *testing.T) {
		for _, enc := range []*types.EncryptionConfiguration{
			{EncryptionType: "ROT13"},
			{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("k")},
			{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String(strings.Repeat("k", 2049))},
		} {
			_, err := e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("enc"), EncryptionConfiguration: enc})
			wantError(t, err, "InvalidParameterException", 400)
		}
	})
	t.Run("describe by name", func(t *testing.T) {
		out := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"plain", "team/app"}}))
		if len(out.Repositories) != 2 || *out.Repositories[0].RepositoryName != "plain" {
			t.Fatalf("%+v", out.Repositories)
		}
		_, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"plain", "missing"}})
		wantError(t, err, "RepositoryNotFoundException", 400)
		_, err = e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"plain"}, MaxResults: aws.Int32(5)})
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("delete", func(t *testing.T) {
		e.createRepo("full")
		must[*ecr.PutImageOutput](t)(e.putImage("full", e.pushImage("full", "x", 1).docker(), "v1"))
		_, err := e.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full")})
		wantError(t, err, "RepositoryNotEmptyException", 400)
		out := must[*ecr.DeleteRepositoryOutput](t)(e.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full"), Force: true}))
		if *out.Repository.RepositoryName != "full" {
			t.Fatalf("%+v", out.Repository)
		}
		_, err = e.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full")})
		wantError(t, err, "RepositoryNotFoundException", 400)
		// The name is free again, and empty.
		e.createRepo("full")
		imgs := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("full")}))
		if len(imgs.ImageIds) != 0 {
			t.Fatalf("recreated repository has images %+v", imgs.ImageIds)
		}
		must[*ecr.DeleteRepositoryOutput](t)(e.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full")}))
	})
	t.Run("wrong registry id", func(t *testing.T) {
		_, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String("999999999999")})
		wantError(t, err, "InvalidParameterException", 400)
		_, err = e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String("12")})
		wantError(t, err, "InvalidParameterException", 400)
		must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(testRegistryID)}))
	})
}

func TestDescribeRepositoriesPagination(t *testing.T) {
	e := start(t)
	var want []string
	for i := 0; i < 25; i++ {
		n := fmt.Sprintf("repo-%02d", i)
		e.createRepo(n)
		want = append(want, n)
	}
	var got []string
	pages := 0
	p := ecr.NewDescribeRepositoriesPaginator(e.ecr, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		out := must[*ecr.DescribeRepositoriesOutput](t)(p.NextPage(ctx))
		pages++
		for _, r := range out.Repositories {
			got = append(got, *r.RepositoryName)
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages: %v", pages, got)
	}
	for _, tok := range []string{"garbage", "AAAA"} {
		_, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: aws.String(tok)})
		wantError(t, err, "InvalidParameterException", 400)
	}
	for _, n := range []int32{0, 1001, -1} {
		_, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(n)})
		wantError(t, err, "InvalidParameterException", 400)
	}
}

func TestResourceTags(t *testing.T) {
	e := start(t)
	e.createRepo("tagged")
	arn := aws.String("arn:aws:ecr:us-east-1:123456789012:repository/tagged")
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	must[*ecr.TagResourceOutput](t)(e.ecr.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("a", "1"), tag("b", "2")}}))
	must[*ecr.TagResourceOutput](t)(e.ecr.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("a", "3")}}))
	must[*ecr.UntagResourceOutput](t)(e.ecr.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"b", "absent"}}))
	out := must[*ecr.ListTagsForResourceOutput](t)(e.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: arn}))
	if len(out.Tags) != 1 || *out.Tags[0].Key != "a" || *out.Tags[0].Value != "3" {
		t.Fatalf("tags %+v", out.Tags)
	}
	var many []types.Tag
	for i := 0; i < 50; i++ {
		many = append(many, tag(fmt.Sprintf("k%d", i), "v"))
	}
	_, err := e.ecr.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: many})
	wantError(t, err, "TooManyTagsException", 400)
	_, err = e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("toomany"), Tags: append(many, tag("x", "y"))})
	wantError(t, err, "TooManyTagsException", 400)
	for _, bad := range []types.Tag{tag("", "v"), tag(strings.Repeat("k", 129), "v"), tag("k", strings.Repeat("v", 257)), tag("aws:reserved", "v")} {
		_, err = e.ecr.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{bad}})
		wantError(t, err, "InvalidTagParameterException", 400)
	}
	for _, a := range []string{"arn:aws:ecr:us-east-1:123456789012:repository/missing"} {
		_, err = e.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(a)})
		wantError(t, err, "RepositoryNotFoundException", 400)
	}
	for _, a := range []string{"arn:aws:ecr:eu-west-1:123456789012:repository/tagged", "arn:aws:s3:::bucket", "nonsense"} {
		_, err = e.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(a)})
		wantError(t, err, "InvalidParameterException", 400)
	}
}
