package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berth-registry/berth/models"
)

func loadECR(t testing.TB) *Model {
	m, err := Load(models.ECR)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadModels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   []byte
		ops    int
		prefix string
	}{{"ECR", models.ECR, 58, "AmazonEC2ContainerRegistry_V20150921"}, {"ECR Public", models.ECRPublic, 23, "SpencerFrontendService"}} {
		m, err := Load(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(m.Operations) != tc.ops || m.Metadata.TargetPrefix != tc.prefix {
			t.Fatalf("%s: %d operations, prefix %q", tc.name, len(m.Operations), m.Metadata.TargetPrefix)
		}
		for name, op := range m.Operations {
			if op.Input != nil && op.Input.Type != "structure" {
				t.Errorf("%s: %s input is a %s", tc.name, name, op.Input.Type)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	m := loadECR(t)
	in := func(op string) *Shape { return m.Operations[op].Input }
	for _, tc := range []struct {
		op, body string
		// want is "" for accepted, "ser: <text>" for a SerializationError,
		// else the violations, "path: constraint" joined by "; ".
		want string
	}{
		{"DescribeRepositories", ``, ""},
		{"DescribeRepositories", `  {}  `, ""},
		{"DescribeRepositories", `{"repositoryNames":null,"nextToken":null}`, ""},
		{"CreateRepository", `{}`, "repositoryName: Member must not be null"},
		{"CreateRepository", `{"repositoryName":null}`, "repositoryName: Member must not be null"},
		{"CreateRepository", `{"repositoryName":"a"}`, "repositoryName: Member must have length greater than or equal to 2"},
		{"CreateRepository", `{"repositoryName":"Ab"}`, "repositoryName: Member must satisfy regular expression pattern: [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*"},
		// Patterns match the whole value, not a part of it.
		{"CreateRepository", `{"repositoryName":"ab/"}`, "repositoryName: Member must satisfy regular expression pattern: [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*"},
		// Every violation is listed, in order.
		{"BatchGetImage", `{"imageIds":[{"imageTag":""},{}],"acceptedMediaTypes":[]}`,
			"imageIds.1.member.imageTag: Member must have length greater than or equal to 1; acceptedMediaTypes: Member must have length greater than or equal to 1; repositoryName: Member must not be null"},
		{"BatchGetImage", `{"repositoryName":"ab","imageIds":[null]}`, "imageIds.1.member: Member must not be null"},
		{"TagResource", `{"resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/ab","tags":[{"Key":"k","Value":"v"}]}`, ""},
		{"TagResource", `{"resourceArn":"x","tags":[{"key":"k"}]}`, "tags.1.member.Key: Member must not be null; tags.1.member.Value: Member must not be null"},
		// Lengths count UTF-16 units, as AWS does: one emoji is two.
		{"CreateRepositoryCreationTemplate", `{"prefix":"ROOT","appliedFor":["CREATE_ON_PUSH"],"description":"` + strings.Repeat("😀", 129) + `"}`,
			"description: Member must have length less than or equal to 256"},
		{"UploadLayerPart", `{"repositoryName":"ab","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":0,"partLastByte":0,"layerPartBlob":"eA=="}`, ""},
		{"UploadLayerPart", `{"repositoryName":"ab","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":-1,"partLastByte":0,"layerPartBlob":"eA=="}`,
			"partFirstByte: Member must have value greater than or equal to 0"},
		{"UploadLayerPart", `{"repositoryName":"ab","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":0,"partLastByte":0,"layerPartBlob":"eA="}`, "ser: Member 'layerPartBlob' must be base64-encoded"},
		{"DescribeRepositories", `{"maxResults":2147483648}`, "ser: Member 'maxResults' must be an integer, got 2147483648"},
		{"DescribeRepositories", `{"maxResults":true}`, "ser: Member 'maxResults' must be an integer"},
		{"DescribeRepositories", `{"repositoryNames":"ab"}`, "ser: Member 'repositoryNames' must be a list (JSON array)"},
		{"DescribeRepositories", `{"repositoryNames":["ab"]}x`, "ser: The request body has data after its JSON object"},
		{"DescribeRepositories", `{"repositoryNames":["ab"]`, "ser: The request body is not valid JSON"},
		{"DescribeRepositories", `"x"`, "ser: The request body must be one JSON object"},
	} {
		_, err := Check(in(tc.op), []byte(tc.body))
		got := ""
		var se *SerializationError
		switch {
		case errors.As(err, &se):
			got = "ser: " + se.Message
		case err != nil:
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.op, tc.body, got, tc.want)
		}
	}
}

// TestCheckDropsUnknownMembers: members the model does not name are left
// out of the body handed on, so a decoder that matches names loosely (Go's)
// cannot take "RepositoryName" for "repositoryName".
func TestCheckDropsUnknownMembers(t *testing.T) {
	m := loadECR(t)
	body := []byte(`{"repositoryName":"ab","RepositoryName":"zz","filter":{"tagStatus":"ANY","TagStatus":"x"},"extra":[1]}`)
	out, err := Check(m.Operations["ListImages"].Input, body)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); strings.Contains(s, "zz") || strings.Contains(s, "TagStatus") || strings.Contains(s, "extra") || !strings.Contains(s, `"tagStatus":"ANY"`) {
		t.Fatalf("%s", out)
	}
	clean := []byte(`{"repositoryName":"ab"}`)
	if out, _ := Check(m.Operations["ListImages"].Input, clean); &out[0] != &clean[0] {
		t.Fatal("a body with only known members was copied")
	}
}

// FuzzCheck: whatever the body, Check returns the body to decode or one of
// its two error types, and never panics.
func FuzzCheck(f *testing.F) {
	m := loadECR(f)
	ops := m.OperationNames()
	for _, b := range []string{`{}`, `{"repositoryName":"ab","imageIds":[{"imageTag":"x"}]}`, `{"tags":[{"Key":"k"}],"maxResults":5}`, `[`, `{"a":{"b":[null]}}`} {
		f.Add(uint8(0), b)
		f.Add(uint8(30), b)
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		out, err := Check(m.Operations[ops[int(op)%len(ops)]].Input, []byte(body))
		var se *SerializationError
		var ve *ValidationError
		switch {
		case err == nil && out == nil:
			t.Fatal("no body and no error")
		case err != nil && !errors.As(err, &se) && !errors.As(err, &ve):
			t.Fatalf("error of another type: %v", err)
		case ve != nil && len(ve.Violations) == 0:
			t.Fatal("a validation error without violations")
		case se == errSyntax && json.Valid([]byte(body)):
			t.Fatalf("valid JSON called invalid: %q", body)
		}
	})
}

// BenchmarkCheckPutImage is the cost the model check adds to a PutImage of
// a typical image manifest (a config and five layers).
func BenchmarkCheckPutImage(b *testing.B) {
	in := loadECR(b).Operations["PutImage"].Input
	layer := `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":123456}`
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":` + layer + `,"layers":[` + strings.Repeat(layer+",", 4) + layer + `]}`
	quoted, _ := json.Marshal(manifest)
	body := []byte(`{"repositoryName":"bench/app","imageTag":"v1.2.3","imageManifest":` + string(quoted) + `}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Check(in, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckUploadLayerPart is the cost the model check adds to the
// largest request, a 20 MiB layer part (27 MiB of base64).
func BenchmarkCheckUploadLayerPart(b *testing.B) {
	in := loadECR(b).Operations["UploadLayerPart"].Input
	blob := strings.Repeat("QUJD", 20<<20/3)
	body := []byte(`{"repositoryName":"bench/app","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":0,"partLastByte":1,"layerPartBlob":"` + blob + `"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Check(in, body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRawLength(t *testing.T) {
	for _, v := range []string{"", "abc", `a"b\c`, "é😀\u2028/\t", strings.Repeat("x", 5000)} {
		raw, _ := json.Marshal(v)
		inner := raw[1 : len(raw)-1]
		if got, want := rawLength(inner, bytes.IndexByte(inner, '\\') >= 0), textLength(v); got != want {
			t.Errorf("%q: %d, want %d", v, got, want)
		}
	}
	// An escaped surrogate pair is two units, as the character is.
	if n := rawLength([]byte(`\ud83d\ude00`), true); n != 2 {
		t.Errorf("escaped pair: %d", n)
	}
}
