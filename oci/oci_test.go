package oci

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-registry/berth"
)

// TestUnavailableIsRetryable: a request the store could not apply (it kept
// losing races) is a 503 with Retry-After and the UNAVAILABLE code, never a
// bare 500, and its message tells the client to retry.
func TestUnavailableIsRetryable(t *testing.T) {
	s := New(nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := httptest.NewRecorder()
	err := &berth.Error{Code: berth.EUnavailable, Message: "The request lost 9 races; retry it", Err: errors.New("SQLSTATE 40001")}
	s.writeError(w, httptest.NewRequest("PUT", "/v2/app/manifests/v1", nil), err)
	var body errorBody
	if jerr := json.Unmarshal(w.Body.Bytes(), &body); jerr != nil || len(body.Errors) != 1 {
		t.Fatalf("body %q: %v", w.Body, jerr)
	}
	e := body.Errors[0]
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || e.Code != "UNAVAILABLE" || !strings.Contains(e.Message, "retry") || strings.Contains(e.Message, "40001") {
		t.Fatalf("%d Retry-After=%q %+v", w.Code, w.Header().Get("Retry-After"), e)
	}
}

// TestFieldCodes: the core's invalid-parameter errors are answered by the
// member they are about, in one table.
func TestFieldCodes(t *testing.T) {
	s := New(nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for field, want := range map[string]string{"imageTag": "TAG_INVALID", "imageDigest": "DIGEST_INVALID", "": "MANIFEST_INVALID", "imageManifest": "MANIFEST_INVALID"} {
		w := httptest.NewRecorder()
		s.writeError(w, httptest.NewRequest("PUT", "/v2/app/manifests/v1", nil), &berth.Error{Code: berth.EInvalidParameter, Field: field, Message: "bad"})
		var body errorBody
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != 400 || len(body.Errors) != 1 || body.Errors[0].Code != want {
			t.Errorf("field %q: %d %s, want 400 %s", field, w.Code, w.Body, want)
		}
	}
}
