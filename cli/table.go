package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/width"
)

// --output table, as the AWS CLI (v1) draws it: awscli/formatter.py's
// TableFormatter lays an answer out in sections (a title, column headers,
// rows; nested objects and lists in sections indented under their
// parent), and awscli/table.py's MultiTable renders them with "|", "+"
// and "-" at one width, the widest section's. A table wider than the
// terminal (80 columns where stdout is not one) has its one-row sections
// turned on their side, a header and its value per row. The AWS CLI
// colours a table when stdout is a terminal; berth never does, so its
// tables are the AWS CLI's where stdout is a file or a pipe, and the
// same text without the colour codes on a terminal.

// tableSection is one section: awscli/table.py's Section.
type tableSection struct {
	title     *string // nil: no title row (a nested list's own rows)
	headers   []string
	rows      [][]string
	indent    int
	numCols   int // -1 until the first header or row
	maxWidths []int
}

func newSection(title *string, indent int) *tableSection {
	return &tableSection{title: title, indent: indent, numCols: -1}
}

func (s *tableSection) updateMaxWidths(row []string) {
	if len(s.maxWidths) == 0 {
		s.maxWidths = make([]int, len(row))
		for i, el := range row {
			s.maxWidths[i] = textWidth(el)
		}
		return
	}
	for i, el := range row {
		if i < len(s.maxWidths) {
			s.maxWidths[i] = max(s.maxWidths[i], textWidth(el))
		}
	}
}

func (s *tableSection) addHeader(headers []string) {
	s.updateMaxWidths(headers)
	if s.numCols < 0 {
		s.numCols = len(headers)
	}
	s.headers = headers
}

func (s *tableSection) addRow(row []string) error {
	if s.numCols < 0 {
		s.numCols = len(row)
	}
	if len(row) != s.numCols {
		return fmt.Errorf("Row should have %d elements, instead it has %d", s.numCols, len(row))
	}
	s.rows = append(s.rows, row)
	s.updateMaxWidths(row)
	return nil
}

// columnWidths scales the columns (each its widest cell plus padding) to
// maxWidth, rounding as Python does and handing out what rounding lost or
// gained one column at a time; maxWidth < 0 leaves them unscaled.
func (s *tableSection) columnWidths(padding, maxWidth int) []int {
	widths := make([]int, len(s.maxWidths))
	sum := 0
	for i, w := range s.maxWidths {
		widths[i] = w + padding
		sum += widths[i]
	}
	if maxWidth < 0 || len(widths) == 0 {
		return widths
	}
	scale := float64(maxWidth) / float64(sum)
	total := 0
	for i, w := range widths {
		widths[i] = int(math.RoundToEven(scale * float64(w)))
		total += widths[i]
	}
	for off := total - maxWidth; off != 0; {
		for j := range widths {
			i := j
			if off < 0 {
				i = len(widths) - 1 - j
			}
			if off > 0 {
				widths[i]--
				off--
			} else {
				widths[i]++
				off++
			}
			if off == 0 {
				break
			}
		}
	}
	return widths
}

// totalWidth is the width the section needs: its columns padded, its
// borders and indentation, or its title's.
func (s *tableSection) totalWidth(padding int, border bool, outer int) int {
	total := 0
	for _, w := range s.columnWidths(0, -1) {
		total += w + padding
	}
	if border {
		total += 2
	}
	total += 2 * outer
	title := "None" // Python measures str(None) for a section without a title
	if s.title != nil {
		title = *s.title
	}
	return max(textWidth(title)+2+2*outer, total)
}

// textWidth is awscli's get_text_length: a character of East Asian width
// wide, fullwidth or ambiguous takes two columns.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
			n += 2
		default:
			n++
		}
	}
	return n
}

// pad is Python's " " * n, nothing for n < 0.
func pad(n int) string { return strings.Repeat(" ", max(0, n)) }

// centerText centers text between the edges in length columns.
func centerText(text string, length int, left, right string) string {
	tl := textWidth(text)
	start := length/2 - tl/2 - 1
	soFar := textWidth(left) + start + tl
	return left + pad(start) + text + pad(length-textWidth(right)-soFar) + right
}

// alignLeft puts text two columns in from the left edge, or against it
// when it does not fit.
func alignLeft(text string, length int, left, right string) string {
	tl := textWidth(text)
	padding := 2
	if length-(tl+2+textWidth(left)+textWidth(right)) < 0 {
		padding = 0
	}
	soFar := len(left) + padding + tl
	return left + pad(padding) + text + pad(length-soFar-len(right)) + right
}

// table is awscli/table.py's MultiTable with formatter.py's
// TableFormatter building it.
type table struct {
	sections []*tableSection
	cur      *tableSection
	ord      orders
}

func (t *table) newSection(title *string, indent int) {
	t.cur = newSection(title, indent)
	t.sections = append(t.sections, t.cur)
}

// build is TableFormatter._build_table: false for a value it draws
// nothing of (Python's falsy: null, false, 0, "", [] and {}).
func (t *table) build(title *string, v any, indent int) (bool, error) {
	if !pyTruthy(v) {
		return false, nil
	}
	if title != nil {
		t.newSection(title, indent)
	}
	switch x := v.(type) {
	case []any:
		if _, ok := x[0].(map[string]any); ok {
			return true, t.fromList(x, indent, title)
		}
		for _, item := range x {
			switch {
			case isScalar(item):
				if err := t.cur.addRow([]string{pyStr(item, t.ord)}); err != nil {
					return false, err
				}
			case allScalar(item):
				if err := t.cur.addRow(t.scalarRow(item)); err != nil {
					return false, err
				}
			default:
				if _, err := t.build(nil, item, 0); err != nil {
					return false, err
				}
			}
		}
	case map[string]any:
		return true, t.fromDict(x, indent)
	}
	return true, nil
}

// allScalar is whether iterating item in Python yields scalars only: a
// list of scalars, or an object (whose keys Python iterates).
func allScalar(item any) bool {
	switch x := item.(type) {
	case map[string]any:
		return true
	case []any:
		for _, e := range x {
			if !isScalar(e) {
				return false
			}
		}
		return true
	}
	return false
}

// scalarRow is a row of a list of scalars, or of an object's keys (what
// Python makes of a row that is an object).
func (t *table) scalarRow(item any) []string {
	var row []string
	switch x := item.(type) {
	case map[string]any:
		row = append(row, t.ord.keys(x)...)
	case []any:
		for _, e := range x {
			row = append(row, pyStr(e, t.ord))
		}
	}
	return row
}

// groupKeys splits an object's keys into those of scalars (the headers)
// and the rest, each sorted.
func groupKeys(m map[string]any) (headers, more []string) {
	for k, v := range m {
		if isScalar(v) {
			headers = append(headers, k)
		} else {
			more = append(more, k)
		}
	}
	slices.Sort(headers)
	slices.Sort(more)
	return headers, more
}

// fromDict is _build_sub_table_from_dict: one row of the scalars under
// their keys (a lone scalar as key and value), then a section per nested
// value.
func (t *table) fromDict(m map[string]any, indent int) error {
	headers, more := groupKeys(m)
	switch {
	case len(headers) == 1:
		if err := t.cur.addRow([]string{headers[0], pyStr(m[headers[0]], t.ord)}); err != nil {
			return err
		}
	case len(headers) > 1:
		t.cur.addHeader(headers)
		row := make([]string, len(headers))
		for i, h := range headers {
			row[i] = pyStr(m[h], t.ord)
		}
		if err := t.cur.addRow(row); err != nil {
			return err
		}
	}
	for _, k := range more {
		if _, err := t.build(&k, m[k], indent+1); err != nil {
			return err
		}
	}
	return nil
}

// fromList is _build_sub_table_from_list: a list of objects is a row per
// object under the union of their scalar keys, each object's nested
// values in sections after its row (which then starts a section of its
// own, headers repeated).
func (t *table) fromList(l []any, indent int, title *string) error {
	hs, ms := map[string]bool{}, map[string]bool{}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return pyNotObject(e)
		}
		h, more := groupKeys(m)
		for _, k := range h {
			hs[k] = true
		}
		for _, k := range more {
			ms[k] = true
		}
	}
	headers, more := sortedKeys(hs), sortedKeys(ms)
	t.cur.addHeader(headers)
	for i, e := range l {
		m := e.(map[string]any)
		if i > 0 && len(more) > 0 {
			t.newSection(title, indent)
			t.cur.addHeader(headers)
		}
		row := make([]string, len(headers))
		for j, h := range headers {
			if v, ok := m[h]; ok {
				row[j] = pyStr(v, t.ord)
			}
		}
		if err := t.cur.addRow(row); err != nil {
			return err
		}
		for _, k := range more {
			if v, ok := m[k]; ok {
				if _, err := t.build(&k, v, indent+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// pyNotObject is the error Python meets taking the keys of a list's
// element that is not an object when the list's first one is (a --query
// can make such a list); the AWS CLI prints it and exits 255.
func pyNotObject(v any) error {
	switch x := v.(type) {
	case string:
		if x == "" {
			return fmt.Errorf("'str' object has no attribute 'get'")
		}
		return fmt.Errorf("string indices must be integers, not 'str'")
	case []any:
		if len(x) == 0 {
			return fmt.Errorf("'list' object has no attribute 'get'")
		}
		return fmt.Errorf("list indices must be integers or slices, not %s", pyType(x[0]))
	}
	return fmt.Errorf("'%s' object is not iterable", pyType(v))
}

// pyType is the Python type name of a decoded value.
func pyType(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "float"
		}
		return "int"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return "int"
		}
		return "float"
	}
	return "object"
}

// render is MultiTable.render: every section at the width of the widest,
// one-row sections turned on their side first if that is wider than the
// terminal.
func (t *table) render(w io.Writer, termWidth int) error {
	maxWidth := t.maxWidth()
	if maxWidth > termWidth {
		for i, s := range t.sections {
			if len(s.rows) == 1 && len(s.headers) > 0 {
				v := newSection(s.title, s.indent)
				for j, h := range s.headers {
					if j < len(s.rows[0]) {
						v.addRow([]string{h, s.rows[0][j]})
					}
				}
				t.sections[i] = v
			}
		}
		maxWidth = t.maxWidth()
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("-", maxWidth) + "\n")
	for _, s := range t.sections {
		renderSection(&b, s, maxWidth)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *table) maxWidth() int {
	widest := 0
	for _, s := range t.sections {
		widest = max(widest, s.totalWidth(4, true, s.indent))
	}
	return widest
}

// renderSection writes a section's title, headers and rows, each line
// between as many "|" as the section is indented.
func renderSection(b *strings.Builder, s *tableSection, maxWidth int) {
	edge := strings.Repeat("|", s.indent)
	line := func(text string) { b.WriteString(edge + text + edge + "\n") }
	maxWidth -= 2 * s.indent
	if s.title != nil && *s.title != "" {
		line(centerText(*s.title, maxWidth, "|", "|"))
		if len(s.headers) == 0 && len(s.rows) == 0 {
			line("+" + strings.Repeat("-", max(0, maxWidth-2)) + "+")
		}
	}
	if len(s.headers) > 0 {
		widths := s.columnWidths(4, maxWidth)
		line(lineBreak(widths))
		var cur strings.Builder
		for i, h := range s.headers {
			if i < len(widths) {
				left := ""
				if i == 0 {
					left = "|"
				}
				cur.WriteString(centerText(h, widths[i], left, "|"))
			}
		}
		line(cur.String())
	}
	if len(s.rows) > 0 {
		widths := s.columnWidths(4, maxWidth)
		if len(widths) == 0 {
			return
		}
		line(lineBreak(widths))
		for _, row := range s.rows {
			var cur strings.Builder
			for i, el := range row {
				if i < len(widths) {
					left := ""
					if i == 0 {
						left = "|"
					}
					cur.WriteString(alignLeft(el, widths[i], left, "|"))
				}
			}
			line(cur.String())
		}
		line(lineBreak(widths))
	}
}

// lineBreak is a border under or over columns: +-----+-----+.
func lineBreak(widths []int) string {
	var b strings.Builder
	for i, w := range widths {
		if i == 0 {
			b.WriteString("+" + strings.Repeat("-", max(0, w-2)) + "+")
		} else {
			b.WriteString(strings.Repeat("-", max(0, w-1)) + "+")
		}
	}
	return b.String()
}

// writeTable prints v as the AWS CLI's --output table, titled with the
// operation's name; nothing for an empty answer.
func writeTable(w io.Writer, operation string, v any, ord orders, termWidth int) error {
	t := &table{ord: ord}
	ok, err := t.build(&operation, v, 0)
	if err != nil || !ok {
		return err
	}
	return t.render(w, termWidth)
}

// pyStr spells a value as Python's str() does, what a table cell holds.
func pyStr(v any, ord orders) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any, []any:
		return pyRepr(v, ord)
	}
	return pyScalar(v)
}

// pyScalar spells a number, boolean or null as Python's str() does.
func pyScalar(v any) string {
	switch x := v.(type) {
	case json.Number:
		return pyNumber(string(x))
	case float64:
		return pyFloat(x)
	}
	return scalar(v, "None", "True", "False")
}

// pyNumber spells a JSON number as Python's str() of what json.loads
// makes of it: an integer as written, anything with a fraction or an
// exponent as a float's shortest repr (1.0, 1e+16, 1.5e-05).
func pyNumber(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyRepr spells a value as Python's repr() does: what a table cell shows
// of an object or list, and how the AWS CLI's messages quote tokens.
func pyRepr(v any, ord orders) string {
	switch x := v.(type) {
	case string:
		q := "'"
		if strings.Contains(x, "'") && !strings.Contains(x, `"`) {
			q = `"`
		}
		var b strings.Builder
		b.WriteString(q)
		for _, r := range x {
			switch {
			case r == '\\':
				b.WriteString(`\\`)
			case string(r) == q:
				b.WriteString(`\` + q)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteString(q)
		return b.String()
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range ord.keys(x) {
			parts = append(parts, pyRepr(k, ord)+": "+pyRepr(x[k], ord))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e, ord)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return pyScalar(v)
}
