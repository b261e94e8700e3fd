package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SerializationError is a request body that is not the JSON its operation
// takes: not one JSON object, trailing data, or a member of the wrong JSON
// type. AWS answers it with SerializationException.
type SerializationError struct{ Message string }

func (e *SerializationError) Error() string { return e.Message }

// Violation is one model constraint a request breaks.
type Violation struct {
	// Path names the member as the model spells it: "imageIds",
	// "imageIds.1.member.imageTag" (list items count from 1), "tags.key".
	Path string
	// Constraint is AWS's text for it, e.g. "Member must not be null".
	Constraint string
}

// ValidationError lists every constraint a request breaks, in the order
// found. AWS's JSON services answer the first with InvalidParameterException
// (ECR) or ValidationException.
type ValidationError struct{ Violations []Violation }

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", v.Path, v.Constraint)
	}
	return b.String()
}

// Check reads a JSON 1.1 request body for the input shape: strictly (one
// JSON object and nothing after it; member names matched exactly; JSON null
// taken as absent) and against every constraint of the model. It returns
// the body a decoder may read: body itself, or, when it has members the
// model does not name (which AWS ignores), a copy without them, so that a
// decoder matching names loosely cannot pick them up. The error is a
// *SerializationError or a *ValidationError. It reads the body once,
// without copying its strings (a layer part's base64 is counted, not
// decoded); what it does not check of JSON's grammar (escapes, control
// characters in strings) the decoder that follows does.
func Check(in *Shape, body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	c, err := walk(in, body, "request body", false)
	if err != nil {
		return nil, err
	}
	if c.unknown {
		return withoutUnknown(in, body)
	}
	return body, nil
}

type checker struct {
	b          []byte
	i          int
	violations []Violation
	unknown    bool // a structure had a member the model does not name
	depth      int
	// output: the body is an answer, which must name only members the
	// model has.
	output bool
}

// CheckOutput checks a JSON 1.1 answer body against the output shape: one
// JSON object, every member named as the model names it (a misspelled one
// is refused), of its type, with its enum values, and every required member
// present. Lengths, patterns and ranges are not checked: AWS's own answers
// do not keep them (an empty ListImages sends "imageIds": [], below the
// list's minimum of 1). For tests: what berth sends must be what the model
// says AWS sends.
func CheckOutput(out *Shape, body []byte) error {
	_, err := walk(out, body, "answer", true)
	return err
}

// walk reads body (what names it in messages) as one JSON object of shape
// s and nothing after it.
func walk(s *Shape, body []byte, what string, output bool) (*checker, error) {
	if s == nil {
		s = &Shape{Type: "structure"}
	}
	c := &checker{b: body, output: output}
	c.ws()
	if c.peek() != '{' {
		return nil, &SerializationError{"The " + what + " must be one JSON object"}
	}
	c.i++
	if err := c.structure(s, ""); err != nil {
		return nil, err
	}
	c.ws()
	if c.i < len(c.b) {
		return nil, &SerializationError{"The " + what + " has data after its JSON object"}
	}
	if len(c.violations) > 0 {
		return nil, &ValidationError{c.violations}
	}
	return c, nil
}

// maxDepth bounds nesting, so that no body can exhaust the stack.
const maxDepth = 64

var errSyntax = &SerializationError{"The request body is not valid JSON"}

func (c *checker) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// peek is the next byte, or 0 at the end.
func (c *checker) peek() byte {
	if c.i < len(c.b) {
		return c.b[c.i]
	}
	return 0
}

// expect consumes b after white space.
func (c *checker) expect(b byte) error {
	c.ws()
	if c.peek() != b {
		return errSyntax
	}
	c.i++
	return nil
}

// str reads a string whose opening quote is next: its raw bytes between
// the quotes, and whether they hold escapes.
func (c *checker) str() (raw []byte, escaped bool, err error) {
	c.i++ // the opening quote
	start := c.i
	for {
		q := bytes.IndexByte(c.b[c.i:], '"')
		if q < 0 {
			return nil, false, errSyntax
		}
		bs := bytes.IndexByte(c.b[c.i:c.i+q], '\\')
		if bs < 0 {
			c.i += q + 1
			return c.b[start : c.i-1], escaped, nil
		}
		escaped = true
		c.i += bs + 2 // the backslash and the byte it escapes
		if c.i > len(c.b) {
			return nil, false, errSyntax
		}
	}
}

// text is a string's value; only an escaped one is decoded.
func text(raw []byte, escaped bool) (string, error) {
	if !escaped {
		return string(raw), nil
	}
	var v string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &v); err != nil {
		return "", errSyntax
	}
	return v, nil
}

// literal reads true, false, null or a number; kind is 't', 'f', 'n' or '0'.
func (c *checker) literal() (kind byte, raw []byte, err error) {
	start := c.i
	switch c.peek() {
	case 't', 'f', 'n':
		for _, w := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(c.b[c.i:], []byte(w)) {
				c.i += len(w)
				return w[0], c.b[start:c.i], nil
			}
		}
		return 0, nil, errSyntax
	}
	for c.i < len(c.b) && strings.IndexByte("-+.eE0123456789", c.b[c.i]) >= 0 {
		c.i++
	}
	raw = c.b[start:c.i]
	if _, err := strconv.ParseFloat(string(raw), 64); err != nil || raw[0] == '+' || raw[0] == '.' {
		return 0, nil, errSyntax
	}
	return '0', raw, nil
}

func (c *checker) violate(path, format string, args ...any) {
	c.violations = append(c.violations, Violation{Path: path, Constraint: fmt.Sprintf(format, args...)})
}

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

// members reads an object whose '{' has been read, calling fn for each
// member with its name; fn reads the value.
func (c *checker) members(fn func(name string) error) error {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return &SerializationError{fmt.Sprintf("The request body nests deeper than %d levels", maxDepth)}
	}
	c.ws()
	if c.peek() == '}' {
		c.i++
		return nil
	}
	for {
		c.ws()
		if c.peek() != '"' {
			return errSyntax
		}
		raw, escaped, err := c.str()
		if err != nil {
			return err
		}
		name, err := text(raw, escaped)
		if err != nil {
			return err
		}
		if err := c.expect(':'); err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
		c.ws()
		switch c.peek() {
		case ',':
			c.i++
		case '}':
			c.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// structure reads the members of an object whose '{' has been read.
func (c *checker) structure(s *Shape, path string) error {
	var seen map[string]bool
	err := c.members(func(name string) error {
		ms := s.Members[name]
		if ms == nil {
			c.unknown = true
			if c.output {
				c.violate(join(path, name), "Member is not in the model")
			}
			return c.skip()
		}
		present, err := c.value(ms, join(path, name))
		if present {
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[name] = true
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range s.Required {
		if !seen[r] {
			c.violate(join(path, r), "Member must not be null")
		}
	}
	return nil
}

// skip reads one value of any kind.
func (c *checker) skip() error {
	_, err := c.value(&Shape{Type: "any"}, "")
	return err
}

var kinds = map[string]string{
	"structure": "a structure (JSON object)", "map": "a map (JSON object)", "list": "a list (JSON array)",
	"string": "a string", "blob": "a base64 string", "boolean": "a boolean", "timestamp": "a timestamp (epoch seconds)",
	"integer": "an integer", "long": "an integer", "float": "a number", "double": "a number",
}

func wrongType(s *Shape, path string) error {
	return &SerializationError{fmt.Sprintf("Member '%s' must be %s", path, kinds[s.Type])}
}

// value reads one value of shape s (of any shape for the type "any");
// present is false for JSON null, which AWS takes as the member being
// absent.
func (c *checker) value(s *Shape, path string) (present bool, err error) {
	c.ws()
	switch b := c.peek(); {
	case b == '{':
		c.i++
		switch s.Type {
		case "structure":
			return true, c.structure(s, path)
		case "map":
			return true, c.mapping(s, path)
		case "any":
			return true, c.members(func(string) error { return c.skip() })
		}
		return false, wrongType(s, path)
	case b == '[':
		c.i++
		if s.Type != "list" && s.Type != "any" {
			return false, wrongType(s, path)
		}
		return true, c.list(s, path)
	case b == '"':
		raw, escaped, err := c.str()
		if err != nil {
			return false, err
		}
		switch s.Type {
		case "string":
			if s.patternRE == nil && s.enumSet == nil {
				// Only a length to check (a manifest): no need to decode.
				c.length(s, path, rawLength(raw, escaped))
				break
			}
			v, err := text(raw, escaped)
			if err != nil {
				return false, err
			}
			c.string(s, path, v)
		case "blob":
			if escaped || len(raw)%4 != 0 {
				return false, &SerializationError{fmt.Sprintf("Member '%s' must be base64-encoded (padded, standard alphabet)", path)}
			}
			c.length(s, path, base64Length(raw))
		case "any":
		default:
			return false, wrongType(s, path)
		}
		return true, nil
	}
	kind, raw, err := c.literal()
	if err != nil {
		return false, err
	}
	switch {
	case kind == 'n':
		return false, nil
	case s.Type == "any":
	case kind == 't' || kind == 'f':
		if s.Type != "boolean" {
			return false, wrongType(s, path)
		}
	case s.Type == "integer" || s.Type == "long":
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || (s.Type == "integer" && (v < math.MinInt32 || v > math.MaxInt32)) {
			return false, &SerializationError{fmt.Sprintf("Member '%s' must be %s, got %s", path, kinds[s.Type], raw)}
		}
		c.number(s, path, v)
	case s.Type == "float" || s.Type == "double" || s.Type == "timestamp":
	default:
		return false, wrongType(s, path)
	}
	return true, nil
}

// list reads the items of an array whose '[' has been read.
func (c *checker) list(s *Shape, path string) error {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return &SerializationError{fmt.Sprintf("The request body nests deeper than %d levels", maxDepth)}
	}
	c.ws()
	if c.peek() == ']' {
		c.i++
		c.length(s, path, 0)
		return nil
	}
	item := s.Member
	if s.Type == "any" {
		item = s
	}
	for n := 1; ; n++ {
		p := ""
		if s.Type != "any" {
			p = path + "." + strconv.Itoa(n) + ".member"
		}
		present, err := c.value(item, p)
		if err != nil {
			return err
		}
		if !present && s.Type != "any" {
			c.violate(p, "Member must not be null")
		}
		c.ws()
		switch c.peek() {
		case ',':
			c.i++
		case ']':
			c.i++
			if s.Type != "any" {
				c.length(s, path, n)
			}
			return nil
		default:
			return errSyntax
		}
	}
}

// mapping reads the entries of a map whose '{' has been read.
func (c *checker) mapping(s *Shape, path string) error {
	n := 0
	err := c.members(func(key string) error {
		n++
		c.string(s.Key, path+".key", key)
		present, err := c.value(s.Value, path+"."+key)
		if err == nil && !present {
			c.violate(path+"."+key, "Member must not be null")
		}
		return err
	})
	if err != nil {
		return err
	}
	c.length(s, path, n)
	return nil
}

// textLength is a string's length as AWS counts it, in UTF-16 units.
func textLength(v string) int {
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			for _, r := range v[i:] {
				n += utf16.RuneLen(r)
			}
			return n
		}
		n++
	}
	return n
}

// rawLength is textLength of a JSON string's value, counted in its raw
// bytes: an escape is one UTF-16 unit (\uD83D\uDE00 is two, as the
// character it spells).
func rawLength(raw []byte, escaped bool) int {
	if !escaped {
		return textLength(string(raw)) // no copy: the conversion is only read
	}
	n := 0
	for i := 0; i < len(raw); {
		switch b := raw[i]; {
		case b == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			i += 6
		case b == '\\':
			i += 2
		case b < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			i += size
			n += utf16.RuneLen(r) - 1
		}
		n++
	}
	return n
}

// base64Length is the decoded length of padded base64.
func base64Length(raw []byte) int {
	n := len(raw) / 4 * 3
	switch {
	case bytes.HasSuffix(raw, []byte("==")):
		n -= 2
	case bytes.HasSuffix(raw, []byte("=")):
		n--
	}
	return n
}

func (c *checker) string(s *Shape, path, v string) {
	c.length(s, path, textLength(v))
	if s.patternRE != nil && !c.output && !s.patternRE.MatchString(v) {
		c.violate(path, "Member must satisfy regular expression pattern: %s", s.Pattern)
	}
	if s.enumSet != nil && !s.enumSet[v] {
		c.violate(path, "Member must satisfy enum value set: [%s]", strings.Join(s.Enum, ", "))
	}
}

func (c *checker) length(s *Shape, path string, n int) {
	if c.output {
		return // AWS's answers keep no bounds: ListImages sends "imageIds": []
	}
	switch {
	case s.Min != nil && int64(n) < *s.Min:
		c.violate(path, "Member must have length greater than or equal to %d", *s.Min)
	case s.Max != nil && int64(n) > *s.Max:
		c.violate(path, "Member must have length less than or equal to %d", *s.Max)
	}
}

func (c *checker) number(s *Shape, path string, v int64) {
	if c.output {
		return
	}
	switch {
	case s.Min != nil && v < *s.Min:
		c.violate(path, "Member must have value greater than or equal to %d", *s.Min)
	case s.Max != nil && v > *s.Max:
		c.violate(path, "Member must have value less than or equal to %d", *s.Max)
	}
}

// withoutUnknown re-encodes body without the members the model does not
// name. Rare: only bodies that carry such members pay for it.
func withoutUnknown(in *Shape, body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &SerializationError{"The request body is not valid JSON"}
	}
	prune(in, v)
	out, err := json.Marshal(v)
	if err != nil {
		return nil, errors.Join(errors.New("awsproto: re-encoding a request"), err)
	}
	return out, nil
}

func prune(s *Shape, v any) {
	switch s.Type {
	case "structure":
		obj, _ := v.(map[string]any)
		for k, mv := range obj {
			ms := s.Members[k]
			if ms == nil {
				delete(obj, k)
				continue
			}
			prune(ms, mv)
		}
	case "list":
		arr, _ := v.([]any)
		for _, item := range arr {
			prune(s.Member, item)
		}
	case "map":
		obj, _ := v.(map[string]any)
		for _, mv := range obj {
			prune(s.Value, mv)
		}
	}
}
