package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParamErrorsMatchAWSCLI runs command lines the AWS CLI refuses
// before any call (botocore's validation, its ParamError, a Python
// exception) and wants its stderr byte for byte, no request sent, and v2's
// exit code: 252 for a parameter error, 255 for anything else. The
// answers are AWS CLI 1.45's, which exits 255 for all of them.
func TestParamErrorsMatchAWSCLI(t *testing.T) {
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sent = append(sent, string(b))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	fakeAWSEnv(t, "us-east-1")
	bin := filepath.Join(t.TempDir(), "val-bytes.bin")
	os.WriteFile(bin, []byte("a'b\x00\xff"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ecr", "describe-repositories", "--repository-names", "a", "b", "", "abc"}, "\nParameter validation failed:\nInvalid length for parameter repositoryNames[0], value: 1, valid min length: 2\nInvalid length for parameter repositoryNames[1], value: 1, valid min length: 2\nInvalid length for parameter repositoryNames[2], value: 0, valid min length: 2\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--max-results", "0", "--no-paginate"}, "\nParameter validation failed:\nInvalid value for parameter maxResults, value: 0, valid min value: 1\n"},
		{[]string{"ecr", "describe-images", "--cli-input-json", "{\"maxResults\": 0}"}, "\nParameter validation failed:\nMissing required parameter in input: \"repositoryName\"\nInvalid value for parameter maxResults, value: 0, valid min value: 1\n"},
		{[]string{"ecr", "describe-images", "--cli-input-json", "{\"maxResults\": true, \"repositoryName\": 5, \"x\": {\"a\": [1]}}"}, "\nParameter validation failed:\nUnknown parameter in input: \"x\", must be one of: registryId, repositoryName, imageIds, nextToken, maxResults, filter\nInvalid type for parameter repositoryName, value: 5, type: <class 'int'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "describe-images", "--cli-input-json", "{\"maxResults\": false, \"repositoryName\": null, \"imageIds\": {\"a\": 1}}"}, "\nParameter validation failed:\nInvalid value for parameter maxResults, value: False, valid min value: 1\nInvalid type for parameter repositoryName, value: None, type: <class 'NoneType'>, valid types: <class 'str'>\nInvalid type for parameter imageIds, value: {'a': 1}, type: <class 'dict'>, valid types: <class 'list'>, <class 'tuple'>\n"},
		{[]string{"ecr", "describe-images", "--cli-input-json", "{\"repositoryName\": \"ab\", \"maxResults\": 1.5, \"filter\": \"x\", \"imageIds\": [{\"imageTag\": 1, \"imageDigest\": [true, null, 2.50, \"s\\u00e9\"]}]}"}, "\nParameter validation failed:\nInvalid type for parameter maxResults, value: 1.5, type: <class 'float'>, valid types: <class 'int'>\nInvalid type for parameter filter, value: x, type: <class 'str'>, valid types: <class 'dict'>\nInvalid type for parameter imageIds[0].imageTag, value: 1, type: <class 'int'>, valid types: <class 'str'>\nInvalid type for parameter imageIds[0].imageDigest, value: [True, None, 2.5, 'sé'], type: <class 'list'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--image-ids", "[{\"imageTag\": {\"a\": 1, \"b\": [2]}}]"}, "\nParameter validation failed:\nInvalid type for parameter imageIds[0].imageTag, value: OrderedDict([('a', 1), ('b', [2])]), type: <class 'collections.OrderedDict'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--image-ids", "{\"imageTag\": {}}"}, "\nParameter validation failed:\nInvalid type for parameter imageIds[0].imageTag, value: OrderedDict(), type: <class 'collections.OrderedDict'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--filter", "{\"tagStatus\": \"X\", \"bogus\": \"it's\"}"}, "\nParameter validation failed:\nUnknown parameter in filter: \"bogus\", must be one of: tagStatus, imageStatus\n"},
		{[]string{"ecr", "upload-layer-part", "--repository-name", "ab", "--upload-id", "u", "--part-first-byte", "-1", "--part-last-byte", "0", "--layer-part-blob", "x"}, "\nParameter validation failed:\nInvalid value for parameter partFirstByte, value: -1, valid min value: 0\n"},
		{[]string{"ecr", "upload-layer-part", "--cli-input-json", "{\"repositoryName\": \"ab\", \"uploadId\": \"u\", \"partFirstByte\": 0, \"partLastByte\": 0, \"layerPartBlob\": 5}"}, "\nParameter validation failed:\nInvalid type for parameter layerPartBlob, value: 5, type: <class 'int'>, valid types: <class 'bytes'>, <class 'bytearray'>, file-like object\n"},
		{[]string{"ecr", "put-image", "--cli-input-json", "{\"imageManifest\": \"\"}"}, "\nParameter validation failed:\nMissing required parameter in input: \"repositoryName\"\nInvalid length for parameter imageManifest, value: 0, valid min length: 1\n"},
		{[]string{"ecr", "put-image", "--cli-input-json", "[1]"}, "\n'list' object has no attribute 'keys'\n"},
		{[]string{"ecr", "put-image", "--repository-name", "ab", "--image-manifest", "fileb:///tmp/val-bytes.bin"}, "\nParameter validation failed:\nInvalid type for parameter imageManifest, value: b\"a'b\\x00\\xff\", type: <class 'bytes'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "describe-repositories", "--max-results", "2", "--max-items", "0"}, "warning: Non-positive values for --max-items may result in undefined behavior.\n\nParameter validation failed:\nUnknown parameter in input: \"PaginationConfig\", must be one of: registryId, repositoryNames, nextToken, maxResults\n"},
		{[]string{"ecr", "describe-repositories", "--page-size", "0"}, "\nParameter validation failed:\nInvalid value for parameter maxResults, value: 0, valid min value: 1\n"},
		{[]string{"ecr", "describe-repositories", "--repository-names", "a", "--max-results", "0", "--max-items", "0"}, "warning: Non-positive values for --max-items may result in undefined behavior.\n\nParameter validation failed:\nUnknown parameter in input: \"PaginationConfig\", must be one of: registryId, repositoryNames, nextToken, maxResults\nInvalid length for parameter repositoryNames[0], value: 1, valid min length: 2\nInvalid value for parameter maxResults, value: 0, valid min value: 1\n"},
		{[]string{"ecr-public", "create-repository", "--repository-name", "a", "--catalog-data", "{\"architectures\": [\"x\", \"\"], \"logoImageBlob\": []}"}, "\nParameter validation failed:\nInvalid length for parameter repositoryName, value: 1, valid min length: 2\nInvalid length for parameter catalogData.architectures[1], value: 0, valid min length: 1\nInvalid type for parameter catalogData.logoImageBlob, value: [], type: <class 'list'>, valid types: <class 'bytes'>, <class 'bytearray'>, file-like object\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--max-results", "x1"}, "\ninvalid literal for int() with base 10: 'x1'\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--filter", "{nope"}, "\nError parsing parameter '--filter': Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\nJSON received: {nope\n"},
		{[]string{"ecr", "put-image", "--repository-name", "ab", "--image-manifest", "file:///nonexistent/m.json"}, "\nError parsing parameter '--image-manifest': Unable to load paramfile file:///nonexistent/m.json: [Errno 2] No such file or directory: '/nonexistent/m.json'\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--cli-input-json", "file:///nonexistent/in.json"}, "\nError parsing parameter '--cli-input-json': Unable to load paramfile file:///nonexistent/in.json: [Errno 2] No such file or directory: '/nonexistent/in.json'\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--filter", "[1]"}, "\nError parsing parameter '--filter': Invalid JSON:\n[1]\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "ab", "--image-ids", "{\"imageTag\":\"a\"}", ""}, "\nstring index out of range\n"},
	} {
		for i, a := range tc.args {
			tc.args[i] = strings.ReplaceAll(a, "/tmp/val-bytes.bin", bin)
		}
		sent = nil
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr}
		code := m.Run(context.Background(), tc.args[0], append(tc.args[1:], "--endpoint-url", srv.URL))
		wantCode := ExitOther
		if strings.Contains(tc.want, "\nParameter validation failed:\n") || strings.HasPrefix(tc.want, "\nError parsing parameter") {
			wantCode = ExitUsage
		}
		if code != wantCode || stderr.String() != tc.want || stdout.Len() != 0 || len(sent) != 0 {
			t.Errorf("%v: exit %d, stdout %q, %d requests, stderr\n%s\nwant exit %d, stderr\n%s", tc.args, code, stdout.String(), len(sent), stderr.String(), wantCode, tc.want)
		}
	}
	// A flag wins over --cli-input-json's member, whatever its value.
	sent = nil
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	if code := m.Run(context.Background(), "ecr", []string{"describe-images", "--repository-name", "ab", "--cli-input-json", `{"repositoryName": "a", "registryId": ""}`, "--endpoint-url", srv.URL}); code != 0 ||
		len(sent) != 1 || sent[0] != `{"repositoryName": "ab", "registryId": ""}` {
		t.Errorf("a flag over --cli-input-json: exit %d, %s, sent %q", code, stderr.String(), sent)
	}
}
