package policy

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes p in a canonical form: elements in the grammar's order,
// every list as an array, condition values as strings. Parse of the result
// gives back a Policy equal to p, which is what lets berth store a document
// it has checked and show it again.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(&b, name)
		b.WriteByte(':')
	}
	if p.Version != "" {
		field("Version")
		writeString(&b, p.Version)
	}
	if p.ID != "" {
		field("Id")
		writeString(&b, p.ID)
	}
	if p.Statements != nil {
		field("Statement")
		b.WriteByte('[')
		for i := range p.Statements {
			if i > 0 {
				b.WriteByte(',')
			}
			p.Statements[i].marshal(&b)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// String is the canonical JSON text of p.
func (p *Policy) String() string {
	out, _ := p.MarshalJSON()
	return string(out)
}

func (s *Statement) marshal(b *bytes.Buffer) {
	b.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, name)
		b.WriteByte(':')
	}
	if s.Sid != "" {
		field("Sid")
		writeString(b, s.Sid)
	}
	if s.Effect != "" {
		field("Effect")
		writeString(b, s.Effect)
	}
	if s.Principal != nil {
		field("Principal")
		s.Principal.marshal(b)
	}
	if s.NotPrincipal != nil {
		field("NotPrincipal")
		s.NotPrincipal.marshal(b)
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if l.list != nil {
			field(l.name)
			writeList(b, l.list)
		}
	}
	if s.Condition != nil {
		field("Condition")
		marshalConditions(b, s.Condition)
	}
	b.WriteByte('}')
}

func (p *Principals) marshal(b *bytes.Buffer) {
	if p.Any {
		writeString(b, "*")
		return
	}
	b.WriteByte('{')
	first := true
	for _, t := range []struct {
		name string
		list []string
	}{{"AWS", p.AWS}, {"Service", p.Service}, {"Federated", p.Federated}, {"CanonicalUser", p.CanonicalUser}} {
		if t.list == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, t.name)
		b.WriteByte(':')
		writeList(b, t.list)
	}
	b.WriteByte('}')
}

// marshalConditions groups the flat (operator, key) list back into one
// object per operator, in the order each operator first appears.
func marshalConditions(b *bytes.Buffer, conds []Condition) {
	b.WriteByte('{')
	done := make([]bool, len(conds))
	firstOp := true
	for i := range conds {
		if done[i] {
			continue
		}
		if !firstOp {
			b.WriteByte(',')
		}
		firstOp = false
		writeString(b, conds[i].Operator)
		b.WriteString(":{")
		firstKey := true
		for j := i; j < len(conds); j++ {
			if done[j] || conds[j].Operator != conds[i].Operator {
				continue
			}
			done[j] = true
			if !firstKey {
				b.WriteByte(',')
			}
			firstKey = false
			writeString(b, conds[j].Key)
			b.WriteByte(':')
			writeList(b, conds[j].Values)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func writeList(b *bytes.Buffer, list []string) {
	b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

func writeString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s) // a string always marshals
	b.Write(out)
}
