package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// JSONContentType is the content type of AWS JSON 1.1 requests and answers.
const JSONContentType = "application/x-amz-json-1.1"

// Error is an error already in a service's wire terms: the exception name
// (__type), its HTTP status and message, and any members it carries.
type Error struct {
	Type    string
	Status  int
	Message string
	Extra   map[string]any
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Errorf is a 400 of the named exception.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// ReadJSON reads a JSON 1.1 request to the service of model m: a POST whose
// X-Amz-Target is "<target prefix>.<operation>" naming an operation of the
// model, with the JSON 1.1 content type and a body of at most limit bytes
// (tooLarge is the message past it). It returns the operation and the
// body, or an *Error.
func ReadJSON(r *http.Request, m *Model, limit int64, tooLarge string) (*Operation, []byte, error) {
	prefix := m.Metadata.TargetPrefix + "."
	if r.Method != http.MethodPost {
		return nil, nil, Errorf("UnknownOperationException", "The %s API takes POST / with an X-Amz-Target header", m.Metadata.ServiceID)
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, prefix)
	op := m.Operations[name]
	if !ok || op == nil {
		return nil, nil, Errorf("UnknownOperationException", "Operation %q is not an %s operation; X-Amz-Target must be %s<Operation>", target, m.Metadata.ServiceID, prefix)
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != JSONContentType {
		return nil, nil, Errorf("UnknownOperationException", "Content-Type must be %s, got %q", JSONContentType, r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			return nil, nil, Errorf("InvalidParameterException", "%s", tooLarge)
		}
		return nil, nil, Errorf("SerializationException", "The request body could not be read: %v", err)
	}
	return op, body, nil
}

// CheckJSON is Check with its errors in wire terms: a SerializationException,
// or the first constraint broken as the exception violations (ECR's
// InvalidParameterException) with AWS's text, naming the member.
func CheckJSON(in *Shape, body []byte, violations string) ([]byte, error) {
	out, err := Check(in, body)
	var se *SerializationError
	var ve *ValidationError
	switch {
	case errors.As(err, &se):
		return nil, Errorf("SerializationException", "%s", se.Message)
	case errors.As(err, &ve):
		v := ve.Violations[0]
		return nil, Errorf(violations, "Invalid parameter at '%s' failed to satisfy constraint: '%s'", v.Path, v.Constraint)
	}
	return out, err
}

// Decode reads a checked body into T. The body has passed Check, so an
// error here is one Check leaves to the decoder (an escape, a control
// character): a SerializationException.
func Decode[T any](body []byte) (*T, error) {
	var in T
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Errorf("SerializationException", "The request body is not valid JSON")
	}
	return &in, nil
}

// WriteJSON writes a JSON 1.1 answer.
func WriteJSON(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", JSONContentType)
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteError writes e as the SDKs parse JSON 1.1 errors: __type and
// message in the body, with e's extra members, and X-Amzn-ErrorType.
func WriteError(w http.ResponseWriter, e *Error) {
	body := map[string]any{}
	for k, v := range e.Extra {
		body[k] = v
	}
	body["__type"] = e.Type
	body["message"] = e.Message
	w.Header().Set("Content-Type", JSONContentType)
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(body)
}

// Epoch is a timestamp as JSON 1.1 sends it: seconds since 1970, with
// milliseconds.
type Epoch float64

// EpochOf is t as an Epoch, or nil for the zero time (the member is left
// out).
func EpochOf(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(float64(t.UnixMilli()) / 1000)
	return &e
}

// Shaped returns v re-encoded with only the members shape names: for a
// door that serves two models' operations with one handler (ECR Public's
// outputs are private ECR's with fewer members).
func Shaped(shape *Shape, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil || shape == nil {
		return b, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	prune(shape, tree)
	return json.Marshal(tree)
}
