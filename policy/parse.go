package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds how deeply a document may nest. A policy needs five
// levels (document, Statement, statement, Condition, operator, values); the
// bound keeps hostile input from recursing without end.
const maxDepth = 16

// Parse reads a policy document. Elements that may be a string or an array
// accept both; Statement may be one object or an array; unknown elements,
// duplicate keys and values of the wrong JSON type are errors. Parse checks
// shape only; Validate checks meaning for a Kind. It returns *Error.
func Parse(text string) (*Policy, error) {
	root, err := decodeJSON(text)
	if err != nil {
		return nil, syntaxError(-1, "%s", err.Error())
	}
	if root.kind != jsonObject {
		return nil, syntaxError(-1, "a policy must be a JSON object")
	}
	p := &Policy{}
	for i, key := range root.keys {
		v := root.vals[i]
		switch key {
		case "Version":
			if p.Version, err = stringElement(v, "Version", -1); err != nil {
				return nil, err
			}
			if p.Version == "" {
				return nil, syntaxError(-1, "Version is empty")
			}
		case "Id":
			if p.ID, err = stringElement(v, "Id", -1); err != nil {
				return nil, err
			}
		case "Statement":
			items := []*jsonNode{v}
			if v.kind == jsonArray {
				items = v.items
			}
			p.Statements = make([]Statement, 0, len(items))
			for n, item := range items {
				s, err := parseStatement(item, n)
				if err != nil {
					return nil, err
				}
				p.Statements = append(p.Statements, s)
			}
		default:
			return nil, syntaxError(-1, "unknown element %q in the policy (Version, Id and Statement are the only ones)", key)
		}
	}
	return p, nil
}

func parseStatement(v *jsonNode, n int) (Statement, error) {
	var s Statement
	if v.kind != jsonObject {
		return s, syntaxError(n, "statement %d is not a JSON object", n)
	}
	var err error
	for i, key := range v.keys {
		val := v.vals[i]
		switch key {
		case "Sid":
			s.Sid, err = stringElement(val, key, n)
		case "Effect":
			s.Effect, err = stringElement(val, key, n)
		case "Principal":
			s.Principal, err = parsePrincipals(val, key, n)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipals(val, key, n)
		case "Action":
			s.Action, err = stringList(val, key, n)
		case "NotAction":
			s.NotAction, err = stringList(val, key, n)
		case "Resource":
			s.Resource, err = stringList(val, key, n)
		case "NotResource":
			s.NotResource, err = stringList(val, key, n)
		case "Condition":
			s.Condition, err = parseCondition(val, n)
		default:
			return s, syntaxError(n, "unknown element %q in statement %d", key, n)
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// parsePrincipals reads "*" or {"AWS": ..., "Service": ..., "Federated":
// ..., "CanonicalUser": ...}, the only forms IAM's grammar has.
func parsePrincipals(v *jsonNode, element string, n int) (*Principals, error) {
	if v.kind == jsonString {
		if v.str != "*" {
			return nil, syntaxError(n, "%s %q in statement %d: a principal given as a string must be \"*\"; name others as {\"AWS\": %q}", element, v.str, n, v.str)
		}
		return &Principals{Any: true}, nil
	}
	if v.kind != jsonObject {
		return nil, syntaxError(n, "%s in statement %d must be \"*\" or an object", element, n)
	}
	p := &Principals{}
	for i, key := range v.keys {
		list, err := stringList(v.vals[i], element+"."+key, n)
		if err != nil {
			return nil, err
		}
		switch key {
		case "AWS":
			p.AWS = list
		case "Service":
			p.Service = list
		case "Federated":
			p.Federated = list
		case "CanonicalUser":
			p.CanonicalUser = list
		default:
			return nil, syntaxError(n, "unknown principal type %q in statement %d (AWS, Service, Federated and CanonicalUser are the types)", key, n)
		}
	}
	return p, nil
}

// parseCondition reads {operator: {key: value-or-values}}. Values may be
// strings, numbers or booleans, alone or in an array.
func parseCondition(v *jsonNode, n int) ([]Condition, error) {
	if v.kind != jsonObject {
		return nil, syntaxError(n, "Condition in statement %d must be an object of operators", n)
	}
	out := []Condition{}
	for i, op := range v.keys {
		keys := v.vals[i]
		if keys.kind != jsonObject {
			return nil, syntaxError(n, "condition operator %s in statement %d must map condition keys to values", op, n)
		}
		for j, key := range keys.keys {
			val := keys.vals[j]
			items := []*jsonNode{val}
			if val.kind == jsonArray {
				items = val.items
			}
			values := make([]string, 0, len(items))
			for _, item := range items {
				if item.kind != jsonString && item.kind != jsonNumber && item.kind != jsonBool {
					return nil, syntaxError(n, "condition %s %s in statement %d: values must be strings, numbers or booleans", op, key, n)
				}
				values = append(values, item.str)
			}
			out = append(out, Condition{Operator: op, Key: key, Values: values})
		}
	}
	return out, nil
}

func stringElement(v *jsonNode, element string, n int) (string, error) {
	if v.kind != jsonString {
		return "", syntaxError(n, "%s must be a string", element)
	}
	return v.str, nil
}

// stringList reads a string or an array of strings; an empty array gives an
// empty non-nil slice.
func stringList(v *jsonNode, element string, n int) ([]string, error) {
	if v.kind == jsonString {
		return []string{v.str}, nil
	}
	if v.kind != jsonArray {
		return nil, syntaxError(n, "%s must be a string or an array of strings", element)
	}
	out := make([]string, 0, len(v.items))
	for _, item := range v.items {
		if item.kind != jsonString {
			return nil, syntaxError(n, "%s must be a string or an array of strings", element)
		}
		out = append(out, item.str)
	}
	return out, nil
}

func syntaxError(n int, format string, args ...any) *Error {
	d := fmt.Sprintf(format, args...)
	return &Error{Message: msgSyntax, Detail: d, Statement: n}
}

// jsonNode is a decoded JSON value that, unlike map[string]any, keeps the
// order of an object's keys (so conditions evaluate and re-encode in the
// order written) and lets the decoder refuse duplicate keys, which
// encoding/json silently resolves to the last one.
type jsonNode struct {
	kind  jsonKind
	str   string // string value, number text, or "true"/"false"
	keys  []string
	vals  []*jsonNode
	items []*jsonNode
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func decodeJSON(text string) (*jsonNode, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	root, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the end of the JSON document")
	}
	return root, nil
}

func decodeValue(dec *json.Decoder, depth int) (*jsonNode, error) {
	if depth > maxDepth {
		return nil, errors.New("the document nests too deeply")
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, errors.New("the document ends early")
	}
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case nil:
		return &jsonNode{kind: jsonNull}, nil
	case bool:
		s := "false"
		if t {
			s = "true"
		}
		return &jsonNode{kind: jsonBool, str: s}, nil
	case json.Number:
		return &jsonNode{kind: jsonNumber, str: t.String()}, nil
	case string:
		return &jsonNode{kind: jsonString, str: t}, nil
	case json.Delim:
		if t == '[' {
			node := &jsonNode{kind: jsonArray, items: []*jsonNode{}}
			for dec.More() {
				item, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				node.items = append(node.items, item)
			}
			_, err := dec.Token() // ']'
			return node, err
		}
		node := &jsonNode{kind: jsonObject}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			key := kt.(string) // the decoder only yields strings as keys
			if seen[key] {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
			seen[key] = true
			val, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			node.keys = append(node.keys, key)
			node.vals = append(node.vals, val)
		}
		_, err := dec.Token() // '}'
		return node, err
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
