package cli

import (
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/awsproto"
)

// writeServiceHelp lists a service's operations.
func writeServiceHelp(w io.Writer, svc *service) {
	fmt.Fprintf(w, "berth %s <operation> [parameters]\n\nThe %s operations berth serves:\n\n", svc.name, svc.model.Metadata.ServiceID)
	for _, n := range svc.opNames() {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "\nberth %s <operation> help prints an operation's documentation.\n", svc.name)
}

// writeOperationHelp prints an operation's documentation and its
// parameters', from the model, the HTML taken out. For a paginated
// operation it says so as the AWS CLI does: the paging flags documented
// in place of the operation's own token and limit flags, which still work
// but are left out.
func writeOperationHelp(w io.Writer, svc *service, op *awsproto.Operation) {
	name := kebab(op.Name)
	pg := svc.paginators[op.Name]
	desc := plain(svc.opDocs[op.Name])
	var hidden []string
	if pg != nil {
		hidden = pg.cliTokens()
		desc = append(desc, pagingDescription(name, pg))
	}
	fmt.Fprintf(w, "NAME\n       %s -\n\nDESCRIPTION\n%s\n", name, wrap(desc, "       "))
	fmt.Fprintf(w, "SYNOPSIS\n            %s\n", name)
	var members []string
	if op.Input != nil {
		for _, mn := range svc.members(op.Input) {
			if !slices.Contains(hidden, kebab(mn)) {
				members = append(members, mn)
			}
		}
	}
	for _, mn := range members {
		flag := "--" + kebab(mn) + " <value>"
		if op.Input.Members[mn].Type == "boolean" {
			flag = "--" + kebab(mn) + " | --no-" + kebab(mn)
		}
		if !op.Input.IsRequired(mn) {
			flag = "[" + flag + "]"
		}
		fmt.Fprintf(w, "          %s\n", flag)
	}
	globals := []string{"[--cli-input-json <value>]"}
	if pg != nil {
		for _, f := range pagingFlags {
			globals = append(globals, "[--"+f+" <value>]")
		}
	}
	globals = append(globals, "[--generate-cli-skeleton <value>]", "[--endpoint-url <value>]", "[--no-paginate]",
		"[--output <value>]", "[--query <value>]", "[--profile <value>]", "[--region <value>]", "[--no-cli-pager]")
	for _, g := range globals {
		fmt.Fprintf(w, "          %s\n", g)
	}
	fmt.Fprint(w, "\nOPTIONS\n")
	for _, mn := range members {
		sh := op.Input.Members[mn]
		fmt.Fprintf(w, "       --%s (%s)\n%s\n", kebab(mn), sh.Type, wrap(plain(svc.memberDocs[op.Input.Name][mn]), "          "))
	}
	if pg != nil {
		// --page-size and --max-items take the type of the limit key,
		// as the AWS CLI parses them.
		limitType := "integer"
		if sh := op.Input.Members[pg.limitKey]; sh != nil {
			limitType = sh.Type
		}
		for _, f := range pagingFlags {
			typ := limitType
			if f == "starting-token" {
				typ = "string"
			}
			fmt.Fprintf(w, "       --%s (%s)\n%s\n", f, typ, wrap(pagingDocs[f], "          "))
		}
	}
}

// pagingDescription is the paragraph the AWS CLI adds to a paginated
// operation's description.
func pagingDescription(name string, pg *paginator) string {
	return name + " is a paginated operation. Multiple API calls may be issued in order to retrieve the entire data set " +
		"of results. You can disable pagination by providing the --no-paginate argument. When using --output text and " +
		"the --query argument on a paginated response, the --query argument must extract data from the results of the " +
		"following query expressions: " + strings.Join(pg.resultKeys, ", ")
}

// pagingDocs document the paging flags in the AWS CLI's words.
var pagingDocs = map[string][]string{
	"starting-token": {
		"A token to specify where to start paginating. This is the NextToken from a previously truncated response.",
		"For usage examples, see Pagination in the AWS Command Line Interface User Guide.",
	},
	"page-size": {
		"The size of each page to get in the AWS service call. This does not affect the number of items returned in " +
			"the command's output. Setting a smaller page size results in more calls to the AWS service, retrieving " +
			"fewer items in each call. This can help prevent the AWS service calls from timing out.",
		"For usage examples, see Pagination in the AWS Command Line Interface User Guide.",
	},
	"max-items": {
		"The total number of items to return in the command's output. If the total number of items available is " +
			"more than the value specified, a NextToken is provided in the command's output. To resume pagination, " +
			"provide the NextToken value in the starting-token argument of a subsequent command. Do not use the " +
			"NextToken response element directly outside of the AWS CLI.",
		"For usage examples, see Pagination in the AWS Command Line Interface User Guide.",
	},
}

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	blocks = regexp.MustCompile(`(?i)</?(p|li|ul|ol|note|important)\b[^>]*>`)
	spaces = regexp.MustCompile(`[ \t\r\n]+`)
)

// plain turns the model's HTML documentation into paragraphs of text.
func plain(doc string) []string {
	doc = blocks.ReplaceAllString(doc, "\n\n")
	doc = html.UnescapeString(tags.ReplaceAllString(doc, ""))
	var paras []string
	for _, p := range strings.Split(doc, "\n\n") {
		if p = strings.TrimSpace(spaces.ReplaceAllString(p, " ")); p != "" {
			paras = append(paras, p)
		}
	}
	return paras
}

// wrap fills paragraphs to 79 columns under an indent.
func wrap(paras []string, indent string) string {
	var b strings.Builder
	for _, p := range paras {
		line := indent
		for _, word := range strings.Fields(p) {
			if len(line) > len(indent) && len(line)+1+len(word) > 79 {
				b.WriteString(line + "\n")
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += word
		}
		b.WriteString(line + "\n\n")
	}
	return b.String()
}
