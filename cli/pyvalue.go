package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/berth-registry/berth/awsproto"
)

// An operation's input is built as the AWS CLI builds it, in the Python
// values botocore validates and serializes: dicts that keep the order
// their keys were set in, strings, ints and floats (json.Number, as
// written), bools, None (nil), bytes ([]byte, from fileb://) and lists
// ([]any). The order is what the request's JSON is written in, and the
// Python types are what the validation's messages name, so both come out
// byte for byte as the AWS CLI's.

// object is a Python dict: its keys in the order they were first set.
type object struct {
	keys []string
	vals map[string]any
	// odict is an OrderedDict, what the AWS CLI decodes a parameter's
	// JSON into; Python prints one otherwise than a dict.
	odict bool
}

func newObject() *object { return &object{vals: map[string]any{}} }

// set sets k, a new key after the others, as a Python dict keeps them.
func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

func (o *object) has(k string) bool {
	_, ok := o.vals[k]
	return ok
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// clone copies the dict, not the values it holds.
func (o *object) clone() *object {
	c := &object{keys: append([]string(nil), o.keys...), vals: make(map[string]any, len(o.vals)), odict: o.odict}
	for k, v := range o.vals {
		c.vals[k] = v
	}
	return c
}

// toObject turns a value built in Go (maps, []any, strings, numbers) into
// input values, each structure's members in the model's order, for the
// verbs' calls.
func toObject(svc *service, sh *awsproto.Shape, v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := newObject()
		var order []string
		if sh != nil && sh.Type == "structure" {
			order = svc.members(sh)
		}
		for _, k := range order {
			if e, ok := x[k]; ok {
				o.set(k, toObject(svc, sh.Members[k], e))
			}
		}
		rest := make([]string, 0, len(x))
		for k := range x {
			if !o.has(k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			{
				var esh *awsproto.Shape
				if sh != nil && sh.Type == "map" {
					esh = sh.Value
				}
				o.set(k, toObject(svc, esh, x[k]))
			}
		}
		return o
	case []any:
		out := make([]any, len(x))
		var esh *awsproto.Shape
		if sh != nil {
			esh = sh.Member
		}
		for i, e := range x {
			out[i] = toObject(svc, esh, e)
		}
		return out
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	}
	return v
}

// isInt is whether a number is a Python int: JSON's without a fraction or
// an exponent.
func isInt(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

// pyIntText spells an int as Python's str(): -0 is 0.
func pyIntText(n json.Number) string {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	return string(n)
}

// pyStrValue is Python's str() of an input value, as botocore's messages
// quote the value they refuse.
func pyStrValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	}
	return pyReprValue(v)
}

// pyReprValue is Python's repr() of an input value.
func pyReprValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyRepr(x, nil)
	case json.Number:
		if isInt(x) {
			return pyIntText(x)
		}
		return pyNumber(string(x))
	case float64: // NaN and the infinities
		switch {
		case math.IsNaN(x):
			return "nan"
		case x > 0:
			return "inf"
		}
		return "-inf"
	case []byte:
		return pyBytesRepr(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyReprValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *object:
		if x.odict {
			// Python 3.11's; 3.12 prints OrderedDict({'a': 1}).
			if len(x.keys) == 0 {
				return "OrderedDict()"
			}
			parts := make([]string, len(x.keys))
			for i, k := range x.keys {
				parts[i] = "(" + pyRepr(k, nil) + ", " + pyReprValue(x.vals[k]) + ")"
			}
			return "OrderedDict([" + strings.Join(parts, ", ") + "])"
		}
		parts := make([]string, len(x.keys))
		for i, k := range x.keys {
			parts[i] = pyRepr(k, nil) + ": " + pyReprValue(x.vals[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyBytesRepr is Python's repr() of bytes: b'...'.
func pyBytesRepr(b []byte) string {
	q := byte('\'')
	if bytes.IndexByte(b, '\'') >= 0 && bytes.IndexByte(b, '"') < 0 {
		q = '"'
	}
	var s strings.Builder
	s.WriteString("b" + string(q))
	for _, c := range b {
		switch {
		case c == '\\' || c == q:
			s.WriteByte('\\')
			s.WriteByte(c)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\r':
			s.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&s, `\x%02x`, c)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteByte(q)
	return s.String()
}

// pyTypeName is Python's str() of an input value's type.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "<class 'NoneType'>"
	case bool:
		return "<class 'bool'>"
	case string:
		return "<class 'str'>"
	case json.Number:
		if isInt(x) {
			return "<class 'int'>"
		}
		return "<class 'float'>"
	case float64:
		return "<class 'float'>"
	case []byte:
		return "<class 'bytes'>"
	case []any:
		return "<class 'list'>"
	case *object:
		if x.odict {
			return "<class 'collections.OrderedDict'>"
		}
		return "<class 'dict'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}

// pyTypeShort is the type's name alone, as Python's TypeErrors name it.
func pyTypeShort(v any) string {
	t := pyTypeName(v)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "<class '"), "'>")
	return strings.TrimPrefix(t, "collections.")
}

// pyDumps writes an input as botocore's JSON serializer does: each value
// by its shape (bytes and strings of a blob in base64), through Python's
// json.dumps (", " and ": " between items, everything outside printable
// ASCII escaped), the dicts' keys in their order.
func pyDumps(b *strings.Builder, sh *awsproto.Shape, v any) {
	if sh != nil && sh.Type == "blob" {
		switch x := v.(type) {
		case []byte:
			pyJSON(b, base64.StdEncoding.EncodeToString(x))
			return
		case string:
			pyJSON(b, base64.StdEncoding.EncodeToString([]byte(x)))
			return
		}
	}
	switch x := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSON(b, k)
			b.WriteString(": ")
			var esh *awsproto.Shape
			if sh != nil {
				switch sh.Type {
				case "structure":
					esh = sh.Members[k]
				case "map":
					esh = sh.Value
				}
			}
			pyDumps(b, esh, x.vals[k])
		}
		b.WriteByte('}')
	case []any:
		var esh *awsproto.Shape
		if sh != nil {
			esh = sh.Member
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyDumps(b, esh, e)
		}
		b.WriteByte(']')
	case json.Number:
		if isInt(x) {
			b.WriteString(pyIntText(x))
		} else {
			b.WriteString(pyNumber(string(x)))
		}
	case float64: // json.dumps writes what JSON has no word for so
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case x > 0:
			b.WriteString("Infinity")
		default:
			b.WriteString("-Infinity")
		}
	case []byte:
		pyJSON(b, string(x))
	default:
		pyJSON(b, v)
	}
}

// paramFileError is awscli's ResourceLoadingError: a file:// or fileb://
// that cannot be read.
type paramFileError struct{ msg string }

func (e *paramFileError) Error() string { return e.msg }

// loadParamFile is awscli's get_paramfile for the local prefixes: the
// text of file://, the bytes of fileb://, ok false for any other value.
// The path has ~ and $VARs expanded, as os.path.expanduser and expandvars
// do.
func loadParamFile(v string, getenv func(string) string) (any, bool, error) {
	var prefix string
	switch {
	case strings.HasPrefix(v, "file://"):
		prefix = "file://"
	case strings.HasPrefix(v, "fileb://"):
		prefix = "fileb://"
	default:
		return nil, false, nil
	}
	path := expandVars(expandUser(v[len(prefix):], getenv), getenv)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, true, &paramFileError{msg: fmt.Sprintf("Unable to load paramfile %s: %s", v, pyOSError(err, path))}
	}
	if prefix == "fileb://" {
		return data, true, nil
	}
	// file:// is Python's text mode: UTF-8 (the locale's encoding), and
	// universal newlines, so a manifest written with CRLF is sent, and
	// hashed, with LF.
	if !utf8.Valid(data) {
		return nil, true, &paramFileError{msg: fmt.Sprintf("Unable to load paramfile (%s), text contents could not be decoded.  "+
			"If this is a binary file, please use the fileb:// prefix instead of the file:// prefix.", path)}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ReplaceAll(text, "\r", "\n"), true, nil
}

// pyOSError spells an error opening path as Python's OSError does.
func pyOSError(err error, path string) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		return fmt.Sprintf("[Errno %d] %s: %s", int(errno), msg, pyRepr(path, nil))
	}
	return err.Error()
}

func expandUser(p string, getenv func(string) string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, p[1:])
}

// expandVars is os.path.expandvars: $NAME and ${NAME} of set variables
// replaced, anything else left as written.
func expandVars(p string, getenv func(string) string) string {
	if !strings.Contains(p, "$") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '$' {
			b.WriteByte(p[i])
			continue
		}
		rest := p[i+1:]
		name, width := "", 0
		if strings.HasPrefix(rest, "{") {
			if end := strings.IndexByte(rest, '}'); end > 0 {
				name, width = rest[1:end], end+1
			}
		} else {
			n := 0
			for n < len(rest) && (rest[n] == '_' || rest[n] >= '0' && rest[n] <= '9' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z') {
				n++
			}
			name, width = rest[:n], n
		}
		if v, ok := lookupEnv(name, getenv); name != "" && ok {
			b.WriteString(v)
			i += width
			continue
		}
		b.WriteByte('$')
	}
	return b.String()
}

func lookupEnv(name string, getenv func(string) string) (string, bool) {
	if v := getenv(name); v != "" {
		return v, true
	}
	return os.LookupEnv(name)
}
