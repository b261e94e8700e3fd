package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/berth-registry/berth/awsproto"
)

// The AWS CLI's shorthand syntax (awscli/shorthand.py), for a parameter
// that is a structure, a map or a list of them:
//
//	--encryption-configuration encryptionType=KMS,kmsKey=arn:aws:kms:...
//	--image-ids imageTag=a imageTag=b                      (one argument per element)
//	--catalog-data 'architectures=x86-64,ARM 64,description=a\, b'
//	--rules 'scanFrequency=SCAN_ON_PUSH,repositoryFilters=[{filter=prod*,filterType=WILDCARD}]'
//	--tags Key=team,Value="a,b" Key=env,Value='x=y'
//
// The parser reads the text alone, into dicts, lists and strings, with
// the AWS CLI's grammar and its backtracking (a=b,c=d is two keys;
// a=b,c is a list), then a pass over the model (BackCompatVisitor) makes
// ints and bools of the strings where the model wants them, and a list of
// a lone value where it wants a list. Nothing else is checked here: an
// unknown key or a wrong type is left for the validation, which names it
// as botocore does.

// shorthandError is a shorthand value the parser cannot read; the AWS CLI
// prints it after "Error parsing parameter '--flag': ".
type shorthandError struct{ msg string }

func (e *shorthandError) Error() string { return e.msg }

// syntaxError is ShorthandParseSyntaxError: what was expected where. AWS
// CLI 1.45 prints "{self._error_location()}" in place of the location (a
// string it forgot to format); berth prints the location, as v2 and the
// AWS CLI before did.
func syntaxError(value []rune, expected, actual string, index int) *shorthandError {
	return &shorthandError{msg: fmt.Sprintf("Expected: '%s', received: '%s' for input:\n%s", expected, actual, errorLocation(value, index))}
}

// errorLocation is the input with a caret under index, on the line it is
// in.
func errorLocation(value []rune, index int) string {
	index = min(max(index, 0), len(value))
	consumed, remaining, spaces := string(value), "", index
	if i := lastRune(value[:index], '\n'); i >= 0 {
		spaces = index - i - 1
	}
	if i := firstRune(value[index:], '\n'); i >= 0 {
		consumed, remaining = string(value[:index+i]), string(value[index+i:])
	}
	return consumed + "\n" + strings.Repeat(" ", spaces) + "^" + remaining
}

func lastRune(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

func firstRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// shorthandParser is one parse: the input, where it is, and whether the
// current key was written key@= (its values are file:// or fileb://
// references to load).
type shorthandParser struct {
	in         []rune
	i          int
	paramfiles bool
	getenv     func(string) string
}

// parseShorthand reads one shorthand value into a dict.
func parseShorthand(s string, getenv func(string) string) (*object, error) {
	p := &shorthandParser{in: []rune(s), getenv: getenv}
	return p.parameter()
}

// parameter = keyval *("," keyval)
func (p *shorthandParser) parameter() (*object, error) {
	params := newObject()
	k, v, err := p.keyval()
	if err != nil {
		return nil, err
	}
	params.set(k, v)
	last := p.i
	for p.i < len(p.in) {
		if err := p.expect(',', true); err != nil {
			return nil, err
		}
		k, v, err := p.keyval()
		if err != nil {
			return nil, err
		}
		// A key twice is most likely a "," meant to be a space between
		// two elements of a list.
		if params.has(k) {
			return nil, &shorthandError{msg: fmt.Sprintf("Second instance of key \"%s\" encountered for input:\n%s\n"+
				"This is often because there is a preceding \",\" instead of a space.", k, errorLocation(p.in, last+1))}
		}
		params.set(k, v)
		last = p.i
	}
	return params, nil
}

// keyval = key "=" [values] / key "@=" [file-optional-values]
func (p *shorthandParser) keyval() (string, any, error) {
	key := p.key()
	p.paramfiles = false
	if p.expect('@', true) == nil {
		p.paramfiles = true
	}
	if err := p.expect('=', true); err != nil {
		return "", nil, err
	}
	v, err := p.values()
	return key, v, err
}

// key = 1*(ALPHA / DIGIT / "-" / "_" / "." / "#" / "/" / ":"), possibly
// empty.
func (p *shorthandParser) key() string {
	start := p.i
	for p.i < len(p.in) {
		r := p.in[p.i]
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.#/:", r)) {
			break
		}
		p.i++
	}
	return string(p.in[start:p.i])
}

// values = csv-list / explicit-list / hash-literal
func (p *shorthandParser) values() (any, error) {
	switch {
	case p.eof():
		return "", nil
	case p.cur() == '[':
		return p.explicitList()
	case p.cur() == '{':
		return p.hashLiteral()
	}
	return p.csvValue()
}

// csvValue is foo=bar (a string) or foo=bar,baz (a list). After a comma,
// a value followed by "=" is the next key's: back up to the comma.
func (p *shorthandParser) csvValue() (any, error) {
	first, err := p.firstValue()
	if err != nil {
		return nil, err
	}
	p.whitespace()
	if p.eof() || p.cur() != ',' {
		return first, nil
	}
	if err := p.expect(',', true); err != nil {
		return nil, err
	}
	list := []any{first}
	for {
		v, err := p.secondValue()
		if err == nil {
			p.whitespace()
			if p.eof() {
				list = append(list, v)
				break
			}
			if err = p.expect(',', true); err == nil {
				list = append(list, v)
				continue
			}
		}
		if _, syntax := err.(*shorthandError); !syntax || p.eof() {
			return nil, err
		}
		p.backtrackTo(',')
		break
	}
	if len(list) == 1 {
		return first, nil
	}
	return list, nil
}

// explicitList = "[" [value *("," value)] "]"
func (p *shorthandParser) explicitList() (any, error) {
	if err := p.expect('[', true); err != nil {
		return nil, err
	}
	values := []any{}
	for p.eof() || p.cur() != ']' {
		v, err := p.explicitValues()
		if err != nil {
			return nil, err
		}
		values = append(values, v)
		p.whitespace()
		if p.eof() || p.cur() != ']' {
			if err := p.expect(',', false); err != nil {
				return nil, err
			}
			p.whitespace()
		}
	}
	if err := p.expect(']', false); err != nil {
		return nil, err
	}
	return values, nil
}

func (p *shorthandParser) explicitValues() (any, error) {
	switch {
	case !p.eof() && p.cur() == '[':
		return p.explicitList()
	case !p.eof() && p.cur() == '{':
		return p.hashLiteral()
	}
	return p.firstValue()
}

// hashLiteral = "{" [keyval *("," keyval)] "}"; a key given twice keeps
// its first place and its last value, as a Python dict does.
func (p *shorthandParser) hashLiteral() (any, error) {
	if err := p.expect('{', true); err != nil {
		return nil, err
	}
	kv := newObject()
	for p.eof() || p.cur() != '}' {
		key := p.key()
		p.paramfiles = false
		if p.expect('@', true) == nil {
			p.paramfiles = true
		}
		if err := p.expect('=', true); err != nil {
			return nil, err
		}
		v, err := p.explicitValues()
		if err != nil {
			return nil, err
		}
		p.whitespace()
		if p.eof() || p.cur() != '}' {
			if err := p.expect(',', false); err != nil {
				return nil, err
			}
			p.whitespace()
		}
		kv.set(key, v)
	}
	if err := p.expect('}', false); err != nil {
		return nil, err
	}
	return kv, nil
}

// quotedValue reads a single- or double-quoted value if one starts here;
// ok reports whether one did.
func (p *shorthandParser) quotedValue() (v any, ok bool, err error) {
	if p.eof() {
		return nil, false, nil
	}
	switch p.cur() {
	case '\'':
		v, err = p.quoted('\'', "singled quoted")
	case '"':
		v, err = p.quoted('"', "double quoted")
	default:
		return nil, false, nil
	}
	return v, true, err
}

// firstValue = value / single-quoted-value / double-quoted-value
func (p *shorthandParser) firstValue() (any, error) {
	if v, ok, err := p.quotedValue(); ok {
		return v, err
	}
	n := p.match(isStartWord, isFirstFollow)
	if n == 0 {
		return "", nil
	}
	return p.plain(n)
}

func (p *shorthandParser) secondValue() (any, error) {
	if v, ok, err := p.quotedValue(); ok {
		return v, err
	}
	n := p.match(isStartWord, isSecondFollow)
	if n == 0 {
		return nil, syntaxError(p.in, "<second>", "<none>", p.i)
	}
	return p.plain(n)
}

// plain takes an unquoted value of n runes: "\," is a comma, trailing
// whitespace goes.
func (p *shorthandParser) plain(n int) (any, error) {
	v := string(p.in[p.i : p.i+n])
	p.i += n
	v = strings.TrimRightFunc(strings.ReplaceAll(v, `\,`, ","), pyIsSpace)
	return p.resolve(v)
}

// match is the length of the value regular expression's match at the
// current rune: ("\," | a start rune) ("\," | a follow rune)*.
func (p *shorthandParser) match(start, follow func(rune) bool) int {
	j := p.i
	escapedComma := func() bool { return j+1 < len(p.in) && p.in[j] == '\\' && p.in[j+1] == ',' }
	switch {
	case escapedComma():
		j += 2
	case j < len(p.in) && start(p.in[j]):
		j++
	default:
		return 0
	}
	for {
		switch {
		case escapedComma():
			j += 2
		case j < len(p.in) && follow(p.in[j]):
			j++
		default:
			return j - p.i
		}
	}
}

// quoted reads a quoted value: the quote, then \<quote> or any other rune
// up to the closing quote. The AWS CLI's regular expression backtracks:
// without a closing quote, the last \<quote> is a backslash and the
// closing quote. Then \<quote> is the quote and \\ a backslash.
func (p *shorthandParser) quoted(q rune, name string) (any, error) {
	end, lastEscaped := -1, -1
	for j := p.i + 1; j < len(p.in); j++ {
		if p.in[j] == '\\' && j+1 < len(p.in) && p.in[j+1] == q {
			lastEscaped = j + 1
			j++
			continue
		}
		if p.in[j] == q {
			end = j
			break
		}
	}
	if end < 0 {
		end = lastEscaped
	}
	if end < 0 {
		return nil, syntaxError(p.in, "<"+name+">", "<none>", p.i)
	}
	v := string(p.in[p.i+1 : end])
	p.i = end + 1
	v = strings.ReplaceAll(v, `\`+string(q), string(q))
	v = strings.ReplaceAll(v, `\\`, `\`)
	return p.resolve(v)
}

// resolve loads a key@= value's file:// or fileb://.
func (p *shorthandParser) resolve(v string) (any, error) {
	if !p.paramfiles {
		return v, nil
	}
	data, ok, err := loadParamFile(v, p.getenv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return v, nil
	}
	return data, nil
}

func (p *shorthandParser) expect(r rune, whitespace bool) error {
	if whitespace {
		p.whitespace()
	}
	if p.eof() {
		return syntaxError(p.in, string(r), "EOF", p.i)
	}
	if p.in[p.i] != r {
		return syntaxError(p.in, string(r), string(p.in[p.i]), p.i)
	}
	p.i++
	if whitespace {
		p.whitespace()
	}
	return nil
}

func (p *shorthandParser) eof() bool { return p.i >= len(p.in) }
func (p *shorthandParser) cur() rune { return p.in[p.i] }

func (p *shorthandParser) backtrackTo(r rune) {
	for p.i >= 0 && (p.i >= len(p.in) || p.in[p.i] != r) {
		p.i--
	}
}

// whitespace skips string.whitespace: ASCII's only.
func (p *shorthandParser) whitespace() {
	for !p.eof() && strings.ContainsRune(" \t\n\r\v\f", p.cur()) {
		p.i++
	}
}

// The character classes of the AWS CLI's value expressions. A value may
// not start with a space, a quote, ",", "=", "[" or "{", nor go on with a
// quote or ","; a first value (of a key, or in brackets) not with "]" or
// "}" either, a value after a comma not with "=". Runes past U+FFFF are
// in none.
func isStartWord(r rune) bool {
	return r == '!' || r >= '#' && r <= '&' || r >= '(' && r <= '+' || r >= '-' && r <= '<' ||
		r >= '>' && r <= 'Z' || r >= '\\' && r <= 'z' || r >= '|' && r <= 0xffff
}

func isFirstFollow(r rune) bool {
	return pyIsSpace(r) || r == '!' || r >= '#' && r <= '&' || r >= '(' && r <= '+' || r >= '-' && r <= '\\' ||
		r >= '^' && r <= '|' || r >= '~' && r <= 0xffff
}

func isSecondFollow(r rune) bool {
	return pyIsSpace(r) || r == '!' || r >= '#' && r <= '&' || r >= '(' && r <= '+' || r >= '-' && r <= '<' ||
		r >= '>' && r <= 0xffff
}

// pyIsSpace is Python's str.isspace of one rune, which \s and rstrip()
// use: Go's unicode.IsSpace and the ASCII separators U+001C to U+001F.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// backCompat is awscli's BackCompatVisitor: it walks a parsed shorthand
// value by the model, making ints, floats and bools of the strings where
// the model has them (a bool only of true or false, any case), and a
// one-element list of a lone value where the model has a list. It
// returns the value to put in place of v; containers are changed in
// place. What Python's int() or .lower() would raise on (a list where a
// number goes) is returned as that error, which the AWS CLI does not
// catch.
func backCompat(sh *awsproto.Shape, v any) (any, error) {
	if sh == nil || v == nil {
		return v, nil
	}
	switch sh.Type {
	case "structure":
		o, ok := v.(*object)
		if !ok {
			return v, nil
		}
		for _, name := range sh.MemberNames {
			if x, ok := o.get(name); ok {
				nv, err := backCompat(sh.Members[name], x)
				if err != nil {
					return nil, err
				}
				o.set(name, nv)
			}
		}
		return o, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return []any{v}, nil
		}
		for i, e := range l {
			nv, err := backCompat(sh.Member, e)
			if err != nil {
				return nil, err
			}
			l[i] = nv
		}
		return l, nil
	case "map":
		o, ok := v.(*object)
		if !ok {
			return v, nil
		}
		for _, k := range o.keys {
			nv, err := backCompat(sh.Value, o.vals[k])
			if err != nil {
				return nil, err
			}
			o.vals[k] = nv
		}
		return o, nil
	case "integer", "long":
		return pyIntOf(v)
	case "float", "double":
		return pyFloatOf(v)
	case "boolean":
		switch x := v.(type) {
		case string:
			switch strings.ToLower(x) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		case []byte:
		default:
			return nil, fmt.Errorf("'%s' object has no attribute 'lower'", pyTypeShort(v))
		}
	}
	return v, nil
}

// pyIntOf is Python's int() of a command line value.
func pyIntOf(v any) (any, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case json.Number:
		return x, nil
	case bool:
		return v, nil
	default:
		return nil, fmt.Errorf("int() argument must be a string, a bytes-like object or a real number, not '%s'", pyTypeShort(v))
	}
	n, ok := pyInt(s)
	if !ok {
		return nil, fmt.Errorf("invalid literal for int() with base 10: %s", pyReprValue(v))
	}
	return json.Number(strconv.FormatInt(n, 10)), nil
}

// pyFloatOf is Python's float() of a command line value.
func pyFloatOf(v any) (any, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case json.Number:
		return x, nil
	default:
		return nil, fmt.Errorf("float() argument must be a string or a real number, not '%s'", pyTypeShort(v))
	}
	t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		if _, isBytes := v.([]byte); isBytes {
			return nil, fmt.Errorf("could not convert string to float: %s", pyBytesRepr(v.([]byte)))
		}
		return nil, fmt.Errorf("could not convert string to float: %s", pyRepr(s, nil))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64) + floatMark(f)), nil
}

// floatMark keeps a float a float when Go spells it without a fraction.
func floatMark(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if strings.ContainsAny(s, ".eEn") {
		return ""
	}
	return ".0"
}
