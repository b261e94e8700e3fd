package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/awsproto"
)

// validate checks an operation's input before it is sent, as botocore's
// ParamValidator does (botocore/validate.py) for every call the AWS CLI
// makes: each value's Python type; the members a structure requires; the
// members it does not have; and the "min" of the model, a string's or a
// list's length, a number's value. Nothing more: not "max", not patterns,
// not enums, and not a map's length (its keys are strings, checked as
// such). Every error is reported, in botocore's order: in each structure
// the missing members, then the unknown ones, then each member's own, in
// the input's order.
func validate(svc *service, sh *awsproto.Shape, input *object) error {
	if sh == nil {
		return nil
	}
	var errs []string
	checkValue(svc, sh, input, "", &errs)
	if len(errs) == 0 {
		return nil
	}
	return &paramError{msg: "Parameter validation failed:\n" + strings.Join(errs, "\n")}
}

// paramError is a parameter the AWS CLI refuses before any call: its
// ParamError ("Error parsing parameter ...") or botocore's
// ParamValidationError. Both print as "\n<message>\n"; AWS CLI v2 exits
// 252 for them (ParamValidationErrorsHandler), v1 255.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

func paramErrorf(flag, format string, args ...any) error {
	return &paramError{msg: fmt.Sprintf("Error parsing parameter '%s': ", flag) + fmt.Sprintf(format, args...)}
}

// pyTypes are the Python types botocore accepts for each of the model's,
// as its messages print them.
var pyTypes = map[string]string{
	"structure": "<class 'dict'>",
	"map":       "<class 'dict'>",
	"list":      "<class 'list'>, <class 'tuple'>",
	"string":    "<class 'str'>",
	"integer":   "<class 'int'>",
	"long":      "<class 'int'>",
	"float":     "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
	"double":    "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
	"boolean":   "<class 'bool'>",
	"blob":      "<class 'bytes'>, <class 'bytearray'>, file-like object",
	"timestamp": "<class 'datetime.datetime'>, timestamp-string",
}

// paramName is how botocore names a value in its messages: "input" for
// the whole, else the path without its leading dot.
func paramName(name string) string {
	if name == "" {
		return "input"
	}
	return strings.TrimPrefix(name, ".")
}

func checkValue(svc *service, sh *awsproto.Shape, v any, name string, errs *[]string) {
	report := func(format string, args ...any) {
		*errs = append(*errs, fmt.Sprintf(format, args...))
	}
	invalidType := func() {
		report("Invalid type for parameter %s, value: %s, type: %s, valid types: %s", paramName(name), pyStrValue(v), pyTypeName(v), pyTypes[sh.Type])
	}
	length := func(n int) {
		if sh.Min != nil && int64(n) < *sh.Min {
			report("Invalid length for parameter %s, value: %d, valid min length: %d", paramName(name), n, *sh.Min)
		}
	}
	switch sh.Type {
	case "structure":
		o, ok := v.(*object)
		if !ok {
			invalidType()
			return
		}
		for _, r := range sh.Required {
			if !o.has(r) {
				report("Missing required parameter in %s: \"%s\"", paramName(name), r)
			}
		}
		var known []string
		for _, k := range o.keys {
			if sh.Members[k] == nil {
				report("Unknown parameter in %s: \"%s\", must be one of: %s", paramName(name), k, strings.Join(svc.members(sh), ", "))
			} else {
				known = append(known, k)
			}
		}
		for _, k := range known {
			checkValue(svc, sh.Members[k], o.vals[k], name+"."+k, errs)
		}
	case "map":
		o, ok := v.(*object)
		if !ok {
			invalidType()
			return
		}
		for _, k := range o.keys {
			if sh.Key != nil {
				checkValue(svc, sh.Key, k, fmt.Sprintf("%s (key: %s)", name, k), errs)
			}
			checkValue(svc, sh.Value, o.vals[k], name+"."+k, errs)
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			invalidType()
			return
		}
		length(len(l))
		for i, e := range l {
			checkValue(svc, sh.Member, e, fmt.Sprintf("%s[%d]", name, i), errs)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			invalidType()
			return
		}
		length(utf8.RuneCountInString(s))
	case "integer", "long", "float", "double":
		// Python's bool is an int, so true passes as 1; a float passes
		// where the model has a float or a double.
		n, ok := pyNumberValue(v, sh.Type == "float" || sh.Type == "double")
		if !ok {
			invalidType()
			return
		}
		if sh.Min != nil && n < float64(*sh.Min) {
			report("Invalid value for parameter %s, value: %s, valid min value: %d", paramName(name), pyStrValue(v), *sh.Min)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			invalidType()
		}
	case "blob":
		switch v.(type) {
		case []byte, string:
		default:
			invalidType()
		}
	case "timestamp":
		// botocore takes a datetime, or what dateutil parses: any string
		// or number is let through to the service to judge.
		switch v.(type) {
		case string, json.Number:
		default:
			invalidType()
		}
	}
}

// pyNumberValue is a number's value, if Python would take it for an int
// (or, where floats are welcome, a float).
func pyNumberValue(v any, floats bool) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case json.Number:
		if !isInt(x) && !floats {
			return 0, false
		}
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, floats
	}
	return 0, false
}
