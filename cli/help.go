package cli

import (
	"fmt"
	"html"
	"io"
	"regexp"
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
// parameters', from the model, the HTML taken out.
func writeOperationHelp(w io.Writer, svc *service, op *awsproto.Operation) {
	name := kebab(op.Name)
	fmt.Fprintf(w, "NAME\n       %s -\n\nDESCRIPTION\n%s\n", name, wrap(plain(svc.opDocs[op.Name]), "       "))
	fmt.Fprintf(w, "SYNOPSIS\n            %s\n", name)
	var members []string
	if op.Input != nil {
		members = svc.members(op.Input)
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
	for _, g := range []string{"[--cli-input-json <value>]", "[--generate-cli-skeleton <value>]", "[--endpoint-url <value>]",
		"[--output <value>]", "[--query <value>]", "[--profile <value>]", "[--region <value>]", "[--no-cli-pager]"} {
		fmt.Fprintf(w, "          %s\n", g)
	}
	fmt.Fprint(w, "\nOPTIONS\n")
	for _, mn := range members {
		sh := op.Input.Members[mn]
		fmt.Fprintf(w, "       --%s (%s)\n%s\n", kebab(mn), sh.Type, wrap(plain(svc.memberDocs[op.Input.Name][mn]), "          "))
	}
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
