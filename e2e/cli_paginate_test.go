package e2e

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// TestCLIPaginationMatchesAWSCLI runs the AWS CLI and berth ecr against
// one berth holding more repositories than a page (120, ECR's default
// page being 100) and a repository of 31 images, and wants the same
// stdout, stderr and exit code from both: automatic pagination, its
// flags and their errors, --output text and table, --query on the merged
// answer.
func TestCLIPaginationMatchesAWSCLI(t *testing.T) {
	awsBin, bin := awsAndBerth(t)
	e := startWith(t, func(c *serverConfig) { c.PublicAddr = "127.0.0.1:0" })
	c := newCLIRunner(t, e)
	for i := range 120 {
		e.createRepo(fmt.Sprintf("page/r%03d", i))
	}
	e.createRepo("page/images")
	e.pushTagged(t, "page/images", 30)
	// And one untagged: a row without tags, an empty cell in a table.
	img := e.pushImage("page/images", "untagged", 1)
	must[any](t)(e.putImage("page/images", img.docker(), ""))
	pub := e.publicClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	for i := range 5 {
		must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: ptr(fmt.Sprintf("pub%d", i))}))
	}

	// same runs args through both and wants everything equal. The exit
	// codes are compared exactly: these commands succeed or fail with a
	// paging error, for which both exit 255 (where the service refuses
	// a call, the AWS CLI v1 exits 255 and berth 254, v2's code), or fail
	// the validation, for which berth exits 252 as v2 does (v1 255).
	v1 := awsV1(t, awsBin)
	same := func(service string, args ...string) (string, int) {
		t.Helper()
		aOut, aErr, aCode := c.runService(awsBin, service, args...)
		bOut, bErr, bCode := c.runService(bin, service, args...)
		if aOut != bOut || aErr != bErr || !sameExit(v1, aCode, bCode, bErr) {
			t.Errorf("%s %s:\naws (exit %d):\n%s%s\nberth (exit %d):\n%s%s", service, strings.Join(args, " "), aCode, aOut, aErr, bCode, bOut, bErr)
		}
		return bOut, bCode
	}
	repoName := regexp.MustCompile(`"repositoryName": ("page/[^"]*")`)
	var all []string
	out, _ := same("ecr", "describe-repositories")
	for _, m := range repoName.FindAllStringSubmatch(out, -1) {
		all = append(all, m[1])
	}
	if len(all) != 121 {
		t.Fatalf("describe-repositories listed %d repositories, want all 121 (over two pages)", len(all))
	}
	if strings.Contains(out, "nextToken") || strings.Contains(out, "NextToken") {
		t.Errorf("the merged answer has a token:\n%s", out)
	}
	for _, args := range [][]string{
		{"describe-repositories", "--page-size", "9"},
		{"describe-repositories", "--no-paginate"},
		{"describe-repositories", "--max-results", "5"},
		{"describe-repositories", "--max-results", "5", "--max-items", "3"},
		{"describe-repositories", "--no-paginate", "--starting-token", "x", "--page-size", "2", "--max-items", "3"},
		{"describe-repositories", "--max-items", "0", "--query", "repositories"},
		// Zero passes the paging check, then fails the call's validation.
		{"describe-repositories", "--max-results", "2", "--max-items", "0"},
		{"describe-repositories", "--output", "table"},
		{"describe-repositories", "--output", "table", "--max-items", "3"},
		{"describe-repositories", "--output", "text", "--page-size", "50"},
		{"describe-repositories", "--query", "repositories[].repositoryName", "--page-size", "50"},
		{"describe-repositories", "--query", "length(repositories)"},
		{"describe-repositories", "--query", "repositories[?starts_with(repositoryName, 'page/r11')].[repositoryName, imageTagMutability]", "--output", "table"},
		// Text pages: the query applies to each page, then to NextToken.
		{"describe-repositories", "--output", "text", "--page-size", "25", "--max-items", "60", "--query", "repositories[].repositoryName"},
		{"describe-repositories", "--output", "text", "--page-size", "25", "--max-items", "60", "--query", "NextToken"},
		{"list-images", "--repository-name", "page/images", "--page-size", "4"},
		{"list-images", "--repository-name", "page/images", "--page-size", "4", "--max-items", "10", "--output", "text"},
		{"list-images", "--repository-name", "page/images", "--output", "table"},
		{"describe-images", "--repository-name", "page/images", "--page-size", "7"},
		{"describe-images", "--repository-name", "page/images", "--output", "table"},
		{"describe-images", "--repository-name", "page/images", "--page-size", "7", "--output", "table", "--query", "imageDetails[?imageTags].[imageTags[0], imageSizeInBytes]"},
		{"describe-images", "--repository-name", "page/images", "--page-size", "7", "--max-items", "12", "--query", "imageDetails[].imageDigest"},
		{"describe-repositories", "--generate-cli-skeleton", "input"},
	} {
		same("ecr", args...)
	}

	// The service's own token turns paging off, as the AWS CLI's.
	next := strings.TrimSpace(c.ok(bin, "describe-repositories", "--max-results", "5", "--query", "nextToken", "--output", "text"))
	same("ecr", "describe-repositories", "--next-token", next)
	same("ecr", "describe-repositories", "--next-token", next, "--max-results", "3", "--output", "table")

	// --max-items: the first 7, and a NextToken that resumes mid-page, by
	// each CLI from either's token. The tokens are botocore's base64 JSON;
	// berth writes them byte for byte as the AWS CLI does.
	tokenOf := func(out string) string {
		t.Helper()
		tok := jsonField(t, out, "NextToken")
		if tok == "" {
			t.Fatalf("no NextToken in\n%s", out)
		}
		return tok
	}
	out, _ = same("ecr", "describe-repositories", "--max-items", "7")
	tok := tokenOf(out)
	if raw, _ := base64.StdEncoding.DecodeString(tok); string(raw) != `{"nextToken": null, "boto_truncate_amount": 7}` {
		t.Errorf("NextToken %s is %s", tok, raw)
	}
	var names []string
	for range 30 {
		out, _ = same("ecr", "describe-repositories", "--max-items", "7", "--page-size", "11", "--starting-token", tok, "--query", "{names: repositories[].repositoryName, next: NextToken}")
		names = append(names, regexp.MustCompile(`"page/[^"]*"`).FindAllString(out, -1)...)
		if tok = jsonField(t, out, "next"); tok == "" {
			break
		}
	}
	// Every repository after the first 7, once, in order.
	if strings.Join(names, " ") != strings.Join(all[7:], " ") {
		t.Errorf("resumed 7 at a time from the 8th, listed %d: %v", len(names), names)
	}
	for _, args := range [][]string{
		{"describe-repositories", "--max-items", "7", "--page-size", "5"},
		{"list-images", "--repository-name", "page/images", "--max-items", "10", "--page-size", "4"},
	} {
		out, _ = same("ecr", args...)
		tok := tokenOf(out)
		same("ecr", append(args, "--starting-token", tok)...)
	}

	// ECR Public pages the same way.
	for _, args := range [][]string{
		{"describe-repositories"},
		{"describe-repositories", "--max-items", "2", "--page-size", "2"},
		{"describe-repositories", "--output", "table"},
		{"describe-registries", "--output", "table"},
	} {
		same("ecr-public", args...)
	}
}

func ptr[T any](v T) *T { return &v }

// overstrike is groff's bold and underline, as the AWS CLI's help prints
// them to a pipe: X\bX, _\bX.
var overstrike = regexp.MustCompile(".\b")

// TestCLIPaginatedHelpMatchesAWSCLI compares the help berth prints of a
// paginated operation with the parts of the AWS CLI's it has: the
// synopsis in the same order, the operation's own token and limit flags
// left out, the paging flags documented, the paginated-operation
// paragraph.
func TestCLIPaginatedHelpMatchesAWSCLI(t *testing.T) {
	awsBin, bin := awsAndBerth(t)
	help := func(bin, op string) string {
		cmd := exec.Command(bin, "ecr", op, "help")
		cmd.Env = append(cmd.Environ(), "PAGER=cat", "MANPAGER=cat", "AWS_DEFAULT_REGION="+testRegion)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s ecr %s help: %v", bin, op, err)
		}
		return overstrike.ReplaceAllString(string(out), "")
	}
	section := func(s, from, to string) string {
		_, after, ok := strings.Cut(s, "\n"+from+"\n")
		if !ok {
			t.Fatalf("no %s in\n%s", from, s)
		}
		before, _, _ := strings.Cut(after, "\n"+to+"\n")
		return before
	}
	flagRE := regexp.MustCompile(`(?m)^\s+\[?(--[a-z0-9-]+)`)
	flags := func(s string) []string {
		var f []string
		for _, m := range flagRE.FindAllStringSubmatch(s, -1) {
			f = append(f, m[1])
		}
		return f
	}
	// Letters only: groff hyphenates and justifies, berth does not.
	letters := func(s string) string {
		return regexp.MustCompile(`[\s-]+`).ReplaceAllString(s, "")
	}
	for _, op := range []string{"describe-repositories", "list-images", "describe-images"} {
		a, b := help(awsBin, op), help(bin, op)

		// The synopsis: the same flags in the same order, from the
		// operation's up to --generate-cli-skeleton (the AWS CLI's global
		// options, which berth has fewer of, follow).
		aSyn, bSyn := flags(section(a, "SYNOPSIS", "OPTIONS")), flags(section(b, "SYNOPSIS", "OPTIONS"))
		upTo := func(f []string) []string {
			i := slices.Index(f, "--generate-cli-skeleton")
			if i < 0 {
				t.Fatalf("%s: no --generate-cli-skeleton in %v", op, f)
			}
			return f[:i+1]
		}
		if strings.Join(upTo(aSyn), " ") != strings.Join(upTo(bSyn), " ") {
			t.Errorf("%s synopsis:\naws   %v\nberth %v", op, upTo(aSyn), upTo(bSyn))
		}
		for _, f := range []string{"--starting-token", "--page-size", "--max-items", "--no-paginate"} {
			if !slices.Contains(bSyn, f) || !slices.Contains(aSyn, f) {
				t.Errorf("%s synopsis lacks %s:\naws   %v\nberth %v", op, f, aSyn, bSyn)
			}
		}
		for _, f := range []string{"--next-token", "--max-results"} {
			if slices.Contains(bSyn, f) || slices.Contains(aSyn, f) {
				t.Errorf("%s synopsis shows %s:\naws   %v\nberth %v", op, f, aSyn, bSyn)
			}
		}

		// The options documented: the AWS CLI's, but --cli-input-json and
		// --generate-cli-skeleton, which berth does not document, with
		// the same types.
		optRE := regexp.MustCompile(`(?m)^       (--[a-z0-9-]+) \(([a-z]+)\)`)
		opts := func(s string) []string {
			var o []string
			for _, m := range optRE.FindAllStringSubmatch(s, -1) {
				if m[1] != "--cli-input-json" && m[1] != "--generate-cli-skeleton" {
					o = append(o, m[1]+" ("+m[2]+")")
				}
			}
			return o
		}
		aOpts, bOpts := opts(section(a, "OPTIONS", "GLOBAL OPTIONS")), opts(section(b+"\nEND\n", "OPTIONS", "END"))
		if strings.Join(aOpts, ", ") != strings.Join(bOpts, ", ") {
			t.Errorf("%s options:\naws   %v\nberth %v", op, aOpts, bOpts)
		}
		// The paging flags' documentation, word for word.
		for _, f := range []string{"--starting-token", "--page-size", "--max-items"} {
			doc := func(s string) string {
				_, after, _ := strings.Cut(s, "\n       "+f+" (")
				before, _, _ := strings.Cut(after, "For usage examples")
				_, text, _ := strings.Cut(before, "\n")
				return letters(text)
			}
			if doc(a) != doc(b) || doc(b) == "" {
				t.Errorf("%s %s documented as\n%s\nnot as the AWS CLI's\n%s", op, f, doc(b), doc(a))
			}
		}

		// The paragraph that says the operation pages (groff justifies
		// and hyphenates it: compared letter for letter).
		paraRE := regexp.MustCompile(`(?s)` + op + ` is a paginated operation.*?\n\n`)
		p := letters(paraRE.FindString(section(b, "DESCRIPTION", "SYNOPSIS")))
		if !strings.Contains(p, "isapaginatedoperation") || !strings.Contains(letters(section(a, "DESCRIPTION", "SYNOPSIS")), p) {
			t.Errorf("%s: the paginated-operation paragraph\n%s\nis not the AWS CLI's:\n%s", op, p, section(a, "DESCRIPTION", "SYNOPSIS"))
		}
	}
}
