package awsproto

// The query protocol (awsQuery), IAM's and STS's: a request is form
// parameters, Action naming the operation and Version the API version, the
// input flattened into dotted names (Tags.member.1.Key); the answer is XML.
// A query door reads a request into the JSON document of the operation's
// input, so that Check and Decode serve it as they serve the JSON doors,
// and writes its answer from the same JSON-able values, laid out by the
// model's output shape.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// FormContentType is the content type of a query request's body.
	FormContentType = "application/x-www-form-urlencoded"
	// XMLContentType is the content type of query answers.
	XMLContentType = "text/xml"
)

// QueryError is an error already in a query service's wire terms.
type QueryError struct {
	Status int
	// Type is "Sender" (the caller's fault) or "Receiver" (the service's).
	Type string
	// Code is the error code, e.g. NoSuchEntity: the model's error code of
	// an exception (QueryErrorFor), not its shape's name.
	Code    string
	Message string
}

func (e *QueryError) Error() string { return e.Code + ": " + e.Message }

func senderError(code, format string, args ...any) *QueryError {
	return &QueryError{Status: http.StatusBadRequest, Type: "Sender", Code: code, Message: fmt.Sprintf(format, args...)}
}

// QueryErrorFor is the exception shapeName of the model (e.g.
// NoSuchEntityException) with the code, status and fault the model gives
// it (NoSuchEntity, 404, Sender). An exception without them is a 400 of
// its shape's name (a 500 for a fault). A name that is no exception of the
// model is a 500 Receiver error of that code: a door's bug, which still
// answers.
func (m *Model) QueryErrorFor(shapeName, message string) *QueryError {
	s := m.Shapes[shapeName]
	if s == nil || !s.Exception {
		return &QueryError{Status: http.StatusInternalServerError, Type: "Receiver", Code: shapeName, Message: message}
	}
	qs := m.queryShape(s)
	e := &QueryError{Status: qs.status, Type: "Receiver", Code: qs.code, Message: message}
	if qs.sender {
		e.Type = "Sender"
	}
	if e.Code == "" { // a model Load read without query traits
		e.Code, e.Status = shapeName, http.StatusBadRequest
	}
	return e
}

// ReadQuery reads a query request to the service of model m: a POST whose
// body (at most limit bytes) holds the parameters, form-encoded, or a GET
// with them in the URL (parameters in a POST's URL count too; the body's
// win). Action must name an operation of m and Version be m's API version.
// It returns the operation, the body as read (a signature covers it) and
// the operation's input as the JSON document Check and Decode read: members
// by the model's names, numbers and booleans typed, a timestamp as epoch
// seconds, a blob as its base64. Parameters the input does not name are
// ignored, as AWS ignores them. The error is a *QueryError: ParseQuery's,
// MalformedQueryString for parameters that are not form-encoded, or
// RequestEntityTooLarge (413) past limit.
func ReadQuery(r *http.Request, m *Model, limit int64) (op *Operation, body, input []byte, err error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, nil, senderError("MalformedQueryString", "The query string is malformed: %v", err)
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
		if err != nil {
			var big *http.MaxBytesError
			if errors.As(err, &big) {
				return nil, nil, nil, &QueryError{Status: http.StatusRequestEntityTooLarge, Type: "Sender", Code: "RequestEntityTooLarge",
					Message: fmt.Sprintf("The request body must be at most %d bytes", limit)}
			}
			return nil, nil, nil, senderError("MalformedQueryString", "The request body could not be read: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == FormContentType || ct == "" && len(body) > 0 {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, nil, nil, senderError("MalformedQueryString", "The request body is not form-encoded parameters: %v", err)
			}
			for k, v := range form {
				params[k] = v
			}
		}
	default:
		return nil, nil, nil, senderError("InvalidAction", "The %s API takes POST or GET / with the parameters Action and Version", m.Metadata.ServiceID)
	}
	op, input, err = ParseQuery(m, params)
	if err != nil {
		return nil, nil, nil, err
	}
	return op, body, input, nil
}

// ParseQuery is ReadQuery's work on parameters already read: the operation
// Action and Version name, and its input as JSON. The error is a
// *QueryError: MissingAction without an Action; InvalidAction for an Action
// m does not have or a Version that is not m's, worded as AWS's ("Could not
// find operation CreateUser for version NO_VERSION_SPECIFIED");
// InvalidParameterValue for a malformed number, boolean or timestamp.
func ParseQuery(m *Model, params url.Values) (*Operation, []byte, error) {
	action := params.Get("Action")
	if action == "" {
		return nil, nil, senderError("MissingAction", "The request must contain the parameter Action")
	}
	version := params.Get("Version")
	if version == "" {
		version = "NO_VERSION_SPECIFIED"
	}
	op := m.Operations[action]
	if op == nil || version != m.Metadata.APIVersion {
		return nil, nil, senderError("InvalidAction", "Could not find operation %s for version %s", action, version)
	}
	input, err := queryInput(m, op.Input, params)
	if err != nil {
		return nil, nil, err
	}
	return op, input, nil
}

// CheckQuery is Check for a query request's input (from ReadQuery), with
// its errors in the query protocol's terms: every constraint broken, in one
// ValidationError worded as AWS's ("1 validation error detected: Value 'a
// b' at 'userName' failed to satisfy constraint: Member must satisfy
// regular expression pattern: [\w+=,.@-]+"), the member path with each
// name's first letter lowered, as IAM and STS spell it ('tags.1.member.key').
func CheckQuery(in *Shape, input []byte) ([]byte, error) {
	out, err := Check(in, input)
	var se *SerializationError
	var ve *ValidationError
	switch {
	case errors.As(err, &se):
		// ReadQuery writes only what the shapes take; kept for a hand-made input.
		return nil, senderError("InvalidParameterValue", "%s", se.Message)
	case errors.As(err, &ve):
		return nil, validationError(in, input, ve.Violations)
	}
	return out, err
}

func validationError(in *Shape, input []byte, violations []Violation) *QueryError {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var doc any
	dec.Decode(&doc) // Check has read it
	var b strings.Builder
	if len(violations) == 1 {
		b.WriteString("1 validation error detected: ")
	} else {
		fmt.Fprintf(&b, "%d validation errors detected: ", len(violations))
	}
	for i, v := range violations {
		if i > 0 {
			b.WriteString("; ")
		}
		value := "null"
		if found, ok := lookup(in, doc, v.Path); ok && found != nil {
			value = "'" + javaString(found) + "'"
		}
		fmt.Fprintf(&b, "Value %s at '%s' failed to satisfy constraint: %s", value, queryPath(v.Path), v.Constraint)
	}
	return senderError("ValidationError", "%s", b.String())
}

// queryPath is a Check path as AWS's query services name members: each
// name with its first letter lowered (Tags.1.member.Key is
// tags.1.member.key).
func queryPath(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		r, size := utf8.DecodeRuneInString(p)
		if size > 0 && unicode.IsUpper(r) {
			parts[i] = string(unicode.ToLower(r)) + p[size:]
		}
	}
	return strings.Join(parts, ".")
}

// lookup finds the value a Check path names in the input document: members
// by name, list items as N.member. A map's key violation ("tags.key") names
// no one value: not found.
func lookup(s *Shape, v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	seg, rest, _ := strings.Cut(path, ".")
	switch s.Type {
	case "structure":
		obj, _ := v.(map[string]any)
		ms := s.Members[seg]
		if ms == nil || obj == nil {
			return nil, false
		}
		return lookup(ms, obj[seg], rest)
	case "list":
		arr, _ := v.([]any)
		n, err := strconv.Atoi(seg)
		if err != nil || n < 1 || n > len(arr) {
			return nil, false
		}
		rest, ok := strings.CutPrefix(rest, "member")
		if !ok {
			return nil, false
		}
		return lookup(s.Member, arr[n-1], strings.TrimPrefix(rest, "."))
	case "map":
		obj, _ := v.(map[string]any)
		if val, ok := obj[path]; ok { // a key holding dots is taken whole
			return val, true
		}
		if val, ok := obj[seg]; ok {
			return lookup(s.Value, val, rest)
		}
	}
	return nil, false
}

// javaString is a value as AWS's messages print it (Java's toString):
// lists as [a, b], structures and maps as {k=v}.
func javaString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		items := make([]string, len(v))
		for i, item := range v {
			items[i] = javaString(item)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + "=" + javaString(v[k]))
		}
		b.WriteByte('}')
		return b.String()
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
