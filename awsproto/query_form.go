package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// param is a node of the tree the parameters' names make, split at their
// dots: Tags.member.1.Key is Tags → member → 1 → Key.
type param struct {
	value string
	// set: a parameter ends here. Name= is set with the empty value: an
	// empty string, or an empty list or map.
	set      bool
	children map[string]*param
}

func paramTree(params url.Values) *param {
	root := &param{}
	for name, values := range params {
		p := root
		for _, seg := range strings.Split(name, ".") {
			c := p.children[seg]
			if c == nil {
				if p.children == nil {
					p.children = map[string]*param{}
				}
				c = &param{}
				p.children[seg] = c
			}
			p = c
		}
		p.value, p.set = values[0], true
	}
	return root
}

// numbered are p's children named by positions (1, 2, …), in their order;
// other names are not items.
func (p *param) numbered() []string {
	var ns []int
	for seg := range p.children {
		if n, err := strconv.Atoi(seg); err == nil && n > 0 && strconv.Itoa(n) == seg {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	segs := make([]string, len(ns))
	for i, n := range ns {
		segs[i] = strconv.Itoa(n)
	}
	return segs
}

// empty: the parameter is Name=, which stands for an empty list or map.
func (p *param) empty() bool { return p.set && p.value == "" }

// queryInput is the JSON document of the input shape in the parameters.
func queryInput(m *Model, in *Shape, params url.Values) ([]byte, error) {
	if in == nil {
		return []byte("{}"), nil
	}
	doc, _, err := formValue(m, in, wire{}, paramTree(params), "")
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // a policy's & stays &
	if err := enc.Encode(doc); err != nil {
		return nil, errors.Join(errors.New("awsproto: encoding a query input"), err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// formValue is the value of shape s, reached through reference w, in p:
// the parameter called name, or the names below it. present is false where
// the parameters do not give it.
func formValue(m *Model, s *Shape, w wire, p *param, name string) (v any, present bool, err error) {
	switch s.Type {
	case "structure":
		qs := m.queryShape(s)
		obj := map[string]any{}
		for _, mn := range s.MemberNames {
			ms, mw := s.Members[mn], qs.members[mn]
			seg := mw.named(mn)
			if ms.Type == "list" && mw.flattened {
				// A flattened list's items go by its member's name where the
				// model gives one (botocore's rule).
				seg = m.queryShape(ms).item.named(seg)
			}
			c := p.children[seg]
			if c == nil {
				continue
			}
			mv, ok, err := formValue(m, ms, mw, c, join(name, seg))
			if err != nil {
				return nil, false, err
			}
			if ok {
				obj[mn] = mv
			}
		}
		return obj, true, nil
	case "list":
		item := m.queryShape(s).item
		items, prefix := p, name
		if !w.flattened {
			seg := item.named("member")
			items, prefix = p.children[seg], join(name, seg)
		}
		var ns []string
		if items != nil {
			ns = items.numbered()
		}
		if len(ns) == 0 {
			return []any{}, p.empty(), nil
		}
		arr := make([]any, 0, len(ns))
		for _, n := range ns {
			// An item without a value stays null, which Check refuses.
			iv, _, err := formValue(m, s.Member, item, items.children[n], prefix+"."+n)
			if err != nil {
				return nil, false, err
			}
			arr = append(arr, iv)
		}
		return arr, true, nil
	case "map":
		qs := m.queryShape(s)
		entries, prefix := p, name
		if !w.flattened {
			entries, prefix = p.children["entry"], join(name, "entry")
		}
		var ns []string
		if entries != nil {
			ns = entries.numbered()
		}
		if len(ns) == 0 {
			return map[string]any{}, p.empty(), nil
		}
		keyName, valueName := qs.key.named("key"), qs.value.named("value")
		obj := map[string]any{}
		for _, n := range ns {
			e := entries.children[n]
			k := e.children[keyName]
			if k == nil || !k.set {
				continue // no key: no entry
			}
			var ev any
			if vp := e.children[valueName]; vp != nil {
				if ev, _, err = formValue(m, s.Value, qs.value, vp, prefix+"."+n+"."+valueName); err != nil {
					return nil, false, err
				}
			}
			obj[k.value] = ev
		}
		return obj, true, nil
	}
	if !p.set {
		return nil, false, nil
	}
	v, err = scalar(s, p.value)
	if err != nil {
		return nil, false, senderError("InvalidParameterValue", "Invalid value '%s' for parameter %s: %v", p.value, name, err)
	}
	return v, true, nil
}

// scalar is a parameter's text as the JSON value of shape s.
func scalar(s *Shape, text string) (any, error) {
	switch s.Type {
	case "boolean":
		switch strings.ToLower(text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("it must be true or false")
	case "integer", "long":
		bits := 64
		if s.Type == "integer" {
			bits = 32
		}
		n, err := strconv.ParseInt(text, 10, bits)
		if err != nil {
			return nil, fmt.Errorf("it must be an integer of %d bits", bits)
		}
		return n, nil
	case "float", "double":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errors.New("it must be a number")
		}
		return f, nil
	case "timestamp":
		t, err := parseTimestamp(text)
		if err != nil {
			return nil, err
		}
		// As JSON 1.1 sends one: epoch seconds, with milliseconds.
		return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
	}
	return text, nil // string, blob (its base64, as sent)
}

// parseTimestamp reads a timestamp as the query protocol sends one, ISO
// 8601 (botocore and the SDKs), or as epoch seconds or an HTTP date.
func parseTimestamp(text string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", text); err == nil {
		return t, nil // no zone: UTC
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	if t, err := http.ParseTime(text); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("it must be an ISO 8601 timestamp (2006-01-02T15:04:05Z)")
}

func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
