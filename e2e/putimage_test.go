package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestPutImageMatrix walks every row of the PutImage behaviour matrix
// (ecr-api.md §3.3, AWS column) through the real aws-sdk-go-v2 client.
func TestPutImageMatrix(t *testing.T) {
	e := start(t)
	e.createRepo("app")
	img := e.pushImage("app", "one", 2)
	m1 := img.docker()
	d1 := digestOf([]byte(m1))

	t.Run("output shape", func(t *testing.T) {
		out := must[*ecr.PutImageOutput](t)(e.putImage("app", m1, "v1"))
		i := out.Image
		if *i.ImageId.ImageDigest != d1 || *i.ImageId.ImageTag != "v1" || *i.ImageManifest != m1 ||
			*i.ImageManifestMediaType != "application/vnd.docker.distribution.manifest.v2+json" ||
			*i.RegistryId != testRegistryID || *i.RepositoryName != "app" {
			t.Fatalf("unexpected output %+v", i)
		}
	})
	t.Run("same manifest same tag", func(t *testing.T) {
		_, err := e.putImage("app", m1, "v1")
		api := wantError(t, err, "ImageAlreadyExistsException", 400)
		want := "Image with digest '" + d1 + "' and tag 'v1' already exists in the repository with name 'app' in registry with id '" + testRegistryID + "'"
		if api.ErrorMessage() != want {
			t.Errorf("message %q, want %q", api.ErrorMessage(), want)
		}
	})
	t.Run("same manifest new tag adds the tag", func(t *testing.T) {
		must[*ecr.PutImageOutput](t)(e.putImage("app", m1, "latest"))
		if got := e.tagsOf("app", d1); strings.Join(got, ",") != "latest,v1" {
			t.Fatalf("tags %v", got)
		}
	})
	t.Run("new manifest moves a mutable tag and leaves the old image untagged", func(t *testing.T) {
		m2 := e.pushImage("app", "two", 1).docker()
		must[*ecr.PutImageOutput](t)(e.putImage("app", m2, "v1"))
		must[*ecr.PutImageOutput](t)(e.putImage("app", m2, "latest"))
		if got := e.tagsOf("app", d1); len(got) != 0 {
			t.Fatalf("old image still tagged %v", got)
		}
		out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"),
			Filter: &types.DescribeImagesFilter{TagStatus: types.TagStatusUntagged}}))
		if len(out.ImageDetails) != 1 || *out.ImageDetails[0].ImageDigest != d1 || out.ImageDetails[0].ImageTags != nil {
			t.Fatalf("untagged images %+v", out.ImageDetails)
		}
	})
	t.Run("push by digest without a tag", func(t *testing.T) {
		m3 := e.pushImage("app", "three", 1).docker()
		out := must[*ecr.PutImageOutput](t)(e.putImage("app", m3, ""))
		if out.Image.ImageId.ImageTag != nil || *out.Image.ImageId.ImageDigest != digestOf([]byte(m3)) {
			t.Fatalf("imageId %+v", out.Image.ImageId)
		}
		_, err := e.putImage("app", m3, "")
		wantError(t, err, "ImageAlreadyExistsException", 400)
	})
	t.Run("digest given and right", func(t *testing.T) {
		m := e.pushImage("app", "four", 1).docker()
		d := digestOf([]byte(m))
		must[*ecr.PutImageOutput](t)(e.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: &m, ImageDigest: &d, ImageTag: aws.String("four")}))
	})
	t.Run("digest given and wrong", func(t *testing.T) {
		m := e.pushImage("app", "five", 1).docker()
		_, err := e.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: &m, ImageDigest: aws.String(d1)})
		wantError(t, err, "ImageDigestDoesNotMatchException", 400)
	})
	t.Run("digest differs by a trailing CR", func(t *testing.T) {
		out := must[*ecr.PutImageOutput](t)(e.putImage("app", m1+"\r", "cr"))
		if *out.Image.ImageId.ImageDigest == d1 {
			t.Fatal("a manifest with a trailing CR must be a new image")
		}
	})
	t.Run("no media type anywhere", func(t *testing.T) {
		m := `{"schemaVersion":2,"config":` + mustJSON(img.config) + `,"layers":[]}`
		_, err := e.putImage("app", m, "nomt")
		api := wantError(t, err, "InvalidParameterException", 400)
		if api.ErrorMessage() != "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'" {
			t.Errorf("message %q", api.ErrorMessage())
		}
		// imageManifestMediaType fixes it.
		must[*ecr.PutImageOutput](t)(e.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: &m,
			ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"), ImageTag: aws.String("nomt")}))
	})
	t.Run("media type parameter contradicts the manifest", func(t *testing.T) {
		_, err := e.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: &m1,
			ImageManifestMediaType: aws.String("application/vnd.oci.image.manifest.v1+json"), ImageTag: aws.String("x")})
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("invalid JSON", func(t *testing.T) {
		for _, m := range []string{"{", "not json", `{"schemaVersion":2}{}`, `[]`} {
			_, err := e.putImage("app", m, "bad")
			wantError(t, err, "InvalidParameterException", 400)
		}
	})
	t.Run("repository does not exist", func(t *testing.T) {
		_, err := e.putImage("nope", m1, "v1")
		api := wantError(t, err, "RepositoryNotFoundException", 400)
		if !strings.Contains(api.ErrorMessage(), "'nope'") {
			t.Errorf("message %q", api.ErrorMessage())
		}
	})
	t.Run("layers not uploaded", func(t *testing.T) {
		bad := img
		bad.layers = append([]descriptor{{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: digestOf([]byte("never uploaded")), Size: 14}}, img.layers...)
		_, err := e.putImage("app", bad.docker(), "missing")
		api := wantError(t, err, "LayersNotFoundException", 400)
		if !strings.Contains(api.ErrorMessage(), digestOf([]byte("never uploaded"))) {
			t.Errorf("message does not name the missing layer: %q", api.ErrorMessage())
		}
		bad = img
		bad.config.Digest = digestOf([]byte("no config"))
		_, err = e.putImage("app", bad.docker(), "missing")
		wantError(t, err, "LayersNotFoundException", 400)
	})
	t.Run("foreign layers need no upload", func(t *testing.T) {
		f := img
		f.layers = append(f.layers, descriptor{MediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Digest: digestOf([]byte("windows base")), Size: 1 << 30})
		m := f.docker()
		must[*ecr.PutImageOutput](t)(e.putImage("app", m, "windows"))
		out := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("windows")}}}))
		if got, want := *out.ImageDetails[0].ImageSizeInBytes, int64(img.config.Size+img.layers[0].Size+img.layers[1].Size); got != want {
			t.Errorf("imageSizeInBytes %d, want %d (foreign layers excluded)", got, want)
		}
	})
	t.Run("manifest list whose children are missing", func(t *testing.T) {
		child := e.pushImage("app", "child", 1).docker()
		list := index("application/vnd.docker.distribution.manifest.list.v2+json", child)
		_, err := e.putImage("app", list, "multi")
		wantError(t, err, "ReferencedImagesNotFoundException", 400)
		must[*ecr.PutImageOutput](t)(e.putImage("app", child, ""))
		must[*ecr.PutImageOutput](t)(e.putImage("app", list, "multi"))
	})
	t.Run("manifest over 4 MiB", func(t *testing.T) {
		big := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":"` + strings.Repeat("a", 4<<20) + `"}}`
		_, err := e.putImage("app", big, "big")
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("artifactType with parameters", func(t *testing.T) {
		m := img.oci(map[string]any{"artifactType": "application/vnd.example+json; version=0.2"})
		_, err := e.putImage("app", m, "art")
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("invalid tag and name", func(t *testing.T) {
		for _, tag := range []string{strings.Repeat("t", 301), "-lead", "has space", "a/b"} {
			_, err := e.putImage("app", m1, tag)
			wantError(t, err, "InvalidParameterException", 400)
		}
		_, err := e.putImage("Bad_Name", m1, "v1")
		wantError(t, err, "InvalidParameterException", 400)
	})
	t.Run("300-character tag is allowed", func(t *testing.T) {
		must[*ecr.PutImageOutput](t)(e.putImage("app", m1, strings.Repeat("t", 300)))
	})
}

func TestPutImageMediaTypes(t *testing.T) {
	e := start(t)
	e.createRepo("types")
	img := e.pushImage("types", "mt", 1)
	oci := img.oci(nil)
	subject := descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: digestOf([]byte(oci)), Size: len(oci)}
	empty := []byte("{}")
	emptyDigest := e.pushBlob("types", empty)
	artifact := mustJSON(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/vnd.example.sbom.v1+json",
		"config":       descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: emptyDigest, Size: 2},
		"layers":       []descriptor{img.layers[0]},
		"subject":      subject,
	})
	helm := mustJSON(map[string]any{
		"schemaVersion": 2,
		"config":        descriptor{MediaType: "application/vnd.cncf.helm.config.v1+json", Digest: img.config.Digest, Size: img.config.Size},
		"layers":        []descriptor{{MediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", Digest: img.layers[0].Digest, Size: img.layers[0].Size}},
	})
	schema1 := mustJSON(map[string]any{"schemaVersion": 1, "name": "types", "tag": "s1", "architecture": "amd64",
		"fsLayers": []map[string]string{{"blobSum": img.layers[0].Digest}}, "history": []map[string]string{{"v1Compatibility": "{}"}}})
	cases := []struct {
		name, manifest, mediaType, wantMediaType, wantArtifact string
	}{
		{"docker schema 2", img.docker(), "", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json"},
		{"oci manifest", oci, "", "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json"},
		{"oci index", index("application/vnd.oci.image.index.v1+json", oci), "", "application/vnd.oci.image.index.v1+json", ""},
		{"oci artifact with subject", artifact, "", "application/vnd.oci.image.manifest.v1+json", "application/vnd.example.sbom.v1+json"},
		{"helm chart without mediaType", helm, "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.cncf.helm.config.v1+json"},
		{"docker schema 1", schema1, "", "application/vnd.docker.distribution.manifest.v1+json", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tag := "t" + string(rune('a'+i))
			in := &ecr.PutImageInput{RepositoryName: aws.String("types"), ImageManifest: aws.String(c.manifest), ImageTag: &tag}
			if c.mediaType != "" {
				in.ImageManifestMediaType = &c.mediaType
			}
			out := must[*ecr.PutImageOutput](t)(e.ecr.PutImage(ctx, in))
			if *out.Image.ImageManifestMediaType != c.wantMediaType {
				t.Errorf("media type %s, want %s", *out.Image.ImageManifestMediaType, c.wantMediaType)
			}
			d := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("types"),
				ImageIds: []types.ImageIdentifier{{ImageTag: &tag}}})).ImageDetails[0]
			if aws.ToString(d.ArtifactMediaType) != c.wantArtifact || *d.ImageManifestMediaType != c.wantMediaType {
				t.Errorf("artifactMediaType %q manifest type %q", aws.ToString(d.ArtifactMediaType), *d.ImageManifestMediaType)
			}
			if c.name == "oci artifact with subject" && aws.ToString(d.SubjectManifestDigest) != subject.Digest {
				t.Errorf("subjectManifestDigest %q, want %s", aws.ToString(d.SubjectManifestDigest), subject.Digest)
			}
		})
	}
}
