// Package awsproto is the AWS protocol plumbing the API doors share: a
// service's official model (botocore's JSON form) as data, and the strict,
// model-driven decoding and validation of its requests. A door keeps only
// the mapping from a validated input to a registry call.
package awsproto

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Model is one service's API model.
type Model struct {
	Metadata   Metadata
	Operations map[string]*Operation
	Shapes     map[string]*Shape
	// query holds the wire names, XML layout, result wrappers and error
	// codes of a query-protocol model (query_model.go); nil for the JSON
	// protocols, which need none of them.
	query *queryTraits
}

// Metadata is the service-wide part of a model.
type Metadata struct {
	APIVersion   string `json:"apiVersion"`
	Protocol     string `json:"protocol"`
	ServiceID    string `json:"serviceId"`
	SigningName  string `json:"signingName"`
	TargetPrefix string `json:"targetPrefix"`
	UID          string `json:"uid"`
}

// Operation is one operation of a model.
type Operation struct {
	Name   string
	Input  *Shape // nil when the operation takes no input
	Output *Shape
	// Errors are the names of the exceptions the model lists.
	Errors []string
}

// Shape is a type of a model, with its constraints.
type Shape struct {
	Name string
	// Type is the model's: structure, list, map, string, blob, boolean,
	// integer, long, float, double or timestamp.
	Type string
	// Members of a structure, and their names in the model's order.
	Members     map[string]*Shape
	MemberNames []string
	Required    []string
	// Member of a list; Key and Value of a map.
	Member, Key, Value *Shape
	// Min and Max bound a length (string, blob, list, map) or a value
	// (numbers), where the model sets them.
	Min, Max *int64
	// Pattern is the model's regular expression for a string (Java's
	// syntax); a value must match it whole. A pattern with a lookaround,
	// which Go's regexp cannot express, is kept but not checked (IAM's
	// accountAliasType).
	Pattern     string
	patternRE   *regexp.Regexp
	Enum        []string
	enumSet     map[string]bool
	Exception   bool
	requiredSet map[string]bool
}

type rawShape struct {
	Type      string                  `json:"type"`
	Members   map[string]rawReference `json:"members"`
	Required  []string                `json:"required"`
	Member    *rawReference           `json:"member"`
	Key       *rawReference           `json:"key"`
	Value     *rawReference           `json:"value"`
	Min       *json.Number            `json:"min"`
	Max       *json.Number            `json:"max"`
	Pattern   string                  `json:"pattern"`
	Enum      []string                `json:"enum"`
	Exception bool                    `json:"exception"`
}

type rawReference struct {
	Shape string `json:"shape"`
}

type rawModel struct {
	Metadata   Metadata `json:"metadata"`
	Operations map[string]struct {
		Input  *rawReference  `json:"input"`
		Output *rawReference  `json:"output"`
		Errors []rawReference `json:"errors"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

// Load reads a model in botocore's JSON form (service-2.json).
func Load(data []byte) (*Model, error) {
	var raw rawModel
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("awsproto: reading the model: %w", err)
	}
	m := &Model{Metadata: raw.Metadata, Operations: map[string]*Operation{}, Shapes: map[string]*Shape{}}
	for name, rs := range raw.Shapes {
		s := &Shape{Name: name, Type: rs.Type, Required: rs.Required, Pattern: rs.Pattern, Enum: rs.Enum, Exception: rs.Exception}
		var err error
		if s.Min, err = bound(rs.Min); err != nil {
			return nil, fmt.Errorf("awsproto: shape %s: min: %w", name, err)
		}
		if s.Max, err = bound(rs.Max); err != nil {
			return nil, fmt.Errorf("awsproto: shape %s: max: %w", name, err)
		}
		if rs.Pattern != "" {
			if s.patternRE, err = compilePattern(rs.Pattern); err != nil {
				return nil, fmt.Errorf("awsproto: shape %s: pattern: %w", name, err)
			}
		}
		if len(rs.Enum) > 0 {
			s.enumSet = map[string]bool{}
			for _, v := range rs.Enum {
				s.enumSet[v] = true
			}
		}
		s.requiredSet = map[string]bool{}
		for _, r := range rs.Required {
			s.requiredSet[r] = true
		}
		m.Shapes[name] = s
	}
	ref := func(from string, r *rawReference) (*Shape, error) {
		if r == nil {
			return nil, nil
		}
		s := m.Shapes[r.Shape]
		if s == nil {
			return nil, fmt.Errorf("awsproto: %s refers to the unknown shape %q", from, r.Shape)
		}
		return s, nil
	}
	for name, rs := range raw.Shapes {
		s := m.Shapes[name]
		var err error
		if s.Member, err = ref(name+".member", rs.Member); err != nil {
			return nil, err
		}
		if s.Key, err = ref(name+".key", rs.Key); err != nil {
			return nil, err
		}
		if s.Value, err = ref(name+".value", rs.Value); err != nil {
			return nil, err
		}
		if len(rs.Members) > 0 {
			s.Members = map[string]*Shape{}
			for mn, mr := range rs.Members {
				if s.Members[mn], err = ref(name+"."+mn, &mr); err != nil {
					return nil, err
				}
				s.MemberNames = append(s.MemberNames, mn)
			}
			sort.Strings(s.MemberNames)
		}
	}
	for name, ro := range raw.Operations {
		op := &Operation{Name: name}
		var err error
		if op.Input, err = ref(name+" input", ro.Input); err != nil {
			return nil, err
		}
		if op.Output, err = ref(name+" output", ro.Output); err != nil {
			return nil, err
		}
		for _, e := range ro.Errors {
			op.Errors = append(op.Errors, e.Shape)
		}
		m.Operations[name] = op
	}
	if m.Metadata.Protocol == "query" {
		var err error
		if m.query, err = loadQueryTraits(data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// compilePattern compiles a model's pattern, anchored. The models are
// written for Java's regular expressions: \uXXXX (exactly four hex digits)
// becomes Go's \x{XXXX}; a lookaround, which Go lacks, leaves the pattern
// unchecked (nil).
func compilePattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' || i+1 == len(p) {
			b.WriteByte(p[i])
			continue
		}
		if p[i+1] == 'u' && i+6 <= len(p) && hex4(p[i+2:i+6]) {
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 5
			continue
		}
		b.WriteString(p[i : i+2]) // an escape: its character is not the start of another
		i++
	}
	re, err := regexp.Compile(`^(?:` + b.String() + `)$`)
	if err != nil && lookaround.MatchString(p) {
		return nil, nil
	}
	return re, err
}

var lookaround = regexp.MustCompile(`\(\?<?[!=]`)

func hex4(s string) bool {
	_, err := strconv.ParseUint(s, 16, 16)
	return err == nil
}

func bound(n *json.Number) (*int64, error) {
	if n == nil {
		return nil, nil
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			return nil, err
		}
		v = int64(f)
	}
	return &v, nil
}

// OperationNames returns the model's operations, sorted.
func (m *Model) OperationNames() []string {
	names := make([]string, 0, len(m.Operations))
	for n := range m.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsRequired reports whether a structure requires the member.
func (s *Shape) IsRequired(member string) bool { return s.requiredSet[member] }
