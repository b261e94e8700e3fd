package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/awsproto"
	jmespath "github.com/jmespath-community/go-jmespath"
)

// The AWS CLI pages through an operation the paginator model names
// (botocore's paginators-1.json): it calls until the answer has no
// output token, feeding each into the next call's input token, and prints
// the pages' result keys as one answer. --starting-token, --page-size and
// --max-items steer it; --no-paginate, or the operation's own token or
// limit flag, turn it off. This is botocore's PageIterator and
// build_full_result, and awscli's customizations/paginate.py, as berth
// reads them: the same tokens, the same truncation, the same merged
// output, so a NextToken of either resumes in the other.

// paginator is one operation's entry in the paginator model.
type paginator struct {
	inputTokens  []string // the input members the tokens go into
	outputTokens []string // JMESPath expressions of the answer's tokens, as inputTokens
	moreResults  string   // a JMESPath expression that is false on the last page, or ""
	limitKey     string   // the input member that bounds a page, or ""
	resultKeys   []string // dotted paths of what pages aggregate, the first the primary
	nonAggregate []string // dotted paths kept from the first page
}

// stringOrList reads a paginator field that is one string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %v", err)
	}
	*s = many
	return nil
}

// loadPaginators reads a paginator model, keeping the operations in ops
// (by their model name).
func loadPaginators(data []byte) (map[string]*paginator, error) {
	var raw struct {
		Pagination map[string]struct {
			InputToken       stringOrList `json:"input_token"`
			OutputToken      stringOrList `json:"output_token"`
			MoreResults      string       `json:"more_results"`
			LimitKey         string       `json:"limit_key"`
			ResultKey        stringOrList `json:"result_key"`
			NonAggregateKeys []string     `json:"non_aggregate_keys"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("reading the paginator model: %w", err)
	}
	out := map[string]*paginator{}
	for op, p := range raw.Pagination {
		// botocore cannot page an operation without result keys (it
		// fails on the first page): leave such an operation unpaged.
		if len(p.ResultKey) == 0 || len(p.InputToken) == 0 || len(p.InputToken) != len(p.OutputToken) {
			continue
		}
		out[op] = &paginator{inputTokens: p.InputToken, outputTokens: p.OutputToken, moreResults: p.MoreResults,
			limitKey: p.LimitKey, resultKeys: p.ResultKey, nonAggregate: p.NonAggregateKeys}
	}
	return out, nil
}

// cliTokens are the flags of the operation's own input tokens and limit
// key: given on the command line, they turn automatic pagination off
// (paginate.py's check_should_enable_pagination), and help leaves them
// out.
func (p *paginator) cliTokens() []string {
	var flags []string
	for _, t := range p.inputTokens {
		flags = append(flags, kebab(t))
	}
	if p.limitKey != "" {
		flags = append(flags, kebab(p.limitKey))
	}
	return flags
}

// pagingFlags are the flags the AWS CLI adds to a paginated operation, in
// the order it checks and reports them.
var pagingFlags = []string{"starting-token", "page-size", "max-items"}

// pagination is what a command line asks of the paginator.
type pagination struct {
	startingToken *string
	pageSize      *int64
	maxItems      *int64
	// ownToken is the operation's own token or limit flag given on the
	// command line (--next-token, --max-results), which turns paging off.
	ownToken bool
}

// used lists the paging flags given a truthy value, as Python tests them:
// an empty token or a zero is not counted.
func (p *pagination) used() []string {
	var used []string
	if p.startingToken != nil && *p.startingToken != "" {
		used = append(used, "--starting-token")
	}
	if p.pageSize != nil && *p.pageSize != 0 {
		used = append(used, "--page-size")
	}
	if p.maxItems != nil && *p.maxItems != 0 {
		used = append(used, "--max-items")
	}
	return used
}

// given is whether any paging flag was given at all.
func (p *pagination) given() bool {
	return p.startingToken != nil || p.pageSize != nil || p.maxItems != nil
}

// paginationError is botocore's PaginationError, which the AWS CLI prints
// after "Error during pagination: " and exits 255 for.
type paginationError struct{ msg string }

func (e *paginationError) Error() string { return "Error during pagination: " + e.msg }

// pyInt parses an integer as Python's int() does for a command line
// value: surrounding spaces, a sign and underscores between digits.
func pyInt(s string) (int64, bool) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return 0, false
	}
	t = strings.ReplaceAll(t, "_", "")
	if strings.HasPrefix(t, "+") && !strings.HasPrefix(t, "+-") {
		t = t[1:]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	return n, err == nil
}

// token is a pagination token: the input tokens' values, and how many of
// the primary result key's elements of the page they fetch were already
// printed (boto_truncate_amount). Its keys keep their order, as the
// Python dict botocore encodes does.
type token struct {
	keys []string
	vals map[string]any
}

func newToken() *token { return &token{vals: map[string]any{}} }

func (t *token) set(k string, v any) {
	if _, ok := t.vals[k]; !ok {
		t.keys = append(t.keys, k)
	}
	t.vals[k] = v
}

func (t *token) del(k string) {
	if _, ok := t.vals[k]; ok {
		delete(t.vals, k)
		t.keys = slices.DeleteFunc(t.keys, func(x string) bool { return x == k })
	}
}

func (t *token) clone() *token {
	c := newToken()
	for _, k := range t.keys {
		c.set(k, t.vals[k])
	}
	return c
}

// allNone is whether every value is null (true for no values), the end
// of the pages.
func (t *token) allNone() bool {
	for _, v := range t.vals {
		if v != nil {
			return false
		}
	}
	return true
}

// repr spells the token as Python prints a dict, for the messages that
// quote one.
func (t *token) repr() string {
	parts := make([]string, len(t.keys))
	for i, k := range t.keys {
		parts[i] = pyRepr(k, nil) + ": " + pyRepr(t.vals[k], nil)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// encode is botocore's TokenEncoder: the dict as Python's json.dumps
// writes it, base64. The AWS CLI prints this as NextToken, so berth's
// NextToken is byte for byte the AWS CLI's, and each resumes the other.
func (t *token) encode() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range t.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		pyJSON(&b, k)
		b.WriteString(": ")
		pyJSON(&b, t.vals[k])
	}
	b.WriteByte('}')
	return base64.StdEncoding.EncodeToString([]byte(b.String()))
}

// pyJSON writes v as Python's json.dumps does by default: ", " and ": "
// between items, everything outside printable ASCII escaped.
func pyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteByte('"')
		for _, r := range x {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
		b.WriteByte('"')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSON(b, k)
			b.WriteString(": ")
			pyJSON(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSON(b, e)
		}
		b.WriteByte(']')
	default:
		b.WriteString(scalar(v, "null", "true", "false"))
	}
}

// decodeToken is botocore's TokenDecoder: base64 of a JSON object. ok is
// false where botocore falls back to the old token format.
func decodeToken(s string) (*token, bool) {
	// Python's b64decode drops what is not of the base64 alphabet, then
	// wants the padding right.
	clean := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
			return r
		}
		return -1
	}, s)
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil || !utf8.Valid(raw) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	tok := newToken()
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		tok.set(k.(string), v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	// boto_encoded_keys lists the values that were bytes, base64. The JSON
	// protocol carries bytes as base64, so the values are sent as they are.
	tok.del("boto_encoded_keys")
	return tok, true
}

// parseStartingToken reads --starting-token: the tokens to send and how
// many elements of the first page to skip. A token that is not botocore's
// base64 JSON is read in the format before it (tokens joined by "___",
// then the count), and failing that is the service's own token.
func (p *paginator) parseStartingToken(s string) (*token, int64, error) {
	if tok, ok := decodeToken(s); ok {
		var index int64
		if v, ok := tok.vals["boto_truncate_amount"]; ok {
			n, isInt := v.(json.Number)
			i, err := strconv.ParseInt(string(n), 10, 64)
			if !isInt || err != nil {
				return nil, 0, fmt.Errorf("Bad starting token: %s", tok.repr())
			}
			index = i
			tok.del("boto_truncate_amount")
		}
		return tok, index, nil
	}
	parts := strings.Split(s, "___")
	var index int64
	if len(parts) == len(p.inputTokens)+1 {
		if n, ok := pyInt(parts[len(parts)-1]); ok {
			index, parts = n, parts[:len(parts)-1]
		} else {
			parts = []string{s}
		}
	}
	if len(parts) > len(p.inputTokens) {
		return nil, 0, fmt.Errorf("Bad starting token: %s", s)
	}
	tok := newToken()
	for i, name := range p.inputTokens {
		var v any
		if i < len(parts) && parts[i] != "None" {
			v = parts[i]
		}
		tok.set(name, v)
	}
	return tok, index, nil
}

// lookup follows a dotted path (the result and non-aggregate keys are
// plain dotted paths) into a decoded answer, nil where it leads nowhere.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// put sets m[k], a key new to m printed after the others, as a Python
// dict keeps its keys in the order they were set.
func (o orders) put(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		o.set(m, append(slices.Clone(o.keys(m)), k))
	}
	m[k] = v
}

// newMap is an empty object whose keys print in the order they are put.
func (o orders) newMap() map[string]any {
	m := map[string]any{}
	o.set(m, []string{})
	return m
}

// setPath is botocore's set_value_from_jmespath: it sets a dotted path,
// making the objects on the way.
func (o orders) setPath(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = o.newMap()
			o.put(m, k, next)
		}
		m = next
	}
	o.put(m, keys[len(keys)-1], v)
}

// mergeDicts is botocore's merge_dicts: d2's keys into d1, objects merged
// key by key, anything else replaced.
func (o orders) mergeDicts(d1, d2 map[string]any) {
	for _, k := range o.keys(d2) {
		if m2, ok := d2[k].(map[string]any); ok {
			if m1, ok := d1[k].(map[string]any); ok {
				o.mergeDicts(m1, m2)
				continue
			}
		}
		o.put(d1, k, d2[k])
	}
}

// pyTruthy is Python's truth of a decoded value.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// pySlice is Python's s[from:to] of a list, negative bounds counting from
// the end (--max-items 0 or less makes them so).
func pySlice(l []any, from, to int64) []any {
	n := int64(len(l))
	bound := func(i int64) int64 {
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	f, t := bound(from), bound(to)
	if t < f {
		return []any{}
	}
	return slices.Clone(l[f:t])
}

// pager runs one paginated command: botocore's PageIterator.
type pager struct {
	p      *paginator
	opts   pagination
	input  *object // the operation's input
	fetch  func(input *object) (map[string]any, error)
	ord    orders
	resume *token // where a truncated run stops, for NextToken
	// nonAggregate holds the non-aggregate keys of the first page.
	nonAggregate map[string]any
}

// injectToken sets each input token, or drops it where it is null (or
// "None", the old format's null). A token new to the input goes after its
// other members, as in the Python dict botocore sends.
func injectToken(input *object, t *token) {
	for _, k := range t.keys {
		if v := t.vals[k]; v != nil && v != "None" {
			input.set(k, v)
		} else {
			input.del(k)
		}
	}
}

// setResume checks a resume token has exactly the input tokens (and the
// count), as botocore's resume_token setter does.
func (g *pager) setResume(t *token) error {
	want := slices.Clone(g.p.inputTokens)
	if _, ok := t.vals["boto_truncate_amount"]; ok {
		want = append(want, "boto_truncate_amount")
	}
	got := slices.Clone(t.keys)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("Bad starting token: %s", t.repr())
	}
	g.resume = t
	return nil
}

// nextToken reads the answer's output tokens, keyed by the input tokens;
// an empty token is no token.
func (g *pager) nextToken(page map[string]any) (*token, error) {
	t := newToken()
	if g.p.moreResults != "" {
		more, err := jmespath.Search(g.p.moreResults, page)
		if err != nil {
			return nil, err
		}
		if !pyTruthy(more) {
			return t, nil
		}
	}
	for i, expr := range g.p.outputTokens {
		v, err := jmespath.Search(expr, page)
		if err != nil {
			return nil, err
		}
		if !pyTruthy(v) {
			v = nil
		}
		t.set(g.p.inputTokens[i], v)
	}
	return t, nil
}

// each calls the operation page by page, handing each page (truncated as
// --starting-token and --max-items want) to yield.
func (g *pager) each(yield func(page map[string]any) error) error {
	input := newObject()
	if g.input != nil {
		input = g.input.clone()
	}
	next := newToken()
	for _, k := range g.p.inputTokens {
		next.set(k, nil)
	}
	var startIndex int64
	if g.opts.startingToken != nil {
		t, index, err := g.p.parseStartingToken(*g.opts.startingToken)
		if err != nil {
			return err
		}
		next, startIndex = t, index
		injectToken(input, t.clone())
	}
	if g.opts.pageSize != nil {
		input.set(g.p.limitKey, json.Number(strconv.FormatInt(*g.opts.pageSize, 10)))
	}
	primary := g.p.resultKeys[0]
	var total int64
	var previous *token
	for first := true; ; first = false {
		page, err := g.fetch(input)
		if err != nil {
			return err
		}
		var truncation int64
		if first {
			if g.opts.startingToken != nil {
				truncation = startIndex
				g.skipFirst(page, startIndex)
			}
			g.nonAggregate = g.ord.newMap()
			for _, k := range g.p.nonAggregate {
				g.ord.setPath(g.nonAggregate, k, lookup(page, k))
			}
		}
		current := lookup(page, primary)
		n := pyLen(current)
		if g.opts.maxItems != nil {
			if cut := total + n - *g.opts.maxItems; cut > 0 {
				l, _ := current.([]any)
				keep := int64(len(l)) - cut
				g.ord.setPath(page, primary, pySlice(l, 0, keep))
				resume := next.clone()
				resume.set("boto_truncate_amount", json.Number(strconv.FormatInt(keep+truncation, 10)))
				if err := g.setResume(resume); err != nil {
					return err
				}
				return yield(page)
			}
		}
		if err := yield(page); err != nil {
			return err
		}
		total += n
		if next, err = g.nextToken(page); err != nil {
			return err
		}
		if next.allNone() {
			return nil
		}
		if g.opts.maxItems != nil && total == *g.opts.maxItems {
			// On a page boundary: the next page's token resumes.
			return g.setResume(next)
		}
		if previous != nil && reflect.DeepEqual(previous.vals, next.vals) {
			return &paginationError{msg: "The same next token was received twice: " + next.repr()}
		}
		injectToken(input, next)
		previous = next
	}
}

// skipFirst drops the elements of the first page a starting token says
// were printed already; the other result keys of that page were printed
// whole, so they are emptied.
func (g *pager) skipFirst(page map[string]any, index int64) {
	primary := g.p.resultKeys[0]
	var data any
	switch x := lookup(page, primary).(type) {
	case []any:
		data = pySlice(x, index, int64(len(x)))
	case string:
		r := []rune(x)
		from := max(0, min(int64(len(r)), index))
		data = string(r[from:])
	}
	g.ord.setPath(page, primary, data)
	for _, k := range g.p.resultKeys[1:] {
		var empty any
		switch x := lookup(page, k).(type) {
		case []any:
			empty = []any{}
		case string:
			empty = ""
		case json.Number:
			empty = x // a count of the whole page stays
		}
		g.ord.setPath(page, k, empty)
	}
}

// pyLen is Python's len() of a result key's value, 0 for none.
func pyLen(v any) int64 {
	switch x := v.(type) {
	case []any:
		return int64(len(x))
	case string:
		return int64(utf8.RuneCountInString(x))
	case map[string]any:
		return int64(len(x))
	}
	return 0
}

// merge is botocore's build_full_result: the result keys of every page
// appended in one answer, then the first page's non-aggregate keys, then
// NextToken where the run stopped short.
func (g *pager) merge(pages []map[string]any) map[string]any {
	full := g.ord.newMap()
	for _, page := range pages {
		for _, k := range g.p.resultKeys {
			v := lookup(page, k)
			if v == nil {
				continue
			}
			existing := lookup(full, k)
			if existing == nil {
				g.ord.setPath(full, k, v)
				continue
			}
			switch x := v.(type) {
			case []any:
				if e, ok := existing.([]any); ok {
					// Appending may write past the first page's list in
					// its array, which nothing reads: each holder of
					// that list keeps its own length.
					g.ord.setPath(full, k, append(e, x...))
				}
			case string:
				if e, ok := existing.(string); ok {
					g.ord.setPath(full, k, e+x)
				}
			case json.Number:
				if e, ok := existing.(json.Number); ok {
					g.ord.setPath(full, k, addNumbers(e, x))
				}
			}
		}
	}
	// Python extends the first page's list in place, so a non-aggregate
	// key holding it (an object around a result key) holds the whole
	// list: set the lists again after the merge.
	lists := map[string]any{}
	for _, k := range g.p.resultKeys {
		if l, ok := lookup(full, k).([]any); ok {
			lists[k] = l
		}
	}
	if g.nonAggregate != nil {
		g.ord.mergeDicts(full, g.nonAggregate)
	}
	for _, k := range g.p.resultKeys {
		if l, ok := lists[k]; ok {
			g.ord.setPath(full, k, l)
		}
	}
	if g.resume != nil {
		g.ord.put(full, "NextToken", g.resume.encode())
	}
	return full
}

// addNumbers sums two numeric result keys, as integers where both are.
func addNumbers(a, b json.Number) json.Number {
	x, errX := strconv.ParseInt(string(a), 10, 64)
	y, errY := strconv.ParseInt(string(b), 10, 64)
	if errX == nil && errY == nil {
		return json.Number(strconv.FormatInt(x+y, 10))
	}
	fa, _ := a.Float64()
	fb, _ := b.Float64()
	return json.Number(pyNumber(strconv.FormatFloat(fa+fb, 'g', -1, 64)))
}

// textPage is what the AWS CLI's text format prints of one page: the
// first page's non-aggregate keys, and each page's result keys.
func (g *pager) textPage(i int, page map[string]any) map[string]any {
	current := g.ord.newMap()
	if i == 0 && g.nonAggregate != nil {
		current = g.nonAggregate
	}
	for _, k := range g.p.resultKeys {
		g.ord.setPath(current, k, lookup(page, k))
	}
	return current
}

// paginated runs a paginated operation and prints its answer as the AWS
// CLI does: JSON and table print the merged answer, text prints page by
// page (the query applied to each) as the pages come, then the NextToken.
func (m *Main) paginated(ctx context.Context, svc *service, op *awsproto.Operation, p *paginator, inv *invocation) error {
	g := &pager{p: p, opts: inv.paging, input: inv.input, ord: orders{}}
	g.fetch = func(input *object) (map[string]any, error) {
		call := *inv
		call.input = input
		body, err := m.call(ctx, svc, op, &call)
		if err != nil {
			return nil, err
		}
		page := map[string]any{}
		if len(strings.TrimSpace(string(body))) > 0 {
			var v any
			if err := decodeJSON(body, &v); err != nil {
				return nil, fmt.Errorf("reading the answer to %s: %w", op.Name, err)
			}
			if obj, ok := v.(map[string]any); ok {
				page = obj
			}
		}
		g.ord.shape(svc, op.Output, page)
		return page, nil
	}
	if inv.output == "text" {
		i := 0
		err := g.each(func(page map[string]any) error {
			defer func() { i++ }()
			return printText(m.Stdout, g.textPage(i, page), g.ord, inv.query)
		})
		if err != nil {
			return err
		}
		if g.resume != nil {
			return printText(m.Stdout, map[string]any{"NextToken": map[string]any{"NextToken": g.resume.encode()}}, g.ord, inv.query)
		}
		return nil
	}
	var pages []map[string]any
	if err := g.each(func(page map[string]any) error {
		pages = append(pages, page)
		return nil
	}); err != nil {
		return err
	}
	return formatOutput(m.Stdout, op.Name, g.merge(pages), g.ord, inv.output, inv.query)
}
