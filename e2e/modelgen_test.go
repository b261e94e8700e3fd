package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/berth-registry/berth/awsproto"
	berthecr "github.com/berth-registry/berth/ecr"
)

// Valid values of the patterned string shapes, at their lower and upper
// bounds where they have them; every other string the generator makes
// from the shape alone. A new patterned shape fails the test until it is
// named here.
var patterned = map[string][2]string{
	"ImageTagMutabilityExclusionFilterValue": {"a", strings.Repeat("a", 128)},
	"KmsKeyForRepositoryCreationTemplate":    {"", "arn:aws:kms:us-east-1:123456789012:key/" + strings.Repeat("a", 2048-39)},
	"LayerDigest":                            {"sha256:" + strings.Repeat("a", 64), ""},
	"Prefix":                                 {"a", strings.Repeat("a", 256)},
	"RegistryId":                             {testRegistryID, ""},
	"RepositoryName":                         {"ab", strings.Repeat("a", 256)},
	"UploadId":                               {"00000000-0000-0000-0000-000000000000", ""},
}

// step is one step of a member's path: a structure member, or (name "")
// the first item of a list.
type step struct{ name string }

// genCase is one generated request: an operation's body with one member
// changed, and what the model makes of it.
type genCase struct {
	op, what string
	path     string // the member's path as AWS spells it
	body     map[string]any
	// want is "accept" (the model has no objection; any other answer but a
	// 5xx), or the exception the model calls for.
	want string
}

const (
	accept = "accept"
	ipe    = "InvalidParameterException"
	ser    = "SerializationException"
)

// generator makes the cases of one operation.
type generator struct {
	t     *testing.T
	op    string
	in    *awsproto.Shape
	cases []genCase
}

// sample is a valid value of s: its required members, its minimum count
// of items, the lower bound of its length or range.
func (g *generator) sample(s *awsproto.Shape, depth int) any {
	switch s.Type {
	case "structure":
		v := map[string]any{}
		for _, r := range s.Required {
			v[r] = g.sample(s.Members[r], depth+1)
		}
		return v
	case "list":
		n := max(1, lower(s))
		items := make([]any, n)
		for i := range items {
			items[i] = g.sample(s.Member, depth+1)
		}
		return items
	case "map":
		return map[string]any{"k": g.sample(s.Value, depth+1)}
	case "string":
		if s.Pattern != "" {
			p, ok := patterned[s.Name]
			if !ok {
				g.t.Fatalf("%s: the patterned shape %s has no sample in patterned", g.op, s.Name)
			}
			return p[0]
		}
		if len(s.Enum) > 0 {
			return s.Enum[0]
		}
		return strings.Repeat("a", max(1, lower(s)))
	case "blob":
		return "eA=="
	case "integer", "long":
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case "boolean":
		return true
	}
	return 1 // timestamps and doubles
}

func lower(s *awsproto.Shape) int {
	if s.Min != nil {
		return int(*s.Min)
	}
	return 0
}

// with returns a copy of the operation's sample body with the member at
// path set to v (or removed, for remove), the structures on the way made
// from their samples.
func (g *generator) with(path []step, v any, remove bool) map[string]any {
	body := g.sample(g.in, 0).(map[string]any)
	var cur any = body
	s := g.in
	for i, st := range path {
		last := i == len(path)-1
		if st.name == "" { // the first item of a list
			items := cur.([]any)
			if last {
				items[0] = v
				return body
			}
			cur, s = items[0], s.Member
			continue
		}
		obj := cur.(map[string]any)
		ms := s.Members[st.name]
		if last {
			if remove {
				delete(obj, st.name)
			} else {
				obj[st.name] = v
			}
			return body
		}
		if _, ok := obj[st.name]; !ok {
			obj[st.name] = g.sample(ms, 0)
		}
		cur, s = obj[st.name], ms
	}
	return body
}

// renamed is with, the member's name put in another case.
func (g *generator) renamed(path []step, name string) map[string]any {
	body := g.with(path, nil, true)
	var cur any = body
	s := g.in
	for _, st := range path[:len(path)-1] {
		if st.name == "" {
			cur, s = cur.([]any)[0], s.Member
			continue
		}
		cur, s = cur.(map[string]any)[st.name], s.Members[st.name]
	}
	cur.(map[string]any)[name] = g.sample(s.Members[path[len(path)-1].name], 0)
	return body
}

func awsPath(path []step) string {
	var parts []string
	for _, st := range path {
		if st.name == "" {
			parts = append(parts, "1.member")
		} else {
			parts = append(parts, st.name)
		}
	}
	return strings.Join(parts, ".")
}

func (g *generator) add(path []step, what string, body map[string]any, want string) {
	g.cases = append(g.cases, genCase{op: g.op, what: what, path: awsPath(path), body: body, want: want})
}

// members generates the cases of every member of structure s at path.
func (g *generator) members(s *awsproto.Shape, path []step, seen map[string]bool) {
	if seen[s.Name] || len(path) > 6 {
		return // recursive shapes are followed once
	}
	seen[s.Name] = true
	defer delete(seen, s.Name)
	for _, name := range s.MemberNames {
		ms := s.Members[name]
		p := append(append([]step{}, path...), step{name})
		if s.IsRequired(name) {
			g.add(p, "missing", g.with(p, nil, true), ipe)
		}
		if other := otherCase(name); other != name {
			want := accept // an unknown member, ignored
			if s.IsRequired(name) {
				want = ipe
			}
			g.add(p, "named "+other, g.renamed(p, other), want)
		}
		g.value(ms, p, seen)
	}
}

func otherCase(name string) string {
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// value generates the cases of one member's own constraints.
func (g *generator) value(s *awsproto.Shape, p []step, seen map[string]bool) {
	wrong := any("x")
	if s.Type == "string" || s.Type == "blob" {
		wrong = 5
	}
	g.add(p, "of the wrong JSON type", g.with(p, wrong, false), ser)
	switch s.Type {
	case "structure":
		g.members(s, p, seen)
	case "list":
		item := g.sample(s.Member, 0)
		items := func(n int) []any {
			v := make([]any, n)
			for i := range v {
				v[i] = item
			}
			return v
		}
		if s.Min != nil && *s.Min > 0 {
			g.add(p, fmt.Sprintf("with %d items", *s.Min-1), g.with(p, items(int(*s.Min-1)), false), ipe)
			g.add(p, fmt.Sprintf("with %d items", *s.Min), g.with(p, items(int(*s.Min)), false), accept)
		}
		if s.Max != nil && *s.Max <= 1000 {
			g.add(p, fmt.Sprintf("with %d items", *s.Max), g.with(p, items(int(*s.Max)), false), accept)
			g.add(p, fmt.Sprintf("with %d items", *s.Max+1), g.with(p, items(int(*s.Max+1)), false), ipe)
		}
		g.value(s.Member, append(append([]step{}, p...), step{""}), seen)
	case "string":
		g.text(s, p)
	case "integer", "long":
		if s.Min != nil {
			g.add(p, fmt.Sprint("at ", *s.Min), g.with(p, *s.Min, false), accept)
			g.add(p, fmt.Sprint("at ", *s.Min-1), g.with(p, *s.Min-1, false), ipe)
		}
		if s.Max != nil {
			g.add(p, fmt.Sprint("at ", *s.Max), g.with(p, *s.Max, false), accept)
			g.add(p, fmt.Sprint("at ", *s.Max+1), g.with(p, *s.Max+1, false), ipe)
		}
	}
}

func (g *generator) text(s *awsproto.Shape, p []step) {
	if len(s.Enum) > 0 {
		for _, v := range s.Enum {
			g.add(p, "= "+v, g.with(p, v, false), accept)
		}
		if low := strings.ToLower(s.Enum[0]); low != s.Enum[0] {
			g.add(p, "= "+low, g.with(p, low, false), ipe)
		}
		g.add(p, "empty", g.with(p, "", false), ipe)
		return
	}
	bounds, ok := patterned[s.Name]
	if s.Min != nil && *s.Min > 0 {
		g.add(p, fmt.Sprintf("of %d characters", *s.Min-1), g.with(p, strings.Repeat("a", int(*s.Min-1)), false), ipe)
		if v := strings.Repeat("a", int(*s.Min)); !ok || bounds[0] == v {
			g.add(p, fmt.Sprintf("of %d characters", *s.Min), g.with(p, v, false), accept)
		}
	}
	if s.Max != nil && *s.Max <= 1<<16 {
		g.add(p, fmt.Sprintf("of %d characters", *s.Max+1), g.with(p, strings.Repeat("a", int(*s.Max+1)), false), ipe)
		switch {
		case !ok:
			g.add(p, fmt.Sprintf("of %d characters", *s.Max), g.with(p, strings.Repeat("a", int(*s.Max)), false), accept)
		case bounds[1] != "":
			g.add(p, fmt.Sprintf("of %d characters", len(bounds[1])), g.with(p, bounds[1], false), accept)
		}
	}
	if s.Pattern != "" {
		bad := "!" + bounds[0] + "!"
		if !regexp.MustCompile(`^(?:` + s.Pattern + `)$`).MatchString(bad) {
			g.add(p, "outside its pattern", g.with(p, bad, false), ipe)
		}
	}
}

// TestModelGenerated sends, for every served operation and every member
// of its input, one signed request per boundary the model sets: a required
// member missing or named in another case, the wrong JSON type, lengths
// and counts and values at their bounds and one past them, a value outside
// its pattern, an enum value in another case. A request the model refuses
// gets the model's exception, naming the member; one it allows is not
// refused for that member; none gets a 5xx.
func TestModelGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	e := start(t)
	e.createRepo("ab") // the samples name the shortest repository name
	c := e.srv.Credential
	now := time.Now()
	var all []genCase
	perOp := map[string]int{}
	for _, op := range berthecr.Served() {
		g := &generator{t: t, op: op, in: berthecr.Model.Operations[op].Input}
		if g.in == nil {
			continue
		}
		g.members(g.in, nil, map[string]bool{})
		all = append(all, g.cases...)
		perOp[op] = len(g.cases)
	}
	for _, tc := range all {
		body, err := json.Marshal(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		resp, raw := e.raw(e.signed(tc.op, string(body), c.AccessKeyID, c.SecretAccessKey, now))
		var ae awsError
		json.Unmarshal(raw, &ae)
		name := fmt.Sprintf("%s with %s %s", tc.op, tc.path, tc.what)
		switch {
		case resp.StatusCode >= 500:
			t.Errorf("%s: %d %s", name, resp.StatusCode, raw)
		case tc.want == accept && (ae.Type == ser || (ae.Type == ipe && strings.Contains(ae.Message, "at '"+tc.path+"' failed to satisfy constraint: 'Member must"))):
			t.Errorf("%s: the model allows it, got %s %q", name, ae.Type, ae.Message)
		case tc.want != accept && (resp.StatusCode != 400 || ae.Type != tc.want):
			t.Errorf("%s: got %d %s %q, want %s", name, resp.StatusCode, ae.Type, ae.Message, tc.want)
		case tc.want == ipe && !strings.Contains(ae.Message, "Invalid parameter at '"+tc.path):
			t.Errorf("%s: the message does not name %s: %q", name, tc.path, ae.Message)
		}
	}
	ops := make([]string, 0, len(perOp))
	for op, n := range perOp {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	t.Logf("%d generated cases over %d operations: %s", len(all), len(perOp), strings.Join(ops, ", "))
	if len(all) < 100 || len(perOp) < 20 {
		t.Fatalf("only %d cases over %d operations", len(all), len(perOp))
	}
}
