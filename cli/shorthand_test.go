package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/awsproto"
)

// TestShorthandParser reads shorthand as awscli's ShorthandParser does,
// dicts keeping their keys' order. The cases' answers are the AWS CLI's
// own (json.dumps of what awscli 1.45's parser returns, or its error),
// but for one thing: 1.45 prints "{self._error_location()}" where a
// syntax error's location goes, a string it forgot to format; these are
// the locations that method gives, as berth prints them.
func TestShorthandParser(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"a=b", "{\"a\": \"b\"}", ""},
		{"a=b,c=d", "{\"a\": \"b\", \"c\": \"d\"}", ""},
		{"a=b,c", "{\"a\": [\"b\", \"c\"]}", ""},
		{"a=b, c , d", "{\"a\": [\"b\", \"c\", \"d\"]}", ""},
		{"foo=a,b,c=d,e=f", "{\"foo\": [\"a\", \"b\"], \"c\": \"d\", \"e\": \"f\"}", ""},
		{"a=", "{\"a\": \"\"}", ""},
		{"a=b,", "", "Expected: '<second>', received: '<none>' for input:\na=b,\n    ^"},
		{"=b", "{\"\": \"b\"}", ""},
		{"a", "", "Expected: '=', received: 'EOF' for input:\na\n ^"},
		{" a=b", "", "Expected: '=', received: 'a' for input:\n a=b\n ^"},
		{"a = b", "{\"a\": \"b\"}", ""},
		{"a =b ,c= d", "{\"a\": \"b\", \"c\": \"d\"}", ""},
		{"a=b  ,  c=d", "{\"a\": \"b\", \"c\": \"d\"}", ""},
		{"a=[b,c]", "{\"a\": [\"b\", \"c\"]}", ""},
		{"a=[ b , c ]", "{\"a\": [\"b\", \"c\"]}", ""},
		{"a=[]", "{\"a\": []}", ""},
		{"a=[b,[c,d],{e=f}]", "{\"a\": [\"b\", [\"c\", \"d\"], {\"e\": \"f\"}]}", ""},
		{"a={b=c,d=[e,f]}", "{\"a\": {\"b\": \"c\", \"d\": [\"e\", \"f\"]}}", ""},
		{"a={}", "{\"a\": {}}", ""},
		{"a={b=c, d = e }", "{\"a\": {\"b\": \"c\", \"d\": \"e\"}}", ""},
		{"a={b=c,b=d}", "{\"a\": {\"b\": \"d\"}}", ""},
		{"a=b,a=c", "", "Second instance of key \"a\" encountered for input:\na=b,a=c\n    ^\nThis is often because there is a preceding \",\" instead of a space."},
		{"Key=team,Value=\"a,b\"", "{\"Key\": \"team\", \"Value\": \"a,b\"}", ""},
		{"Key=k,Value='x=y'", "{\"Key\": \"k\", \"Value\": \"x=y\"}", ""},
		{"k='it\\'s'", "{\"k\": \"it's\"}", ""},
		{"k=\"say \\\"hi\\\"\"", "{\"k\": \"say \\\"hi\\\"\"}", ""},
		{"k='a\\\\b'", "{\"k\": \"a\\\\b\"}", ""},
		{"k='abc\\'", "{\"k\": \"abc\\\\\"}", ""},
		{"k='ab\\'c", "", "Expected: ',', received: 'c' for input:\nk='ab\\'c\n       ^"},
		{"k='unterminated", "", "Expected: '<singled quoted>', received: '<none>' for input:\nk='unterminated\n  ^"},
		{"k=\"x", "", "Expected: '<double quoted>', received: '<none>' for input:\nk=\"x\n  ^"},
		{"k=a\\,b\\,c", "{\"k\": \"a,b,c\"}", ""},
		{"k=a\\,b,c", "{\"k\": [\"a,b\", \"c\"]}", ""},
		{"k=a b  ", "{\"k\": \"a b\"}", ""},
		{"k=  lead", "{\"k\": \"lead\"}", ""},
		{"k=x\ty", "{\"k\": \"x\\ty\"}", ""},
		{"k=a=b", "{\"k\": \"a=b\"}", ""},
		{"k=a,b=c,d", "{\"k\": \"a\", \"b\": [\"c\", \"d\"]}", ""},
		{"k=[a,b", "", "Expected: ',', received: 'EOF' for input:\nk=[a,b\n      ^"},
		{"k={a=b", "", "Expected: ',', received: 'EOF' for input:\nk={a=b\n      ^"},
		{"k={a=b c}", "{\"k\": {\"a\": \"b c\"}}", ""},
		{"k={a=[1,{b=c}],d=}", "", "Expected: ',', received: 'EOF' for input:\nk={a=[1,{b=c}],d=}\n                  ^"},
		{"k=[a,,b]", "{\"k\": [\"a\", \"\", \"b\"]}", ""},
		{"k=[,a]", "{\"k\": [\"\", \"a\"]}", ""},
		{"k=[a,]", "{\"k\": [\"a\"]}", ""},
		{"k={,}", "", "Expected: '=', received: ',' for input:\nk={,}\n   ^"},
		{"k=a]", "", "Expected: ',', received: ']' for input:\nk=a]\n   ^"},
		{"k=a}", "", "Expected: ',', received: '}' for input:\nk=a}\n   ^"},
		{"k=a[b]{c}", "", "Expected: ',', received: ']' for input:\nk=a[b]{c}\n     ^"},
		{"a-b.c#d/e:f=1", "{\"a-b.c#d/e:f\": \"1\"}", ""},
		{"a@b=1", "", "Expected: '=', received: 'b' for input:\na@b=1\n  ^"},
		{"a@=plain", "{\"a\": \"plain\"}", ""},
		{"a=1,\nb=2", "{\"a\": \"1\", \"b\": \"2\"}", ""},
		{"a=1,\nb==2", "", "Expected: ',', received: '=' for input:\na=1,\nb==2\n  ^"},
		{"a=b\n,c==d\n,e=f", "", "Expected: ',', received: '=' for input:\na=b\n,c==d\n   ^\n,e=f"},
		{"k=été,l=日本", "{\"k\": \"\\u00e9t\\u00e9\", \"l\": \"\\u65e5\\u672c\"}", ""},
		{"k=😀", "", "Expected: ',', received: '😀' for input:\nk=😀\n  ^"},
		{"k=a😀", "", "Expected: ',', received: '😀' for input:\nk=a😀\n   ^"},
		{"k='😀'", "{\"k\": \"\\ud83d\\ude00\"}", ""},
		{"k=\"\"", "{\"k\": \"\"}", ""},
		{"k=''", "{\"k\": \"\"}", ""},
		{"k=a\"b", "", "Expected: ',', received: '\"' for input:\nk=a\"b\n   ^"},
		{"k=a'b", "", "Expected: ',', received: ''' for input:\nk=a'b\n   ^"},
		{"k=[\"a,b\",'c]d']", "{\"k\": [\"a,b\", \"c]d\"]}", ""},
		{"k={x=\"1,2\",y='3}'}", "{\"k\": {\"x\": \"1,2\", \"y\": \"3}\"}}", ""},
		{"k=a,\"b,c\",d", "{\"k\": [\"a\", \"b,c\", \"d\"]}", ""},
		{"k=a,'b',c=d", "{\"k\": [\"a\", \"b\"], \"c\": \"d\"}", ""},
		{"a=b,,c=d", "{\"a\": \"b\", \"c\": \"d\"}", ""},
		{"a=b,c,", "", "Expected: '<second>', received: '<none>' for input:\na=b,c,\n      ^"},
		{"a=b,c=", "{\"a\": \"b\", \"c\": \"\"}", ""},
		{"k=!#$%&()*+-./;<>?@^_`|~", "{\"k\": \"!#$%&()*+-./;<>?@^_`|~\"}", ""},
		{"k=[a b, c d]", "{\"k\": [\"a b\", \"c d\"]}", ""},
		{"k=x ", "{\"k\": \"x\"}", ""},
		{"k= x", "{\"k\": \"\\u00a0x\"}", ""},
	} {
		got, err := parseShorthand(tc.in, func(string) string { return "" })
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error\n%v\nwant\n%s", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		default:
			var b strings.Builder
			pyDumps(&b, nil, got)
			if b.String() != tc.want {
				t.Errorf("%q: got %s, want %s", tc.in, b.String(), tc.want)
			}
		}
	}
}

// TestShorthandParamFiles: key@= loads a file:// (text) or fileb://
// (bytes) value, ~ and $VARs expanded; key= keeps it as text; a missing
// file is Python's OSError, which the AWS CLI does not catch here (exit
// 255).
func TestShorthandParamFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "v.txt"), []byte("from a file"), 0o600)
	os.WriteFile(filepath.Join(dir, "v.bin"), []byte{0, 'x'}, 0o600)
	env := func(k string) string {
		if k == "D" {
			return dir
		}
		return ""
	}
	got, err := parseShorthand("a@=file://$D/v.txt,b=file://"+dir+"/v.txt,c@=[fileb://$D/v.bin,plain],d@={e=file://"+dir+"/v.txt}", env)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	pyDumps(&b, nil, got)
	want := `{"a": "from a file", "b": "file://` + dir + `/v.txt", "c": ["\u0000x", "plain"], "d": {"e": "file://` + dir + `/v.txt"}}`
	if b.String() != want {
		t.Errorf("got %s\nwant %s", b.String(), want)
	}
	if v, _ := got.get("c"); pyTypeName(v.([]any)[0]) != "<class 'bytes'>" {
		t.Errorf("fileb:// gave %s", pyTypeName(v.([]any)[0]))
	}
	_, err = parseShorthand("a@=file:///nonexistent/x", env)
	if _, ok := err.(*paramFileError); !ok || err.Error() != "Unable to load paramfile file:///nonexistent/x: [Errno 2] No such file or directory: '/nonexistent/x'" {
		t.Errorf("a missing file: %T %v", err, err)
	}
}

// TestShorthandMatchesAWSCLI reads command lines of operations with
// nested inputs, served by berth or not, and wants the request body the
// AWS CLI sends for them byte for byte, or the error it prints (with
// v2's exit code). The answers are AWS CLI 1.45's, recorded by a server
// that keeps the bodies it is sent.
func TestShorthandMatchesAWSCLI(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ecr", "put-registry-scanning-configuration", "--scan-type", "ENHANCED", "--rules", "scanFrequency=SCAN_ON_PUSH,repositoryFilters=[{filter=prod*,filterType=WILDCARD},{filter=x,filterType=WILDCARD}]", "scanFrequency=CONTINUOUS_SCAN,repositoryFilters={filter=*,filterType=WILDCARD}"}, "{\"scanType\": \"ENHANCED\", \"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", \"repositoryFilters\": [{\"filter\": \"prod*\", \"filterType\": \"WILDCARD\"}, {\"filter\": \"x\", \"filterType\": \"WILDCARD\"}]}, {\"scanFrequency\": \"CONTINUOUS_SCAN\", \"repositoryFilters\": [{\"filter\": \"*\", \"filterType\": \"WILDCARD\"}]}]}"},
		{[]string{"ecr", "put-registry-scanning-configuration", "--rules", "scanFrequency=SCAN_ON_PUSH,repositoryFilters=[{filter=a}]"}, "\nParameter validation failed:\nMissing required parameter in rules[0].repositoryFilters[0]: \"filterType\"\n"},
		{[]string{"ecr", "put-replication-configuration", "--replication-configuration", "rules=[{destinations=[{region=us-west-2,registryId=\"1,2\"}],repositoryFilters=[{filter=ab,filterType=PREFIX_MATCH}]},{destinations=[]}]"}, "{\"replicationConfiguration\": {\"rules\": [{\"destinations\": [{\"region\": \"us-west-2\", \"registryId\": \"1,2\"}], \"repositoryFilters\": [{\"filter\": \"ab\", \"filterType\": \"PREFIX_MATCH\"}]}, {\"destinations\": []}]}}"},
		{[]string{"ecr", "put-replication-configuration", "--replication-configuration", "rules={destinations={region=us-west-2,registryId=123456789012}}"}, "\nParameter validation failed:\nInvalid type for parameter replicationConfiguration.rules[0].destinations, value: {'region': 'us-west-2', 'registryId': '123456789012'}, type: <class 'dict'>, valid types: <class 'list'>, <class 'tuple'>\n"},
		{[]string{"ecr", "put-replication-configuration", "--replication-configuration", "rules=[{destinations=[{region=us-west-2}],repositoryFilters=[{filter=a,filterType=PREFIX_MATCH}]}]"}, "\nParameter validation failed:\nMissing required parameter in replicationConfiguration.rules[0].destinations[0]: \"registryId\"\nInvalid length for parameter replicationConfiguration.rules[0].repositoryFilters[0].filter, value: 1, valid min length: 2\n"},
		{[]string{"ecr", "create-repository", "--repository-name", "app", "--image-tag-mutability", "IMMUTABLE", "--encryption-configuration", "encryptionType=KMS,kmsKey=arn:aws:kms:us-east-1:1:key/x", "--tags", "Key=team,Value=\"a,b\"", "Key=env,Value='x=y'"}, "{\"repositoryName\": \"app\", \"tags\": [{\"Key\": \"team\", \"Value\": \"a,b\"}, {\"Key\": \"env\", \"Value\": \"x=y\"}], \"imageTagMutability\": \"IMMUTABLE\", \"encryptionConfiguration\": {\"encryptionType\": \"KMS\", \"kmsKey\": \"arn:aws:kms:us-east-1:1:key/x\"}}"},
		{[]string{"ecr", "create-repository", "--repository-name", "app", "--image-scanning-configuration", "scanOnPush=TRUE", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest", "filterType=WILDCARD,filter='dev*'"}, "{\"repositoryName\": \"app\", \"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"latest\"}, {\"filterType\": \"WILDCARD\", \"filter\": \"dev*\"}], \"imageScanningConfiguration\": {\"scanOnPush\": true}}"},
		{[]string{"ecr", "create-repository", "--repository-name", "app", "--image-scanning-configuration", "scanOnPush=yes,extra=1", "--tags", "Key=a"}, "\nParameter validation failed:\nMissing required parameter in tags[0]: \"Value\"\nUnknown parameter in imageScanningConfiguration: \"extra\", must be one of: scanOnPush\nInvalid type for parameter imageScanningConfiguration.scanOnPush, value: yes, type: <class 'str'>, valid types: <class 'bool'>\n"},
		{[]string{"ecr", "create-repository", "--repository-name", "a", "--tags", "Key=a,Value=[b,c]", "Key=,Value={x=y}"}, "\nParameter validation failed:\nInvalid length for parameter repositoryName, value: 1, valid min length: 2\nInvalid type for parameter tags[0].Value, value: ['b', 'c'], type: <class 'list'>, valid types: <class 'str'>\nInvalid type for parameter tags[1].Value, value: {'x': 'y'}, type: <class 'dict'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "create-repository", "--repository-name", "app", "--image-scanning-configuration", "scanOnPush=[true]"}, "\n'list' object has no attribute 'lower'\n"},
		{[]string{"ecr", "put-image-tag-mutability", "--repository-name", "app", "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=release-*"}, "{\"repositoryName\": \"app\", \"imageTagMutability\": \"IMMUTABLE_WITH_EXCLUSION\", \"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"release-*\"}]}"},
		{[]string{"ecr", "create-repository-creation-template", "--prefix", "pre", "--applied-for", "CREATE_ON_PUSH", "PULL_THROUGH_CACHE", "--encryption-configuration", "encryptionType=AES256", "--resource-tags", "Key=a,Value=b", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=v*", "--description", "d"}, "{\"prefix\": \"pre\", \"description\": \"d\", \"encryptionConfiguration\": {\"encryptionType\": \"AES256\"}, \"resourceTags\": [{\"Key\": \"a\", \"Value\": \"b\"}], \"imageTagMutabilityExclusionFilters\": [{\"filterType\": \"WILDCARD\", \"filter\": \"v*\"}], \"appliedFor\": [\"CREATE_ON_PUSH\", \"PULL_THROUGH_CACHE\"]}"},
		{[]string{"ecr", "update-repository-creation-template", "--prefix", "pre", "--resource-tags", "Key=a", "Value=b"}, "\nParameter validation failed:\nMissing required parameter in resourceTags[0]: \"Value\"\nMissing required parameter in resourceTags[1]: \"Key\"\n"},
		{[]string{"ecr", "describe-images", "--repository-name", "app", "--image-ids", "imageTag=a", "imageDigest=sha256:1,imageTag=b", "--filter", "tagStatus=TAGGED,imageStatus=ACTIVE"}, "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"a\"}, {\"imageDigest\": \"sha256:1\", \"imageTag\": \"b\"}], \"filter\": {\"tagStatus\": \"TAGGED\", \"imageStatus\": \"ACTIVE\"}}"},
		{[]string{"ecr", "describe-images", "--repository-name", "app", "--image-ids", "imageTag={a=1}", "imageTag=[x]", "imageDigest="}, "\nParameter validation failed:\nInvalid type for parameter imageIds[0].imageTag, value: {'a': '1'}, type: <class 'dict'>, valid types: <class 'str'>\nInvalid type for parameter imageIds[1].imageTag, value: ['x'], type: <class 'list'>, valid types: <class 'str'>\n"},
		{[]string{"ecr", "list-image-referrers", "--repository-name", "app", "--subject-id", "imageDigest=sha256:1", "--filter", "artifactTypes=a,b"}, "{\"repositoryName\": \"app\", \"subjectId\": {\"imageDigest\": \"sha256:1\"}, \"filter\": {\"artifactTypes\": [\"a\", \"b\"]}}"},
		{[]string{"ecr", "start-image-scan", "--repository-name", "app", "--image-id", "imageTag=v1"}, "{\"repositoryName\": \"app\", \"imageId\": {\"imageTag\": \"v1\"}}"},
		{[]string{"ecr-public", "create-repository", "--repository-name", "app", "--catalog-data", "description=a\\, b,architectures=x86-64,ARM 64,operatingSystems=[Linux],aboutText=\"# About, it\",usageText=x", "--tags", "Key=k,Value=v"}, "{\"repositoryName\": \"app\", \"catalogData\": {\"description\": \"a, b\", \"architectures\": [\"x86-64\", \"ARM 64\"], \"operatingSystems\": [\"Linux\"], \"aboutText\": \"# About, it\", \"usageText\": \"x\"}, \"tags\": [{\"Key\": \"k\", \"Value\": \"v\"}]}"},
		{[]string{"ecr-public", "put-repository-catalog-data", "--repository-name", "app", "--catalog-data", "description=d,architectures=ARM,logoImageBlob=abc"}, "{\"repositoryName\": \"app\", \"catalogData\": {\"description\": \"d\", \"architectures\": [\"ARM\"], \"logoImageBlob\": \"YWJj\"}}"},
		{[]string{"ecr-public", "put-repository-catalog-data", "--repository-name", "app", "--catalog-data", "architectures=[],operatingSystems=[a,\"\"],unknown=1"}, "\nParameter validation failed:\nUnknown parameter in catalogData: \"unknown\", must be one of: description, architectures, operatingSystems, logoImageBlob, aboutText, usageText\nInvalid length for parameter catalogData.operatingSystems[1], value: 0, valid min length: 1\n"},
		{[]string{"ecr-public", "batch-delete-image", "--repository-name", "app", "--image-ids", "imageTag=v1", "imageDigest=sha256:1"}, "{\"repositoryName\": \"app\", \"imageIds\": [{\"imageTag\": \"v1\"}, {\"imageDigest\": \"sha256:1\"}]}"},
	} {
		svc := mustService(t, tc.args[0])
		var op *awsproto.Operation
		for name, o := range svc.model.Operations {
			if kebab(name) == tc.args[1] {
				op = o
			}
		}
		if op == nil {
			t.Fatalf("%s has no %s", tc.args[0], tc.args[1])
		}
		inv, err := parseArgs(svc, op, tc.args[2:], func(string) string { return "" })
		if err == nil {
			err = validate(svc, op.Input, inv.input)
		}
		if err != nil {
			wantCode := ExitOther
			if strings.HasPrefix(tc.want, "\nParameter validation failed:") || strings.HasPrefix(tc.want, "\nError parsing parameter") {
				wantCode = ExitUsage
			}
			if got := "\n" + err.Error() + "\n"; got != tc.want || exitCode(err) != wantCode {
				t.Errorf("%v: exit %d, error\n%s\nwant exit %d,\n%s", tc.args, exitCode(err), got, wantCode, tc.want)
			}
			continue
		}
		if got := inputJSON(svc, op, inv); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
}

// TestParamFileText: file:// is read as Python's text mode reads it, as
// the AWS CLI does: CRLF and CR are LF (a manifest's digest is that of
// what is sent), and what is not UTF-8 is refused.
func TestParamFileText(t *testing.T) {
	dir := t.TempDir()
	crlf, bad := filepath.Join(dir, "m.json"), filepath.Join(dir, "bad.txt")
	os.WriteFile(crlf, []byte("{\"a\":1}\r\n\r{\"b\":2}\r\n"), 0o600)
	os.WriteFile(bad, []byte("ok\xff\n"), 0o600)
	svc := mustService(t, "ecr")
	op := svc.ops["put-image"]
	inv, err := parseArgs(svc, op, []string{"--repository-name", "ab", "--image-manifest", "file://" + crlf}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := inputJSON(svc, op, inv); got != `{"repositoryName": "ab", "imageManifest": "{\"a\":1}\n\n{\"b\":2}\n"}` {
		t.Errorf("CRLF: %s", got)
	}
	_, err = parseArgs(svc, op, []string{"--repository-name", "ab", "--image-manifest", "file://" + bad}, func(string) string { return "" })
	if want := "Error parsing parameter '--image-manifest': Unable to load paramfile (" + bad + "), text contents could not be decoded.  " +
		"If this is a binary file, please use the fileb:// prefix instead of the file:// prefix."; err == nil || err.Error() != want || exitCode(err) != ExitUsage {
		t.Errorf("undecodable: %v", err)
	}
	// fileb:// is the bytes as they are.
	inv, err = parseArgs(svc, svc.ops["upload-layer-part"], []string{"--repository-name", "ab", "--upload-id", "u", "--part-first-byte", "0",
		"--part-last-byte", "8", "--layer-part-blob", "fileb://" + crlf}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := inputJSON(svc, svc.ops["upload-layer-part"], inv); !strings.HasSuffix(got, `"layerPartBlob": "eyJhIjoxfQ0KDXsiYiI6Mn0NCg=="}`) {
		t.Errorf("fileb://: %s", got)
	}
}
