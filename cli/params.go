package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/awsproto"
	jmespath "github.com/jmespath-community/go-jmespath"
)

// invocation is a parsed command line: the operation's input and the
// global options.
type invocation struct {
	input    map[string]any // ready for the wire: blobs base64, numbers json.Number
	help     bool
	skeleton string // "", input or output
	endpoint string
	region   string
	profile  string
	output   string // json, text or table
	query    string
	// paginate is whether to page through the operation (it has a
	// paginator, and neither --no-paginate nor its own token or limit
	// flag was given); paging holds the paging flags.
	paginate bool
	paging   pagination
}

// parseArgs reads an operation's command line as the AWS CLI does: one
// flag per input member (kebab-case), the global options, then
// --cli-input-json under the flags.
func parseArgs(svc *service, op *awsproto.Operation, args []string, getenv func(string) string) (*invocation, error) {
	inv := &invocation{output: "json"}
	if v := getenv("AWS_DEFAULT_OUTPUT"); v != "" {
		inv.output = v
	}
	flags := map[string]string{} // --flag → member
	var members []string
	if op.Input != nil {
		members = svc.members(op.Input)
		for _, mn := range members {
			flags[kebab(mn)] = mn
		}
	}
	pg := svc.paginators[op.Name]
	inv.paginate = pg != nil
	var ownTokens []string
	if pg != nil {
		ownTokens = pg.cliTokens()
	}
	params := map[string]any{}
	var cliInput string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "help" && i == 0 {
			inv.help = true
			return inv, nil
		}
		if !strings.HasPrefix(arg, "--") {
			return nil, usagef("Unknown options: %s", arg)
		}
		name, inline, hasInline := strings.Cut(arg[2:], "=")
		// value takes the flag's one value.
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", usagef("argument --%s: expected one argument", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "endpoint-url":
			inv.endpoint, err = value()
		case "region":
			inv.region, err = value()
		case "profile":
			inv.profile, err = value()
		case "output":
			inv.output, err = value()
		case "query":
			inv.query, err = value()
		case "cli-input-json":
			cliInput, err = value()
		case "generate-cli-skeleton":
			inv.skeleton = "input"
			if hasInline {
				inv.skeleton = inline
			} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				inv.skeleton = args[i]
			}
			if inv.skeleton != "input" && inv.skeleton != "output" {
				return nil, usagef("argument --generate-cli-skeleton: invalid choice: %q (choose from 'input', 'output')", inv.skeleton)
			}
		case "no-paginate":
			inv.paginate = false
		case "no-cli-pager", "debug", "no-verify-ssl":
			// Accepted for compatibility; berth's CLI has no pager.
		case "starting-token", "page-size", "max-items":
			// The AWS CLI adds these to the operations it pages; for
			// the others they are unknown.
			if pg == nil {
				return nil, usagef("Unknown options: --%s", name)
			}
			var v string
			if v, err = value(); err != nil {
				break
			}
			if name == "starting-token" {
				inv.paging.startingToken = &v
				break
			}
			n, ok := pyInt(v)
			if !ok {
				// argparse's message for its int type.
				return nil, usagef("argument --%s: invalid int value: %s", name, pyRepr(v, nil))
			}
			if name == "page-size" {
				inv.paging.pageSize = &n
			} else {
				inv.paging.maxItems = &n
			}
		default:
			member, ok := flags[name]
			negated := false
			if !ok && strings.HasPrefix(name, "no-") {
				member, ok = flags[name[3:]]
				negated = true
			}
			if !ok {
				return nil, usagef("Unknown options: --%s", name)
			}
			if slices.Contains(ownTokens, name) {
				inv.paging.ownToken = true
			}
			sh := op.Input.Members[member]
			switch {
			case sh.Type == "boolean":
				if hasInline {
					return nil, usagef("argument --%s: ignored explicit argument %q", name, inline)
				}
				params[member] = !negated
				continue
			case negated:
				return nil, usagef("Unknown options: --%s", name)
			case sh.Type == "list" && !hasInline:
				var vals []string
				for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
					i++
					vals = append(vals, args[i])
				}
				if len(vals) == 0 {
					return nil, usagef("argument --%s: expected at least one argument", name)
				}
				params[member], err = listValue(name, sh, vals)
			default:
				var v string
				if v, err = value(); err == nil {
					params[member], err = flagValue(name, sh, v)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if inv.output != "json" && inv.output != "text" && inv.output != "table" {
		return nil, usagef("argument --output: Invalid choice, valid choices are: json | text | table")
	}
	if inv.query != "" {
		// As the AWS CLI, a query that does not parse is refused before
		// any call.
		if _, err := jmespath.Compile(inv.query); err != nil {
			return nil, usagef("argument --query: Bad value for --query %s: %v", inv.query, err)
		}
	}
	if inv.skeleton != "" {
		return inv, checkPaging(inv)
	}
	input := map[string]any{}
	if cliInput != "" {
		text, err := paramFile("cli-input-json", cliInput)
		if err != nil {
			return nil, err
		}
		if err := decodeJSON([]byte(text), &input); err != nil {
			return nil, usagef("argument --cli-input-json: Invalid JSON: %v", err)
		}
	}
	for k, v := range params {
		input[k] = v
	}
	var missing []string
	for _, mn := range members {
		if op.Input.IsRequired(mn) && input[mn] == nil {
			missing = append(missing, "--"+kebab(mn))
		}
	}
	if len(missing) > 0 {
		return nil, usagef("the following arguments are required: %s", strings.Join(missing, ", "))
	}
	if op.Input != nil {
		wire, err := toWire(svc, op.Input, input)
		if err != nil {
			return nil, usagef("%v", err)
		}
		inv.input = wire.(map[string]any)
	}
	return inv, checkPaging(inv)
}

// checkPaging turns paging off where the operation's own token or limit
// flag was given, and refuses paging flags without paging, as the AWS
// CLI's check_should_enable_pagination does (exit 255).
func checkPaging(inv *invocation) error {
	if inv.paging.ownToken {
		inv.paginate = false
	}
	if used := inv.paging.used(); !inv.paginate && len(used) > 0 {
		return &paginationError{msg: "Cannot specify --no-paginate along with pagination arguments: " + strings.Join(used, ", ")}
	}
	return nil
}

// paramFile resolves the AWS CLI's file:// (the file's text) for any
// value.
func paramFile(flag, v string) (string, error) {
	if path, ok := strings.CutPrefix(v, "file://"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", usagef("Error parsing parameter '--%s': Unable to load paramfile %s: %v", flag, v, err)
		}
		return string(b), nil
	}
	return v, nil
}

// flagValue reads one flag's value for the member's shape.
func flagValue(flag string, sh *awsproto.Shape, v string) (any, error) {
	if sh.Type == "blob" {
		if path, ok := strings.CutPrefix(v, "fileb://"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, usagef("Error parsing parameter '--%s': Unable to load paramfile %s: %v", flag, v, err)
			}
			return b, nil
		}
	}
	v, err := paramFile(flag, v)
	if err != nil {
		return nil, err
	}
	switch sh.Type {
	case "string", "timestamp":
		return v, nil
	case "blob":
		return []byte(v), nil
	case "integer", "long":
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return nil, usagef("Error parsing parameter '--%s': invalid integer value %q", flag, v)
		}
		return json.Number(strings.TrimSpace(v)), nil
	case "float", "double":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return nil, usagef("Error parsing parameter '--%s': invalid number %q", flag, v)
		}
		return json.Number(strings.TrimSpace(v)), nil
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, usagef("Error parsing parameter '--%s': invalid boolean %q", flag, v)
		}
		return b, nil
	case "list":
		return listValue(flag, sh, []string{v})
	case "structure", "map":
		if strings.HasPrefix(strings.TrimSpace(v), "{") {
			var x any
			if err := decodeJSON([]byte(v), &x); err != nil {
				return nil, usagef("Error parsing parameter '--%s': Invalid JSON: %v\nJSON received: %s", flag, err, v)
			}
			return x, nil
		}
		return shorthand(flag, sh, v)
	}
	return nil, usagef("Error parsing parameter '--%s': the model's type %s is not supported", flag, sh.Type)
}

// listValue reads a list flag's values: one JSON array, or one value per
// element.
func listValue(flag string, sh *awsproto.Shape, vals []string) (any, error) {
	if len(vals) == 1 {
		v, err := paramFile(flag, vals[0])
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.TrimSpace(v), "[") {
			var x []any
			if err := decodeJSON([]byte(v), &x); err != nil {
				return nil, usagef("Error parsing parameter '--%s': Invalid JSON: %v\nJSON received: %s", flag, err, v)
			}
			return x, nil
		}
	}
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		x, err := flagValue(flag, sh.Member, v)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// shorthand reads the AWS CLI's shorthand for a structure or map of
// scalars: key=value,key2=value2.
func shorthand(flag string, sh *awsproto.Shape, v string) (any, error) {
	out := map[string]any{}
	for _, pair := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("Error parsing parameter '--%s': Expected: '=', received: %q for input: %s", flag, pair, v)
		}
		member := sh.Value
		if sh.Type == "structure" {
			if member = sh.Members[k]; member == nil {
				return nil, usagef("Error parsing parameter '--%s': Unknown key %q, valid keys: %v", flag, k, sh.MemberNames)
			}
		}
		if member.Type == "structure" || member.Type == "list" || member.Type == "map" {
			return nil, usagef("Error parsing parameter '--%s': the shorthand takes scalars only; give %q as JSON", flag, k)
		}
		x, err := flagValue(flag, member, val)
		if err != nil {
			return nil, err
		}
		out[k] = x
	}
	return out, nil
}

// decodeJSON decodes one JSON value keeping numbers as written.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("extra data after the JSON value")
	}
	return nil
}

// toWire walks a value by its shape, checking its type and turning blobs
// into the base64 the JSON protocol carries.
func toWire(svc *service, sh *awsproto.Shape, v any) (any, error) {
	switch sh.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Invalid type for %s: want a structure, got %T", sh.Name, v)
		}
		out := map[string]any{}
		for k, x := range m {
			member := sh.Members[k]
			if member == nil {
				return nil, fmt.Errorf("Unknown parameter %q in %s, must be one of: %s", k, sh.Name, strings.Join(svc.members(sh), ", "))
			}
			w, err := toWire(svc, member, x)
			if err != nil {
				return nil, err
			}
			out[k] = w
		}
		return out, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("Invalid type for %s: want a list, got %T", sh.Name, v)
		}
		out := make([]any, len(l))
		for i, x := range l {
			w, err := toWire(svc, sh.Member, x)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("Invalid type for %s: want a map, got %T", sh.Name, v)
		}
		out := map[string]any{}
		for k, x := range m {
			w, err := toWire(svc, sh.Value, x)
			if err != nil {
				return nil, err
			}
			out[k] = w
		}
		return out, nil
	case "blob":
		switch b := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(b), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(b)), nil
		}
		return nil, fmt.Errorf("Invalid type for %s: want bytes, got %T", sh.Name, v)
	}
	return v, nil
}
