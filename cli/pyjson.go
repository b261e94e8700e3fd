package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyLoads decodes one JSON text as Python's json.loads does, which the
// AWS CLI reads a parameter's JSON and --cli-input-json with: objects as
// dicts (OrderedDicts where odict) keeping their keys' order, a repeated
// key keeping its first place and its last value; ints and floats as
// written (json.Number); NaN, Infinity and -Infinity as floats. A text it
// refuses gets Python's message ("Expecting ',' delimiter: line 1 column
// 9 (char 8)"), the positions counted in characters, as its C scanner
// reports them.
func pyLoads(text []byte, odict bool) (any, error) {
	d := &pyDecoder{s: []rune(string(text)), odict: odict}
	i := d.ws(0)
	v, end, err := d.value(i)
	if err != nil {
		return nil, err
	}
	if end = d.ws(end); end != len(d.s) {
		return nil, d.errorAt("Extra data", end)
	}
	return v, nil
}

type pyDecoder struct {
	s     []rune
	odict bool
}

// jsonDecodeError is Python's JSONDecodeError.
type jsonDecodeError struct{ msg string }

func (e *jsonDecodeError) Error() string { return e.msg }

func (d *pyDecoder) errorAt(msg string, pos int) error {
	line, col := 1, pos+1
	for i := 0; i < pos && i < len(d.s); i++ {
		if d.s[i] == '\n' {
			line++
			col = pos - i
		}
	}
	return &jsonDecodeError{msg: fmt.Sprintf("%s: line %d column %d (char %d)", msg, line, col, pos)}
}

// ws skips JSON's whitespace: space, tab, newline, carriage return.
func (d *pyDecoder) ws(i int) int {
	for i < len(d.s) && (d.s[i] == ' ' || d.s[i] == '\t' || d.s[i] == '\n' || d.s[i] == '\r') {
		i++
	}
	return i
}

func (d *pyDecoder) has(i int, word string) bool {
	w := []rune(word)
	if i+len(w) > len(d.s) {
		return false
	}
	for k, r := range w {
		if d.s[i+k] != r {
			return false
		}
	}
	return true
}

// expectingValue is the scanner's StopIteration: no value at i.
func (d *pyDecoder) expectingValue(i int) error { return d.errorAt("Expecting value", i) }

// value is scan_once: one value at i, and the index after it.
func (d *pyDecoder) value(i int) (any, int, error) {
	if i >= len(d.s) {
		return nil, i, d.expectingValue(i)
	}
	switch d.s[i] {
	case '"':
		return d.str(i + 1)
	case '{':
		return d.object(i + 1)
	case '[':
		return d.array(i + 1)
	case 'n':
		if d.has(i, "null") {
			return nil, i + 4, nil
		}
	case 't':
		if d.has(i, "true") {
			return true, i + 4, nil
		}
	case 'f':
		if d.has(i, "false") {
			return false, i + 5, nil
		}
	case 'N':
		if d.has(i, "NaN") {
			return math.NaN(), i + 3, nil
		}
	case 'I':
		if d.has(i, "Infinity") {
			return math.Inf(1), i + 8, nil
		}
	case '-':
		if d.has(i, "-Infinity") {
			return math.Inf(-1), i + 9, nil
		}
	}
	return d.number(i)
}

// number is -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
func (d *pyDecoder) number(start int) (any, int, error) {
	digit := func(i int) bool { return i < len(d.s) && d.s[i] >= '0' && d.s[i] <= '9' }
	i := start
	if i < len(d.s) && d.s[i] == '-' {
		i++
	}
	switch {
	case i < len(d.s) && d.s[i] >= '1' && d.s[i] <= '9':
		for i++; digit(i); i++ {
		}
	case i < len(d.s) && d.s[i] == '0':
		i++
	default:
		return nil, start, d.expectingValue(start)
	}
	if i < len(d.s) && d.s[i] == '.' && digit(i+1) {
		for i += 2; digit(i); i++ {
		}
	}
	if i < len(d.s) && (d.s[i] == 'e' || d.s[i] == 'E') {
		j := i + 1
		if j < len(d.s) && (d.s[j] == '-' || d.s[j] == '+') {
			j++
		}
		if digit(j) {
			for ; digit(j); j++ {
			}
			i = j
		}
	}
	return json.Number(string(d.s[start:i])), i, nil
}

// str is scanstring, from just after the opening quote.
func (d *pyDecoder) str(end int) (any, int, error) {
	begin := end - 1
	var b strings.Builder
	for {
		next := end
		for ; next < len(d.s); next++ {
			c := d.s[next]
			if c == '"' || c == '\\' {
				break
			}
			if c <= 0x1f {
				return nil, 0, d.errorAt("Invalid control character at", next)
			}
		}
		if next >= len(d.s) {
			return nil, 0, d.errorAt("Unterminated string starting at", begin)
		}
		b.WriteString(string(d.s[end:next]))
		if d.s[next] == '"' {
			return b.String(), next + 1, nil
		}
		next++ // past the backslash
		if next == len(d.s) {
			return nil, 0, d.errorAt("Unterminated string starting at", begin)
		}
		c := d.s[next]
		if c != 'u' {
			end = next + 1
			esc, ok := map[rune]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[c]
			if !ok {
				return nil, 0, d.errorAt("Invalid \\escape", end-2)
			}
			b.WriteRune(esc)
			continue
		}
		next++
		end = next + 4
		if end >= len(d.s) {
			return nil, 0, d.errorAt("Invalid \\uXXXX escape", next-1)
		}
		u, ok := d.hex4(next)
		if !ok {
			return nil, 0, d.errorAt("Invalid \\uXXXX escape", end-5)
		}
		r := rune(u)
		if u >= 0xd800 && u <= 0xdbff && end+6 < len(d.s) && d.s[end] == '\\' && d.s[end+1] == 'u' {
			u2, ok := d.hex4(end + 2)
			if !ok {
				return nil, 0, d.errorAt("Invalid \\uXXXX escape", end+1)
			}
			if u2 >= 0xdc00 && u2 <= 0xdfff {
				r = 0x10000 + ((rune(u)-0xd800)<<10 | (rune(u2) - 0xdc00))
				end += 6
			}
		}
		if r >= 0xd800 && r <= 0xdfff {
			r = utf8.RuneError // a lone surrogate, which Go's strings cannot hold
		}
		b.WriteRune(r)
	}
}

func (d *pyDecoder) hex4(i int) (uint64, bool) {
	if i+4 > len(d.s) {
		return 0, false
	}
	u, err := strconv.ParseUint(string(d.s[i:i+4]), 16, 32)
	return u, err == nil
}

// object is _parse_object, from just after the brace.
func (d *pyDecoder) object(i int) (any, int, error) {
	o := newObject()
	o.odict = d.odict
	i = d.ws(i)
	if i < len(d.s) && d.s[i] == '}' {
		return o, i + 1, nil
	}
	for {
		if i >= len(d.s) || d.s[i] != '"' {
			return nil, 0, d.errorAt("Expecting property name enclosed in double quotes", i)
		}
		k, next, err := d.str(i + 1)
		if err != nil {
			return nil, 0, err
		}
		i = d.ws(next)
		if i >= len(d.s) || d.s[i] != ':' {
			return nil, 0, d.errorAt("Expecting ':' delimiter", i)
		}
		i = d.ws(i + 1)
		v, next, err := d.value(i)
		if err != nil {
			return nil, 0, err
		}
		o.set(k.(string), v)
		i = d.ws(next)
		if i < len(d.s) && d.s[i] == '}' {
			return o, i + 1, nil
		}
		if i >= len(d.s) || d.s[i] != ',' {
			return nil, 0, d.errorAt("Expecting ',' delimiter", i)
		}
		i = d.ws(i + 1)
	}
}

// array is _parse_array, from just after the bracket.
func (d *pyDecoder) array(i int) (any, int, error) {
	l := []any{}
	i = d.ws(i)
	if i < len(d.s) && d.s[i] == ']' {
		return l, i + 1, nil
	}
	for {
		v, next, err := d.value(i)
		if err != nil {
			return nil, 0, err
		}
		l = append(l, v)
		i = d.ws(next)
		if i < len(d.s) && d.s[i] == ']' {
			return l, i + 1, nil
		}
		if i >= len(d.s) || d.s[i] != ',' {
			return nil, 0, d.errorAt("Expecting ',' delimiter", i)
		}
		i = d.ws(i + 1)
	}
}
