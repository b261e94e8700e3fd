package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// WriteQuery writes the answer of operation op: HTTP 200, text/xml,
//
//	<OpResponse xmlns="…"><OpResult>…</OpResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>
//
// with no result element for an operation without output. result is
// JSON-able (a struct whose json tags are the model's member names, or a
// map[string]any), and is laid out by op's output shape: members in the
// model's order, null ones left out; a list's items as <member> (or
// flattened, or renamed, as the model says), a map's as
// <entry><key/><value/></entry>; timestamps (a time.Time, an Epoch or epoch
// seconds) in ISO 8601 UTC, as 2026-12-07T16:42:18Z. A result that does not
// fit the shape (a member the model does not name, a value of another type)
// is an error, and nothing is written: the door's bug, to answer as a
// ServiceFailure.
func WriteQuery(w http.ResponseWriter, m *Model, op *Operation, requestID string, result any) error {
	var doc any
	if result != nil {
		if op.Output == nil {
			return fmt.Errorf("awsproto: %s has no output, and was given a result", op.Name)
		}
		raw, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("awsproto: encoding the %s result: %w", op.Name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("awsproto: encoding the %s result: %w", op.Name, err)
		}
	}
	x := &xmlWriter{m: m}
	x.open(op.Name+"Response", m.queryNamespace())
	if op.Output != nil {
		wrapper := op.Name + "Result"
		if m.query != nil && m.query.results[op.Name] != "" {
			wrapper = m.query.results[op.Name]
		}
		x.open(wrapper, "")
		if doc != nil {
			if err := x.content(op.Output, wire{}, doc, op.Name+"Result"); err != nil {
				return err
			}
		}
		x.close(wrapper)
	}
	x.open("ResponseMetadata", "")
	x.text("RequestId", requestID)
	x.close("ResponseMetadata")
	x.close(op.Name + "Response")
	writeXML(w, http.StatusOK, requestID, x.b.Bytes())
	return nil
}

// WriteQueryError writes e as the query protocol's clients parse errors:
//
//	<ErrorResponse xmlns="…"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>…</Message></Error><RequestId>id</RequestId></ErrorResponse>
//
// with e's status (500 where it has none). A missing Type is Sender below
// 500 and Receiver from it.
func WriteQueryError(w http.ResponseWriter, m *Model, requestID string, e *QueryError) {
	status, typ := e.Status, e.Type
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if typ == "" {
		typ = "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
	}
	x := &xmlWriter{m: m}
	x.open("ErrorResponse", m.queryNamespace())
	x.open("Error", "")
	x.text("Type", typ)
	x.text("Code", e.Code)
	x.text("Message", e.Message)
	x.close("Error")
	x.text("RequestId", requestID)
	x.close("ErrorResponse")
	writeXML(w, status, requestID, x.b.Bytes())
}

func writeXML(w http.ResponseWriter, status int, requestID string, body []byte) {
	w.Header().Set("Content-Type", XMLContentType)
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	w.Write(body)
}

// queryNamespace is the XML namespace of m's answers: the model's
// xmlNamespace, or https://<endpoint prefix>.amazonaws.com/doc/<version>/.
func (m *Model) queryNamespace() string {
	if m.query != nil {
		return m.query.namespace
	}
	return "https://" + m.Metadata.SigningName + ".amazonaws.com/doc/" + m.Metadata.APIVersion + "/"
}

type xmlWriter struct {
	m *Model
	b bytes.Buffer
}

func (x *xmlWriter) open(name, namespace string) {
	x.b.WriteString("<" + name)
	if namespace != "" {
		x.b.WriteString(` xmlns="`)
		xml.EscapeText(&x.b, []byte(namespace))
		x.b.WriteString(`"`)
	}
	x.b.WriteString(">")
}

func (x *xmlWriter) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *xmlWriter) text(name, v string) {
	x.open(name, "")
	xml.EscapeText(&x.b, []byte(v))
	x.close(name)
}

// element writes v, of shape s reached through reference w, as the element
// name (as items, for a flattened list or map).
func (x *xmlWriter) element(s *Shape, w wire, name string, v any, path string) error {
	qs := x.m.queryShape(s)
	switch {
	case s.Type == "list" && w.flattened:
		arr, ok := v.([]any)
		if !ok {
			return mismatch(path, s, v)
		}
		name = qs.item.named(name)
		for i, item := range arr {
			if err := x.element(s.Member, qs.item, name, item, path+"."+strconv.Itoa(i+1)); err != nil {
				return err
			}
		}
		return nil
	case s.Type == "map" && w.flattened:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch(path, s, v)
		}
		for _, k := range sortedKeys(obj) {
			x.open(name, "")
			if err := x.entry(s, qs, k, obj[k], path); err != nil {
				return err
			}
			x.close(name)
		}
		return nil
	}
	x.open(name, "")
	if err := x.content(s, w, v, path); err != nil {
		return err
	}
	x.close(name)
	return nil
}

// content writes what goes inside the element of v, of shape s reached
// through reference w.
func (x *xmlWriter) content(s *Shape, w wire, v any, path string) error {
	qs := x.m.queryShape(s)
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch(path, s, v)
		}
		for name := range obj {
			if s.Members[name] == nil {
				return fmt.Errorf("awsproto: %s has the member %s, which the model does not name", path, name)
			}
		}
		for _, name := range x.m.memberOrder(s) {
			mv := obj[name]
			if mv == nil {
				continue
			}
			mw := qs.members[name]
			if err := x.element(s.Members[name], mw, mw.named(name), mv, path+"."+name); err != nil {
				return err
			}
		}
		return nil
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return mismatch(path, s, v)
		}
		name := qs.item.named("member")
		for i, item := range arr {
			if err := x.element(s.Member, qs.item, name, item, path+"."+strconv.Itoa(i+1)); err != nil {
				return err
			}
		}
		return nil
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch(path, s, v)
		}
		for _, k := range sortedKeys(obj) {
			x.open("entry", "")
			if err := x.entry(s, qs, k, obj[k], path); err != nil {
				return err
			}
			x.close("entry")
		}
		return nil
	}
	text, err := scalarText(s, w, v)
	if err != nil {
		return fmt.Errorf("awsproto: %s: %w", path, err)
	}
	xml.EscapeText(&x.b, []byte(text))
	return nil
}

// entry writes a map entry's key and value elements.
func (x *xmlWriter) entry(s *Shape, qs *queryShape, k string, v any, path string) error {
	x.text(qs.key.named("key"), k)
	if v == nil {
		return nil
	}
	return x.element(s.Value, qs.value, qs.value.named("value"), v, path+"."+k)
}

// scalarText is a scalar's text in XML.
func scalarText(s *Shape, w wire, v any) (string, error) {
	switch s.Type {
	case "string":
		if t, ok := v.(string); ok {
			return t, nil
		}
	case "blob":
		if t, ok := v.(string); ok {
			if _, err := base64.StdEncoding.DecodeString(t); err != nil {
				return "", fmt.Errorf("a blob must be base64 (a []byte)")
			}
			return t, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case "integer", "long":
		if n, ok := v.(json.Number); ok {
			if _, err := n.Int64(); err == nil {
				return n.String(), nil
			}
		}
	case "float", "double":
		if n, ok := v.(json.Number); ok {
			return n.String(), nil
		}
	case "timestamp":
		t, err := timestampOf(v)
		if err != nil {
			return "", err
		}
		switch w.timestampFormat {
		case "unixTimestamp":
			return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64), nil
		case "rfc822":
			return t.UTC().Format(http.TimeFormat), nil
		}
		return t.UTC().Format("2006-01-02T15:04:05.999Z"), nil
	}
	return "", fmt.Errorf("a %s cannot be %v (%T)", s.Type, v, v)
}

// timestampOf reads a timestamp as JSON carries one: the RFC 3339 text of
// a time.Time, or epoch seconds (an Epoch).
func timestampOf(v any) (time.Time, error) {
	switch v := v.(type) {
	case string:
		return time.Parse(time.RFC3339Nano, v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return time.Time{}, err
		}
		return time.UnixMilli(int64(math.Round(f * 1000))), nil
	}
	return time.Time{}, fmt.Errorf("a timestamp cannot be %v (%T)", v, v)
}

func mismatch(path string, s *Shape, v any) error {
	return fmt.Errorf("awsproto: %s must be a %s (JSON %s), not %T", path, s.Type, map[string]string{"structure": "object", "map": "object", "list": "array"}[s.Type], v)
}
