package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pagedECR serves DescribeRepositories over names as ECR pages it:
// maxResults a page (defaultPage without it), nextToken the index of the
// page's first repository. It records each request's input.
type pagedECR struct {
	names       []string
	defaultPage int
	mu          sync.Mutex
	requests    []map[string]any
}

func (f *pagedECR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &in)
	f.mu.Lock()
	f.requests = append(f.requests, in)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	start := 0
	if tok, ok := in["nextToken"].(string); ok {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "tok-"))
		if err != nil || n > len(f.names) {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"InvalidParameterException","message":"bad nextToken"}`)
			return
		}
		start = n
	}
	size := f.defaultPage
	if m, ok := in["maxResults"].(float64); ok {
		size = int(m)
	}
	end := min(start+size, len(f.names))
	var repos []any
	for _, n := range f.names[start:end] {
		repos = append(repos, map[string]any{"repositoryName": n, "registryId": "123456789012"})
	}
	out := map[string]any{"repositories": repos}
	if end < len(f.names) {
		out["nextToken"] = fmt.Sprintf("tok-%d", end)
	}
	json.NewEncoder(w).Encode(out)
}

func newPagedECR(t *testing.T, n, defaultPage int) (*pagedECR, string) {
	f := &pagedECR{defaultPage: defaultPage}
	for i := range n {
		f.names = append(f.names, fmt.Sprintf("r%02d", i))
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// listed reads a describe-repositories output: the names, NextToken, and
// the service's nextToken.
func listed(t *testing.T, stdout string) (names []string, next, serviceNext string) {
	t.Helper()
	var out struct {
		Repositories []struct{ RepositoryName string }
		NextToken    string `json:"NextToken"`
		ServiceNext  string `json:"nextToken"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	for _, r := range out.Repositories {
		names = append(names, r.RepositoryName)
	}
	return names, out.NextToken, out.ServiceNext
}

// pyToken is a NextToken as the AWS CLI writes it: base64 of Python's
// json.dumps of the dict.
func pyToken(dict string) string { return base64.StdEncoding.EncodeToString([]byte(dict)) }

func TestPaginateAll(t *testing.T) {
	f, url := newPagedECR(t, 3, 2)
	code, stdout, stderr := runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Every page's repositories in one list, no token: as the AWS CLI.
	want := `{
    "repositories": [
        {
            "registryId": "123456789012",
            "repositoryName": "r00"
        },
        {
            "registryId": "123456789012",
            "repositoryName": "r01"
        },
        {
            "registryId": "123456789012",
            "repositoryName": "r02"
        }
    ]
}
`
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
	if len(f.requests) != 2 || f.requests[0]["nextToken"] != nil || f.requests[1]["nextToken"] != "tok-2" {
		t.Errorf("requests %v", f.requests)
	}
	for _, r := range f.requests {
		if _, ok := r["maxResults"]; ok {
			t.Errorf("maxResults sent without --page-size: %v", r)
		}
	}

	f, url = newPagedECR(t, 25, 10)
	code, stdout, _ = runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url, "--page-size", "4")
	names, next, serviceNext := listed(t, stdout)
	if code != 0 || len(names) != 25 || names[24] != "r24" || next != "" || serviceNext != "" {
		t.Errorf("--page-size 4: exit %d, %d names, NextToken %q, nextToken %q", code, len(names), next, serviceNext)
	}
	if len(f.requests) != 7 {
		t.Errorf("--page-size 4: %d requests, want 7", len(f.requests))
	}
	for _, r := range f.requests {
		if r["maxResults"] != 4.0 {
			t.Errorf("--page-size 4 sent %v", r)
		}
	}

	// --query sees the merged answer.
	_, stdout, _ = runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url, "--query", "length(repositories)")
	if stdout != "25\n" {
		t.Errorf("--query length(repositories) printed %q", stdout)
	}
}

func TestPaginateMaxItems(t *testing.T) {
	f, url := newPagedECR(t, 25, 10)
	code, stdout, stderr := runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url, "--max-items", "3")
	names, next, _ := listed(t, stdout)
	if code != 0 || strings.Join(names, " ") != "r00 r01 r02" {
		t.Fatalf("--max-items 3: exit %d %s, names %v", code, stderr, names)
	}
	// The AWS CLI 1.45.11 printed this very token, stopping 3 into a
	// first page: botocore's encoding, byte for byte.
	if want := "eyJuZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAzfQ=="; next != want {
		t.Errorf("NextToken %q, want %q", next, want)
	}
	if len(f.requests) != 1 {
		t.Errorf("%d requests for 3 items of a 10-item page", len(f.requests))
	}
	if !strings.HasSuffix(stdout, "    ],\n    \"NextToken\": \""+next+"\"\n}\n") {
		t.Errorf("NextToken is not printed last:\n%s", stdout)
	}

	// Resuming, 7 at a time with pages of 10: mid-page, over a page's end,
	// on a page boundary (7+7+6 = 20), to the end, every name once.
	var all []string
	var tokens []string
	token := ""
	for i := 0; ; i++ {
		args := []string{"describe-repositories", "--endpoint-url", url, "--max-items", "7"}
		if token != "" {
			args = append(args, "--starting-token", token)
		}
		if i == 2 {
			args[4] = "6"
		}
		code, stdout, stderr := runBerth(t, cliEnv(t), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		names, next, _ := listed(t, stdout)
		all = append(all, names...)
		tokens = append(tokens, next)
		if token = next; token == "" || i > 10 {
			break
		}
	}
	if got := strings.Join(all, " "); got != strings.Join(f.names, " ") {
		t.Errorf("resumed runs listed %s", got)
	}
	want := []string{
		pyToken(`{"nextToken": null, "boto_truncate_amount": 7}`),
		pyToken(`{"nextToken": "tok-10", "boto_truncate_amount": 4}`),
		pyToken(`{"nextToken": "tok-20"}`), // a page boundary: no count
		"",
	}
	if strings.Join(tokens, "\n") != strings.Join(want, "\n") {
		t.Errorf("NextTokens\n%s\nwant\n%s", strings.Join(tokens, "\n"), strings.Join(want, "\n"))
	}

	// The format before botocore's JSON tokens still resumes: the service
	// token, "___", the count.
	_, stdout, _ = runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url, "--starting-token", "tok-10___8", "--max-items", "2")
	if names, next, _ := listed(t, stdout); strings.Join(names, " ") != "r18 r19" || next != pyToken(`{"nextToken": "tok-20"}`) {
		t.Errorf("old-format token: %v %q", names, next)
	}

	// --max-items 0 warns, lists nothing and resumes from the start.
	code, stdout, stderr = runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", url, "--max-items", "0")
	names, next, _ = listed(t, stdout)
	if code != 0 || len(names) != 0 || next != pyToken(`{"nextToken": null, "boto_truncate_amount": 0}`) ||
		stderr != "warning: Non-positive values for --max-items may result in undefined behavior.\n" {
		t.Errorf("--max-items 0: exit %d, %v, %q, stderr %q", code, names, next, stderr)
	}
}

func TestPaginateOff(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		requests    int
		first       string // the first request's input
		names       int
		serviceNext string // unpaged, the answer is printed whole, nextToken and all
	}{
		{[]string{"--no-paginate"}, 1, `{}`, 10, "tok-10"},
		{[]string{"--max-results", "5"}, 1, `{"maxResults":5}`, 5, "tok-5"},
		{[]string{"--next-token", "tok-20"}, 1, `{"nextToken":"tok-20"}`, 5, ""},
		{[]string{"--no-paginate", "--next-token", "tok-20", "--max-results", "2"}, 1, `{"maxResults":2,"nextToken":"tok-20"}`, 2, "tok-22"},
		// Through --cli-input-json they do not turn paging off (the AWS
		// CLI v1 looks at the flags only): maxResults bounds each page.
		{[]string{"--cli-input-json", `{"maxResults":9}`}, 3, `{"maxResults":9}`, 25, ""},
	} {
		f, url := newPagedECR(t, 25, 10)
		code, stdout, stderr := runBerth(t, cliEnv(t), append([]string{"describe-repositories", "--endpoint-url", url}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", tc.args, code, stderr)
		}
		names, next, serviceNext := listed(t, stdout)
		first, _ := json.Marshal(f.requests[0])
		if len(f.requests) != tc.requests || string(first) != tc.first || len(names) != tc.names || next != "" || serviceNext != tc.serviceNext {
			t.Errorf("%v: %d requests, first %s, %d names, NextToken %q, nextToken %q", tc.args, len(f.requests), first, len(names), next, serviceNext)
		}
	}
}

func TestPaginateErrors(t *testing.T) {
	f, url := newPagedECR(t, 25, 10)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--no-paginate", "--max-items", "3", "--page-size", "2", "--starting-token", "x"}, ExitOther,
			"\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --starting-token, --page-size, --max-items\n"},
		// The operation's own limit turns paging off, so the same.
		{[]string{"--max-results", "5", "--max-items", "3"}, ExitOther,
			"\nError during pagination: Cannot specify --no-paginate along with pagination arguments: --max-items\n"},
		// Zero passes that check (Python's falsy) and reaches the call,
		// whose validation refuses the paging configuration (252, as
		// v2 exits for a validation error).
		{[]string{"--max-results", "2", "--max-items", "0"}, ExitUsage,
			"warning: Non-positive values for --max-items may result in undefined behavior.\n\nParameter validation failed:\n" +
				`Unknown parameter in input: "PaginationConfig", must be one of: registryId, repositoryNames, nextToken, maxResults` + "\n"},
		{[]string{"--max-items", "abc"}, ExitUsage, "berth: error: argument --max-items: invalid int value: 'abc'\n"},
		{[]string{"--page-size"}, ExitUsage, "berth: error: argument --page-size: expected one argument\n"},
	} {
		before := len(f.requests)
		code, stdout, stderr := runBerth(t, cliEnv(t), append([]string{"describe-repositories", "--endpoint-url", url}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.HasSuffix(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q, want %d %q", tc.args, code, stdout, stderr, tc.code, tc.stderr)
		}
		if len(f.requests) != before {
			t.Errorf("%v: sent a request", tc.args)
		}
	}
	// The paging flags belong to paginated operations only.
	code, _, stderr := runBerth(t, cliEnv(t), "put-image", "--repository-name", "a", "--image-manifest", "{}", "--max-items", "3")
	if code != ExitUsage || !strings.Contains(stderr, "Unknown options: --max-items") {
		t.Errorf("put-image --max-items: exit %d %q", code, stderr)
	}

	// A service that hands back the same token again would loop forever.
	same := fixedServer(t, `{"repositories":[{"repositoryName":"a"}],"nextToken":"same"}`)
	code, stdout, stderr := runBerth(t, cliEnv(t), "describe-repositories", "--endpoint-url", same.URL)
	if code != ExitOther || stdout != "" || stderr != "\nError during pagination: The same next token was received twice: {'nextToken': 'same'}\n" {
		t.Errorf("same token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestPaginateText: the text format prints page by page, --query applied
// to each page, then the NextToken (through the query too), as the AWS
// CLI does.
func TestPaginateText(t *testing.T) {
	_, url := newPagedECR(t, 25, 10)
	tok := pyToken(`{"nextToken": "tok-4", "boto_truncate_amount": 2}`)
	for _, tc := range []struct {
		query, want string
	}{
		{"NextToken", "None\nNone\n" + tok + "\n"},
		{"repositories[].repositoryName", "r00\tr01\tr02\tr03\nr04\tr05\nNone\n"},
		{"", "REPOSITORIES\t123456789012\tr00\nREPOSITORIES\t123456789012\tr01\nREPOSITORIES\t123456789012\tr02\nREPOSITORIES\t123456789012\tr03\n" +
			"REPOSITORIES\t123456789012\tr04\nREPOSITORIES\t123456789012\tr05\nNEXTTOKEN\t" + tok + "\n"},
	} {
		args := []string{"describe-repositories", "--endpoint-url", url, "--output", "text", "--page-size", "4", "--max-items", "6"}
		if tc.query != "" {
			args = append(args, "--query", tc.query)
		}
		code, stdout, stderr := runBerth(t, cliEnv(t), args...)
		if code != 0 || stdout != tc.want {
			t.Errorf("--query %q: exit %d %s\n%q\nwant\n%q", tc.query, code, stderr, stdout, tc.want)
		}
	}
}

// pagesServer answers each request with the page of its nextToken.
func pagesServer(t *testing.T, pages map[string]string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &in)
		tok, _ := in["nextToken"].(string)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, pages[tok])
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPaginateNonAggregate: the first page's non-aggregate keys are kept,
// after the result keys, null where that page lacks one (summary here),
// and the text format prints them with the first page. The wants are
// what the AWS CLI 1.45.11 printed for the same pages.
func TestPaginateNonAggregate(t *testing.T) {
	url := pagesServer(t, map[string]string{
		"":   `{"registryId":"1","repositoryName":"app","lifecyclePolicyText":"{}","status":"COMPLETE","previewResults":[{"imageDigest":"sha256:1","appliedRulePriority":1}],"nextToken":"p2"}`,
		"p2": `{"registryId":"1","repositoryName":"app","lifecyclePolicyText":"{}","status":"COMPLETE","previewResults":[{"imageDigest":"sha256:2","appliedRulePriority":1}],"summary":{"expiringImageTotalCount":2}}`,
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `{
    "previewResults": [
        {
            "imageDigest": "sha256:1",
            "appliedRulePriority": 1
        },
        {
            "imageDigest": "sha256:2",
            "appliedRulePriority": 1
        }
    ],
    "registryId": "1",
    "repositoryName": "app",
    "lifecyclePolicyText": "{}",
    "status": "COMPLETE",
    "summary": null
}
`},
		{[]string{"--output", "text"}, "{}\t1\tapp\tCOMPLETE\tNone\nPREVIEWRESULTS\t1\tsha256:1\nPREVIEWRESULTS\t1\tsha256:2\n"},
		{[]string{"--output", "text", "--max-items", "1"}, "{}\t1\tapp\tCOMPLETE\tNone\nPREVIEWRESULTS\t1\tsha256:1\nNEXTTOKEN\teyJuZXh0VG9rZW4iOiAicDIifQ==\n"},
		{[]string{"--output", "text", "--query", "status"}, "COMPLETE\nNone\n"},
	} {
		args := append([]string{"get-lifecycle-policy-preview", "--repository-name", "app", "--endpoint-url", url}, tc.args...)
		code, stdout, stderr := runBerth(t, cliEnv(t), args...)
		if code != 0 || stdout != tc.want {
			t.Errorf("%v: exit %d %s\n%q\nwant\n%q", tc.args, code, stderr, stdout, tc.want)
		}
	}
}

// TestPaginateMerge pages an operation with two dotted result keys and
// non-aggregate keys (DescribeImageScanFindings' paginator). The wants
// are what botocore's build_full_result made of the same pages.
func TestPaginateMerge(t *testing.T) {
	svc := mustService(t, "ecr")
	p := svc.paginators["DescribeImageScanFindings"]
	if p == nil {
		t.Fatal("no paginator for DescribeImageScanFindings")
	}
	pages := map[string]string{
		"": `{"registryId":"1","repositoryName":"app","imageId":{"imageDigest":"sha256:1"},"imageScanStatus":{"status":"COMPLETE"},
			"imageScanFindings":{"imageScanCompletedAt":1.5,"findings":[{"name":"CVE-1"},{"name":"CVE-2"}],"enhancedFindings":[{"title":"E1"}],"findingSeverityCounts":{"HIGH":3}},"nextToken":"p2"}`,
		"p2": `{"registryId":"1","repositoryName":"app","imageId":{"imageDigest":"sha256:1"},"imageScanStatus":{"status":"COMPLETE"},
			"imageScanFindings":{"imageScanCompletedAt":1.5,"findings":[{"name":"CVE-3"}],"enhancedFindings":[{"title":"E2"},{"title":"E3"}],"findingSeverityCounts":{"HIGH":3}}}`,
	}
	op := svc.model.Operations["DescribeImageScanFindings"]
	run := func(maxItems *int64) string {
		g := &pager{p: p, input: newObject(), ord: orders{}, opts: pagination{maxItems: maxItems}}
		g.fetch = func(in *object) (map[string]any, error) {
			t, _ := in.get("nextToken")
			tok, _ := t.(string)
			var page map[string]any
			if err := decodeJSON([]byte(pages[tok]), &page); err != nil {
				return nil, err
			}
			g.ord.shape(svc, op.Output, page)
			return page, nil
		}
		var got []map[string]any
		if err := g.each(func(page map[string]any) error { got = append(got, page); return nil }); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		writeJSON(&b, g.merge(got), g.ord)
		return b.String()
	}
	const head = `{
    "imageScanFindings": {
        "findings": [
`
	const tail = `        "imageScanCompletedAt": 1.5,
        "findingSeverityCounts": {
            "HIGH": 3
        }
    },
    "registryId": "1",
    "repositoryName": "app",
    "imageId": {
        "imageDigest": "sha256:1"
    },
    "imageScanStatus": {
        "status": "COMPLETE"
    }`
	item := func(k, v string, last bool) string {
		s := "            {\n                \"" + k + "\": \"" + v + "\"\n            }"
		if !last {
			s += ","
		}
		return s + "\n"
	}
	want := head + item("name", "CVE-1", false) + item("name", "CVE-2", false) + item("name", "CVE-3", true) +
		"        ],\n        \"enhancedFindings\": [\n" + item("title", "E1", false) + item("title", "E2", false) + item("title", "E3", true) +
		"        ],\n" + tail + "\n}\n"
	if got := run(nil); got != want {
		t.Errorf("merged\n%s\nwant (botocore's)\n%s", got, want)
	}
	// --max-items cuts the primary result key only.
	one := int64(1)
	want = head + item("name", "CVE-1", true) + "        ],\n        \"enhancedFindings\": [\n" + item("title", "E1", true) + "        ],\n" + tail +
		",\n    \"NextToken\": \"" + pyToken(`{"nextToken": null, "boto_truncate_amount": 1}`) + "\"\n}\n"
	if got := run(&one); got != want {
		t.Errorf("merged, --max-items 1\n%s\nwant (botocore's)\n%s", got, want)
	}
}

// TestPaginatorModels: the paginated operations the CLI serves, and none
// with a member the paging flags would shadow (the AWS CLI then gives the
// member back when paging is off; berth does not need to).
func TestPaginatorModels(t *testing.T) {
	for name, want := range map[string][]string{
		"ecr":        {"DescribeImages", "DescribeRepositories", "DescribeRepositoryCreationTemplates", "GetLifecyclePolicyPreview", "ListImages"},
		"ecr-public": {"DescribeImageTags", "DescribeImages", "DescribeRegistries", "DescribeRepositories"},
	} {
		svc := mustService(t, name)
		var served []string
		for _, cli := range svc.opNames() {
			op := svc.ops[cli]
			p := svc.paginators[op.Name]
			if p == nil {
				continue
			}
			served = append(served, op.Name)
			for _, mn := range svc.members(op.Input) {
				for _, f := range pagingFlags {
					if kebab(mn) == f {
						t.Errorf("%s %s: member %s is shadowed by --%s", name, op.Name, mn, f)
					}
				}
			}
			if sh := op.Input.Members[p.limitKey]; sh == nil || (sh.Type != "integer" && sh.Type != "long") {
				t.Errorf("%s %s: limit key %q is not an integer member", name, op.Name, p.limitKey)
			}
		}
		if strings.Join(served, " ") != strings.Join(want, " ") {
			t.Errorf("%s paginated operations %v, want %v", name, served, want)
		}
	}
}

func TestPaginatedHelp(t *testing.T) {
	code, help, _ := runBerth(t, cliEnv(t), "describe-repositories", "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"       describe-repositories is a paginated operation. Multiple API calls may\n       be issued",
		"following\n       query expressions: repositories\n",
		"          [--cli-input-json <value>]\n          [--starting-token <value>]\n          [--page-size <value>]\n          [--max-items <value>]\n          [--generate-cli-skeleton <value>]\n",
		"[--no-paginate]\n",
		"       --starting-token (string)\n          A token to specify where to start paginating.",
		"       --page-size (integer)\n",
		"       --max-items (integer)\n          The total number of items to return in the command's output.",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	// The operation's own token and limit flags still work but are not
	// documented.
	for _, hidden := range []string{"--next-token", "--max-results"} {
		if strings.Contains(help, hidden) {
			t.Errorf("help documents %s:\n%s", hidden, help)
		}
	}
	_, help, _ = runBerth(t, cliEnv(t), "put-image", "help")
	if strings.Contains(help, "paginated") || strings.Contains(help, "--max-items") {
		t.Errorf("put-image help speaks of paging:\n%s", help)
	}
}
