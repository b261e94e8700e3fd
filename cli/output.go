package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/awsproto"
	jmespath "github.com/jmespath-community/go-jmespath"
)

// orders remembers the key order of the objects of a decoded document, by
// the identity of their maps: a JMESPath query hands back the same maps,
// so a selection keeps the order the AWS CLI would print. A map it does
// not know prints its keys sorted.
type orders map[uintptr][]string

func (o orders) set(m map[string]any, keys []string) {
	o[reflect.ValueOf(m).Pointer()] = keys
}

func (o orders) keys(m map[string]any) []string {
	if o != nil {
		if ks, ok := o[reflect.ValueOf(m).Pointer()]; ok {
			return ks
		}
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// shape orders a decoded answer as botocore parses it: each structure's
// members in the model's order, members the model does not know, and
// members that are null, dropped.
func (o orders) shape(svc *service, sh *awsproto.Shape, v any) {
	if sh == nil {
		return
	}
	switch sh.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		var keys []string
		for _, mn := range svc.members(sh) {
			if x, ok := m[mn]; ok && x != nil {
				keys = append(keys, mn)
				o.shape(svc, sh.Members[mn], x)
			}
		}
		for k, x := range m {
			if sh.Members[k] == nil || x == nil {
				delete(m, k)
			}
		}
		o.set(m, keys)
	case "list":
		l, _ := v.([]any)
		for _, x := range l {
			o.shape(svc, sh.Member, x)
		}
	case "map":
		m, _ := v.(map[string]any)
		for _, x := range m {
			o.shape(svc, sh.Value, x)
		}
	}
}

// printOutput prints an operation's answer as the AWS CLI does: ordered
// by the model, through --query, as JSON, text or a table.
func printOutput(w io.Writer, svc *service, op *awsproto.Operation, body []byte, format, query string) error {
	var v any = map[string]any{}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeJSON(body, &v); err != nil {
			return fmt.Errorf("reading the answer to %s: %w", op.Name, err)
		}
	}
	ord := orders{}
	ord.shape(svc, op.Output, v)
	if format == "text" {
		return printText(w, v, ord, query)
	}
	return formatOutput(w, op.Name, v, ord, format, query)
}

// search applies --query.
func search(query string, v any) (any, error) {
	v, err := jmespath.Search(query, floats(v))
	if err != nil {
		return nil, usagef("argument --query: Bad value for --query %s: %v", query, err)
	}
	return v, nil
}

// formatOutput prints a whole answer (a paginated one merged) through
// --query as JSON or a table, as the AWS CLI's fully buffered formatters
// do.
func formatOutput(w io.Writer, operation string, v any, ord orders, format, query string) error {
	if query != "" {
		var err error
		if v, err = search(query, v); err != nil {
			return err
		}
	}
	if format == "table" {
		return writeTable(w, operation, v, ord, terminalWidth(w))
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil // the AWS CLI prints nothing for an empty answer
	}
	return writeJSON(w, v, ord)
}

// printText prints one answer (or one page of one) through --query in
// the text format.
func printText(w io.Writer, v any, ord orders, query string) error {
	if query != "" {
		var err error
		if v, err = search(query, v); err != nil {
			return err
		}
	}
	return writeText(w, v, ord)
}

// floats turns json.Number into float64 in place, the numbers JMESPath
// compares.
func floats(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = floats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = floats(e)
		}
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	}
	return v
}

// writeJSON prints v as Python's json.dumps(v, indent=4,
// ensure_ascii=False) does, with a final newline.
func writeJSON(w io.Writer, v any, ord orders) error {
	var b strings.Builder
	writeValue(&b, v, ord, 0)
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func writeValue(b *strings.Builder, v any, ord orders, depth int) {
	indent := func(d int) {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("    ", d))
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range ord.keys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			writeString(b, k)
			b.WriteString(": ")
			writeValue(b, x[k], ord, depth+1)
		}
		indent(depth)
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			writeValue(b, e, ord, depth+1)
		}
		indent(depth)
		b.WriteByte(']')
	case string:
		writeString(b, x)
	default:
		b.WriteString(scalar(v, "null", "true", "false"))
	}
}

// scalar spells a number, boolean or null as Python does.
func scalar(v any, null, yes, no string) string {
	switch x := v.(type) {
	case nil:
		return null
	case bool:
		if x {
			return yes
		}
		return no
	case json.Number:
		return string(x)
	case float64:
		return pyFloat(x)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// pyFloat spells a number that went through a query. Integral values
// print as integers: the answers' numbers are mostly longs, which Python
// keeps as int.
func pyFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	if a := math.Abs(f); a >= 1e-4 && a < 1e16 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, as Python's repr
	return s
}

// writeString quotes s as json.dumps with ensure_ascii=False does.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// writeText prints v in the AWS CLI's text format (awscli/text.py): a
// line per object, its scalars tab-separated after the name it is
// found under, upper-cased.
func writeText(w io.Writer, v any, ord orders) error {
	var b strings.Builder
	formatText(&b, v, "", nil)
	_, err := io.WriteString(w, b.String())
	return err
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func textScalar(v any) string { return scalar(v, "None", "True", "False") }

func formatText(b *strings.Builder, v any, id string, scalarKeys []string) {
	switch x := v.(type) {
	case map[string]any:
		var scalars []string
		type pair struct {
			k string
			v any
		}
		var nonScalars []pair
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if scalarKeys == nil {
			for _, k := range keys {
				if isScalar(x[k]) {
					scalars = append(scalars, textScalar(x[k]))
				} else {
					nonScalars = append(nonScalars, pair{k, x[k]})
				}
			}
		} else {
			for _, k := range scalarKeys {
				if e, ok := x[k]; ok {
					scalars = append(scalars, textScalar(e))
				} else {
					scalars = append(scalars, "")
				}
			}
			for _, k := range keys {
				if !slices.Contains(scalarKeys, k) {
					nonScalars = append(nonScalars, pair{k, x[k]})
				}
			}
		}
		if len(scalars) > 0 {
			if id != "" {
				scalars = append([]string{strings.ToUpper(id)}, scalars...)
			}
			b.WriteString(strings.Join(scalars, "\t") + "\n")
		}
		for _, p := range nonScalars {
			formatText(b, p.v, p.k, nil)
		}
	case []any:
		if len(x) == 0 {
			return
		}
		hasDict, hasList := false, false
		for _, e := range x {
			switch e.(type) {
			case map[string]any:
				hasDict = true
			case []any:
				hasList = true
			}
		}
		switch {
		case hasDict:
			seen := map[string]bool{}
			var all []string
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					for k, ev := range m {
						if isScalar(ev) && !seen[k] {
							seen[k] = true
							all = append(all, k)
						}
					}
				}
			}
			slices.Sort(all)
			if all == nil {
				all = []string{}
			}
			for _, e := range x {
				formatText(b, e, id, all)
			}
		case hasList:
			var scalars, nonScalars []any
			for _, e := range x {
				if isScalar(e) {
					scalars = append(scalars, e)
				} else {
					nonScalars = append(nonScalars, e)
				}
			}
			if len(scalars) > 0 {
				scalarList(b, scalars, id)
			}
			for _, e := range nonScalars {
				formatText(b, e, id, nil)
			}
		default:
			scalarList(b, x, id)
		}
	default:
		b.WriteString(textScalar(v) + "\n")
	}
}

func scalarList(b *strings.Builder, l []any, id string) {
	if id != "" {
		for _, e := range l {
			b.WriteString(strings.ToUpper(id) + "\t" + textScalar(e) + "\n")
		}
		return
	}
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = textScalar(e)
	}
	b.WriteString(strings.Join(s, "\t") + "\n")
}
