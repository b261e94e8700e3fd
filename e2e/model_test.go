package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestModelRefuses sends signed requests that break the ECR model (each
// an input berth once accepted): every one gets AWS's error, naming the
// member as the model spells it, and none is applied.
func TestModelRefuses(t *testing.T) {
	e := start(t)
	e.createRepo("model")
	c := e.srv.Credential
	const ipe, ser = "InvalidParameterException", "SerializationException"
	cases := []struct {
		name, op, body, typ, msg string
	}{
		{"empty acceptedMediaTypes", "BatchGetImage", `{"repositoryName":"model","imageIds":[{"imageTag":"x"}],"acceptedMediaTypes":[]}`, ipe,
			"Invalid parameter at 'acceptedMediaTypes' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"},
		{"empty imageIds", "DescribeImages", `{"repositoryName":"model","imageIds":[]}`, ipe,
			"Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"},
		{"101 imageIds", "BatchGetImage", `{"repositoryName":"model","imageIds":[` + strings.Repeat(`{"imageTag":"x"},`, 100) + `{"imageTag":"x"}]}`, ipe,
			"Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'"},
		{"empty repositoryNames", "DescribeRepositories", `{"repositoryNames":[]}`, ipe, "'repositoryNames' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"},
		{"empty exclusion filters", "CreateRepository", `{"repositoryName":"model-x","imageTagMutability":"IMMUTABLE_WITH_EXCLUSION","imageTagMutabilityExclusionFilters":[]}`, ipe,
			"'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"},
		{"empty exclusion filters on a template", "CreateRepositoryCreationTemplate", `{"prefix":"tmpl","appliedFor":["CREATE_ON_PUSH"],"imageTagMutabilityExclusionFilters":[]}`, ipe,
			"'imageTagMutabilityExclusionFilters' failed"},
		{"empty imageTagMutability", "CreateRepository", `{"repositoryName":"model-x","imageTagMutability":""}`, ipe,
			"Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'"},
		{"enum in another case", "PutImageTagMutability", `{"repositoryName":"model","imageTagMutability":"immutable"}`, ipe, "'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set"},
		{"empty tagStatus", "DescribeImages", `{"repositoryName":"model","filter":{"tagStatus":""}}`, ipe,
			"Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'"},
		{"empty imageStatus", "ListImages", `{"repositoryName":"model","filter":{"imageStatus":""}}`, ipe, "'filter.imageStatus' failed to satisfy constraint"},
		{"any artifactStatus", "ListImageReferrers", `{"repositoryName":"model","subjectId":{"imageDigest":"sha256:` + strings.Repeat("a", 64) + `"},"filter":{"artifactStatus":"WHATEVER"}}`, ipe,
			"'filter.artifactStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]'"},
		{"empty encryptionType", "CreateRepository", `{"repositoryName":"model-x","encryptionConfiguration":{"encryptionType":""}}`, ipe, "'encryptionConfiguration.encryptionType' failed"},
		{"empty registryId", "DescribeRepositories", `{"registryId":""}`, ipe,
			"Invalid parameter at 'registryId' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9]{12}'"},
		{"prefix past its limit", "CreateRepositoryCreationTemplate", `{"prefix":"` + strings.Repeat("a", 257) + `","appliedFor":["CREATE_ON_PUSH"]}`, ipe,
			"'prefix' failed to satisfy constraint: 'Member must have length less than or equal to 256'"},
		{"member name in another case", "CreateRepository", `{"RepositoryName":"model-x"}`, ipe,
			"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'"},
		{"a list item in error", "BatchDeleteImage", `{"repositoryName":"model","imageIds":[{"imageTag":"a"},{"imageTag":"` + strings.Repeat("t", 301) + `"}]}`, ipe,
			"'imageIds.2.member.imageTag' failed to satisfy constraint: 'Member must have length less than or equal to 300'"},
		{"maxResults 0", "DescribeRepositories", `{"maxResults":0}`, ipe, "'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'"},
		{"maxResults 1001", "ListImages", `{"repositoryName":"model","maxResults":1001}`, ipe, "'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'"},
		{"trailing data", "CreateRepository", `{"repositoryName":"model-x"} }`, ser, "after its JSON object"},
		{"two objects", "CreateRepository", `{"repositoryName":"model-x"}{}`, ser, "after its JSON object"},
		{"a number for a string", "CreateRepository", `{"repositoryName":5}`, ser, "Member 'repositoryName' must be a string"},
		{"a fraction for an integer", "DescribeRepositories", `{"maxResults":1.5}`, ser, "Member 'maxResults' must be an integer"},
		{"a list for a structure", "DescribeImages", `{"repositoryName":"model","filter":[]}`, ser, "Member 'filter' must be a structure"},
		{"not an object", "DescribeRepositories", `[{}]`, ser, "one JSON object"},
	}
	now := time.Now()
	for _, tc := range cases {
		resp, body := e.raw(e.signed(tc.op, tc.body, c.AccessKeyID, c.SecretAccessKey, now))
		var ae awsError
		json.Unmarshal(body, &ae)
		if resp.StatusCode != 400 || ae.Type != tc.typ || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: got %d %s %q, want 400 %s containing %q", tc.name, resp.StatusCode, ae.Type, ae.Message, tc.typ, tc.msg)
		}
	}
	// Nothing of them was applied.
	resp, body := e.raw(e.signed("DescribeRepositories", `{}`, c.AccessKeyID, c.SecretAccessKey, now))
	if resp.StatusCode != 200 || strings.Contains(string(body), "model-x") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = e.raw(e.signed("DescribeRepositoryCreationTemplates", `{}`, c.AccessKeyID, c.SecretAccessKey, now))
	if resp.StatusCode != 200 || strings.Contains(string(body), `"tmpl"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestModelAccepts: the boundary values the model allows, and members it
// does not name (which AWS ignores, whatever their case), are accepted.
func TestModelAccepts(t *testing.T) {
	e := start(t)
	c := e.srv.Credential
	now := time.Now()
	for _, tc := range []struct{ op, body string }{
		{"CreateRepository", `{"repositoryName":"` + strings.Repeat("a", 256) + `"}`},
		{"CreateRepository", `{"repositoryName":"ab","imageTagMutability":"IMMUTABLE","unknownMember":{"x":[1,2]}}`},
		{"DescribeRepositories", `{"repositoryNames":["ab"],"maxResults":null}`},
		{"DescribeRepositories", `{"maxResults":1000,"registryId":"` + testRegistryID + `"}`},
		{"ListImages", `{"repositoryName":"ab","maxResults":1,"filter":{"tagStatus":"ANY"}}`},
		// "RepositoryName" is not a member: ignored, so "ab" is described,
		// not "nope".
		{"DescribeRepositories", `{"repositoryNames":["ab"],"RepositoryNames":["nope"]}`},
	} {
		resp, body := e.raw(e.signed(tc.op, tc.body, c.AccessKeyID, c.SecretAccessKey, now))
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", tc.op, tc.body, resp.StatusCode, body)
		}
	}
}

// TestModelOperations: an X-Amz-Target the model lacks is an unknown
// operation; one the model has and berth does not serve says so.
func TestModelOperations(t *testing.T) {
	e := start(t)
	c := e.srv.Credential
	now := time.Now()
	e.wantRaw(e.signed("LaunchRockets", `{}`, c.AccessKeyID, c.SecretAccessKey, now), 400, "UnknownOperationException")
	ae := e.wantRaw(e.signed("GetRegistryScanningConfiguration", `{}`, c.AccessKeyID, c.SecretAccessKey, now), 400, "UnsupportedOperationException")
	if !strings.Contains(ae.Message, "GetRegistryScanningConfiguration") {
		t.Fatalf("message %q", ae.Message)
	}
}
