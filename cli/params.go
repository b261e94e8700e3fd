package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/awsproto"
	jmespath "github.com/jmespath-community/go-jmespath"
)

// invocation is a parsed command line: the operation's input and the
// global options.
type invocation struct {
	// input is the operation's input as the AWS CLI hands it to botocore
	// (see pyvalue.go), checked and written to the wire by call.
	input    *object
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

// rawArg is one member flag's value as argparse leaves it: a string, the
// strings of a list flag, or a boolean flag's.
type rawArg struct {
	s      string
	list   []string
	isList bool
	b      *bool
}

// parseArgs reads an operation's command line as the AWS CLI does: one
// flag per input member (kebab-case), the global options, then
// --cli-input-json under the flags. The flags' values are turned into
// the input in the model's order of the members (awscli's
// _build_call_parameters), which is the order the request's JSON has.
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
	raw := map[string]rawArg{}
	var cliInput *string
	// --cli-input-json, spelled so as an argument of its own, makes no
	// flag required (awscli's OverrideRequiredArgsArgument): what it
	// lacks is the validation's to report.
	overrideRequired := slices.Contains(args, "--cli-input-json")
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
			var v string
			if v, err = value(); err == nil {
				cliInput = &v
			}
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
				b := !negated
				raw[member] = rawArg{b: &b}
				continue
			case negated:
				return nil, usagef("Unknown options: --%s", name)
			case sh.Type == "list" && !hasInline:
				// nargs="+": every argument up to the next flag.
				var vals []string
				for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
					i++
					vals = append(vals, args[i])
				}
				if len(vals) == 0 {
					return nil, usagef("argument --%s: expected at least one argument", name)
				}
				raw[member] = rawArg{list: vals, isList: true}
			case sh.Type == "list":
				raw[member] = rawArg{list: []string{inline}, isList: true}
			default:
				var v string
				if v, err = value(); err == nil {
					raw[member] = rawArg{s: v}
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
	if !overrideRequired {
		var missing []string
		for _, mn := range members {
			if _, ok := raw[mn]; op.Input.IsRequired(mn) && !ok {
				missing = append(missing, "--"+kebab(mn))
			}
		}
		if len(missing) > 0 {
			return nil, usagef("the following arguments are required: %s", strings.Join(missing, ", "))
		}
	}
	// The paging check comes before any value is read, as the AWS CLI's
	// (on operation-args-parsed).
	if err := checkPaging(inv); err != nil {
		return nil, err
	}
	input := newObject()
	for _, mn := range members {
		r, ok := raw[mn]
		if !ok {
			continue
		}
		v, err := unpackArg("--"+kebab(mn), op.Input.Members[mn], r, getenv)
		if err != nil {
			return nil, err
		}
		input.set(mn, v)
	}
	if pg != nil && !inv.paginate && inv.paging.given() {
		// Paging flags of no value (0, "") pass the AWS CLI's check but,
		// with paging off, go to the operation itself as its
		// PaginationConfig, which the validation refuses.
		cfg := newObject()
		if p := inv.paging.startingToken; p != nil {
			cfg.set("StartingToken", *p)
		}
		if p := inv.paging.pageSize; p != nil {
			cfg.set("PageSize", json.Number(strconv.FormatInt(*p, 10)))
		}
		if p := inv.paging.maxItems; p != nil {
			cfg.set("MaxItems", json.Number(strconv.FormatInt(*p, 10)))
		}
		input.set("PaginationConfig", cfg)
	}
	if cliInput != nil {
		if err := addCLIInput(input, *cliInput, getenv); err != nil {
			return nil, err
		}
	}
	inv.input = input
	return inv, nil
}

// addCLIInput adds --cli-input-json's members that no flag set, as
// awscli's CliInputJSONArgument does (a plain dict, not an OrderedDict).
func addCLIInput(input *object, v string, getenv func(string) string) error {
	text := []byte(v)
	data, ok, err := loadParamFile(v, getenv)
	if err != nil {
		return paramErrorf("--cli-input-json", "%v", err)
	}
	if ok {
		switch d := data.(type) {
		case string:
			text = []byte(d)
		case []byte:
			text = d
		}
	}
	loaded, err := pyLoads(text, false)
	if err != nil {
		// Its ParamError names the argument without its dashes.
		return paramErrorf("cli-input-json", "Invalid JSON: %v\nJSON received: %s", err, text)
	}
	o, ok := loaded.(*object)
	if !ok {
		return fmt.Errorf("'%s' object has no attribute 'keys'", pyTypeShort(loaded))
	}
	for _, k := range o.keys {
		if !input.has(k) {
			input.set(k, o.vals[k])
		}
	}
	return nil
}

// pyException is a Python exception the AWS CLI does not catch where it
// reads parameters (an IndexError, an AttributeError): printed as is,
// exit 255.
type pyException struct{ msg string }

func (e *pyException) Error() string { return e.msg }

// unpackArg turns one member flag's value into the input's, as awscli's
// unpack_argument and add_to_params do: a file:// or fileb:// value is
// the file's text or bytes (load-cli-arg); then a structure, a map or a
// list of them not written as JSON is read as shorthand (process-cli-arg);
// anything else is unpack_cli_arg's: JSON for structures and maps, JSON
// or one element per argument for lists, int() for numbers.
func unpackArg(flag string, sh *awsproto.Shape, r rawArg, getenv func(string) string) (any, error) {
	if r.b != nil {
		return *r.b, nil
	}
	var value any = r.s
	one := r.s
	if r.isList {
		value = r.list
		if len(r.list) != 1 {
			one = ""
		} else {
			one = r.list[0]
		}
	}
	data, ok, err := loadParamFile(one, getenv)
	if err != nil {
		return nil, paramErrorf(flag, "%v", err)
	}
	if ok {
		value = data
	}
	if supportsShorthand(sh) && !looksLikeJSON(value) {
		return shorthandArg(flag, sh, value, getenv)
	}
	return unpackCLIArg(flag, sh, value)
}

// supportsShorthand is whether the AWS CLI reads a parameter's shorthand:
// a structure, a map, or a list of them (a list of scalars is one value
// per argument).
func supportsShorthand(sh *awsproto.Shape) bool {
	switch sh.Type {
	case "structure", "map":
		return true
	case "list":
		t := sh.Member.Type
		return t == "structure" || t == "list" || t == "map"
	}
	return false
}

// looksLikeJSON is whether a value (a list's first) starts with [ or {,
// leading and trailing space aside: it is then JSON, not shorthand.
func looksLikeJSON(v any) bool {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []string:
		s = x[0]
	default:
		return false
	}
	s = strings.TrimFunc(s, pyIsSpace)
	return strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{")
}

// shorthandArg reads a parameter's shorthand: one dict, or one per
// argument of a list flag, then the model's conversions.
func shorthandArg(flag string, sh *awsproto.Shape, value any, getenv func(string) string) (any, error) {
	wrap := func(err error) error {
		if s, ok := err.(*shorthandError); ok {
			return paramErrorf(flag, "%s", s.msg)
		}
		return err
	}
	var parsed any
	switch x := value.(type) {
	case []string:
		l := make([]any, len(x))
		for i, v := range x {
			o, err := parseShorthand(v, getenv)
			if err != nil {
				return nil, wrap(err)
			}
			l[i] = o
		}
		parsed = l
	case string:
		o, err := parseShorthand(x, getenv)
		if err != nil {
			return nil, wrap(err)
		}
		parsed = o
	default:
		// fileb:// bytes: Python's parser fails on its first
		// comparison of a byte with the key's characters.
		return nil, &pyException{msg: "'in <string>' requires string as left operand, not int"}
	}
	// The conversions change the containers in place; what they would
	// put in place of the whole is dropped, as the AWS CLI drops it (a
	// file's one dict for a list stays a dict).
	if _, err := backCompat(sh, parsed); err != nil {
		return nil, err
	}
	return parsed, nil
}

// unpackCLIArg is awscli's unpack_cli_arg for a value that is not
// shorthand.
func unpackCLIArg(flag string, sh *awsproto.Shape, value any) (any, error) {
	switch sh.Type {
	case "integer", "long":
		return pyIntOf(value)
	case "float", "double":
		return pyFloatOf(value)
	case "structure", "map":
		s, ok := value.(string)
		if !ok {
			return nil, paramErrorf(flag, "Invalid JSON:\n%s", pyStrValue(value))
		}
		t := strings.TrimLeftFunc(s, pyIsSpace)
		if t == "" {
			return nil, &pyException{msg: "string index out of range"}
		}
		if t[0] != '{' {
			return nil, paramErrorf(flag, "Invalid JSON:\n%s", s)
		}
		return jsonArg(flag, s)
	case "list":
		var elems []any
		switch x := value.(type) {
		case string:
			t := strings.TrimLeftFunc(x, pyIsSpace)
			if t == "" {
				return nil, &pyException{msg: "string index out of range"}
			}
			if t[0] == '[' {
				return jsonArg(flag, x)
			}
			// A file's text that is not JSON: Python iterates its
			// characters.
			for _, r := range x {
				elems = append(elems, string(r))
			}
		case []string:
			if len(x) == 1 {
				if t := strings.TrimFunc(x[0], pyIsSpace); t != "" && t[0] == '[' {
					return jsonArg(flag, x[0])
				}
			}
			for _, e := range x {
				elems = append(elems, e)
			}
		case []byte:
			for _, c := range x {
				elems = append(elems, json.Number(strconv.Itoa(int(c))))
			}
		}
		out := make([]any, 0, len(elems))
		for _, e := range elems {
			v, err := unpackCLIArg(flag, sh.Member, e)
			if err != nil {
				switch err.(type) {
				case *paramError, *pyException:
					return nil, err
				}
				// int() refusing an element: the AWS CLI names the
				// first.
				return nil, paramErrorf(flag, "%s", pyStrValue(elems[0]))
			}
			out = append(out, v)
		}
		return out, nil
	}
	if s, ok := value.([]string); ok {
		// A list flag's value where the model has a scalar: not
		// reachable from argparse, kept whole.
		l := make([]any, len(s))
		for i, e := range s {
			l[i] = e
		}
		return l, nil
	}
	return value, nil
}

// jsonArg decodes a parameter's JSON into OrderedDicts, as the AWS CLI
// does.
func jsonArg(flag, s string) (any, error) {
	v, err := pyLoads([]byte(s), true)
	if err != nil {
		return nil, paramErrorf(flag, "Invalid JSON: %v\nJSON received: %s", err, s)
	}
	return v, nil
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
