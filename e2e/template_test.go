package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestCreationTemplates(t *testing.T) {
	e := start(t)
	create := func(prefix string, m types.ImageTagMutability, tags ...types.Tag) {
		t.Helper()
		out := must[*ecr.CreateRepositoryCreationTemplateOutput](t)(e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
			Prefix: aws.String(prefix), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
			ImageTagMutability: m, ResourceTags: tags, Description: aws.String("for " + prefix),
		}))
		if *out.RepositoryCreationTemplate.Prefix != prefix || *out.RegistryId != testRegistryID {
			t.Fatalf("%+v", out.RepositoryCreationTemplate)
		}
	}
	create("ROOT", types.ImageTagMutabilityMutable)
	create("prod", types.ImageTagMutabilityImmutable, types.Tag{Key: aws.String("env"), Value: aws.String("prod")})
	create("prod/db", types.ImageTagMutabilityImmutable)
	_, err0 := e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("nofilters"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion})
	wantError(t, err0, "InvalidParameterException", 400)
	_, err := e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("prod"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}})
	wantError(t, err, "TemplateAlreadyExistsException", 400)
	for _, bad := range []string{"Prod", "-x", "a//b"} {
		_, err = e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(bad), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}})
		wantError(t, err, "InvalidParameterException", 400)
	}
	byPrefix := must[*ecr.DescribeRepositoryCreationTemplatesOutput](t)(e.ecr.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"prod/db", "absent"}}))
	if len(byPrefix.RepositoryCreationTemplates) != 1 || byPrefix.RepositoryCreationTemplates[0].ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Fatalf("%+v", byPrefix.RepositoryCreationTemplates)
	}

	push := func(repo string) {
		t.Helper()
		img, _ := random.Image(64, 1)
		ref := must[name.Reference](t)(name.ParseReference(e.ref(repo+":v1"), name.Insecure))
		if err := remote.Write(ref, img, e.remoteOpts()...); err != nil {
			t.Fatalf("push %s: %v", repo, err)
		}
	}
	push("prod/web")
	push("dev/tool")
	repos := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"prod/web", "dev/tool"}})).Repositories
	if repos[0].ImageTagMutability != types.ImageTagMutabilityImmutable || repos[1].ImageTagMutability != types.ImageTagMutabilityMutable {
		t.Fatalf("prod/web %s, dev/tool %s", repos[0].ImageTagMutability, repos[1].ImageTagMutability)
	}
	tags := must[*ecr.ListTagsForResourceOutput](t)(e.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repos[0].RepositoryArn}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Value != "prod" {
		t.Fatalf("resource tags from the template: %+v", tags.Tags)
	}
	// The ECR layer-upload path creates on push too.
	must[*ecr.InitiateLayerUploadOutput](t)(e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("api/made")}))

	out := must[*ecr.UpdateRepositoryCreationTemplateOutput](t)(e.ecr.UpdateRepositoryCreationTemplate(ctx, &ecr.UpdateRepositoryCreationTemplateInput{
		Prefix: aws.String("prod"), Description: aws.String("changed")}))
	if *out.RepositoryCreationTemplate.Description != "changed" || out.RepositoryCreationTemplate.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Fatalf("update: %+v", out.RepositoryCreationTemplate)
	}
	list := must[*ecr.DescribeRepositoryCreationTemplatesOutput](t)(e.ecr.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{}))
	if len(list.RepositoryCreationTemplates) != 3 {
		t.Fatalf("%d templates", len(list.RepositoryCreationTemplates))
	}
	must[*ecr.DeleteRepositoryCreationTemplateOutput](t)(e.ecr.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("ROOT")}))
	_, err = e.ecr.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("ROOT")})
	wantError(t, err, "TemplateNotFoundException", 400)
	_, err = e.ecr.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("dev/other")})
	wantError(t, err, "RepositoryNotFoundException", 400)
}

func TestListImageReferrers(t *testing.T) {
	e := start(t)
	e.createRepo("refs")
	img := e.pushImage("refs", "subject", 1)
	subject := img.oci(nil)
	must[*ecr.PutImageOutput](t)(e.putImage("refs", subject, "v1"))
	sd := digestOf([]byte(subject))
	empty := e.pushBlob("refs", []byte("{}"))
	for i, at := range []string{"application/vnd.example.sbom", "application/vnd.example.sig", "application/vnd.example.sbom"} {
		m := mustJSON(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": at,
			"config": descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: empty, Size: 2}, "layers": []descriptor{},
			"subject":     descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: sd, Size: len(subject)},
			"annotations": map[string]string{"n": string(rune('a' + i))}})
		must[*ecr.PutImageOutput](t)(e.putImage("refs", m, ""))
	}
	all := must[*ecr.ListImageReferrersOutput](t)(e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("refs"), SubjectId: &types.SubjectIdentifier{ImageDigest: &sd}}))
	if len(all.Referrers) != 3 || all.Referrers[0].Annotations["n"] == "" {
		t.Fatalf("%+v", all.Referrers)
	}
	var got []string
	var token *string
	for {
		out := must[*ecr.ListImageReferrersOutput](t)(e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("refs"), SubjectId: &types.SubjectIdentifier{ImageDigest: &sd},
			MaxResults: aws.Int32(1), NextToken: token, Filter: &types.ListImageReferrersFilter{ArtifactTypes: []string{"application/vnd.example.sbom"}}}))
		for _, r := range out.Referrers {
			got = append(got, *r.Digest)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(got) != 2 {
		t.Fatalf("filtered pages: %v", got)
	}
	_, err := e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("refs"), SubjectId: &types.SubjectIdentifier{ImageDigest: &sd}, MaxResults: aws.Int32(51)})
	wantError(t, err, "InvalidParameterException", 400)
	_, err = e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("absent"), SubjectId: &types.SubjectIdentifier{ImageDigest: &sd}})
	wantError(t, err, "RepositoryNotFoundException", 400)
}
