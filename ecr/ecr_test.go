package ecr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/meta/sqlite"
	"github.com/berth-registry/berth/registry"
)

var testCred = auth.Credential{AccessKeyID: "BKIATEST", SecretAccessKey: "secret", Principal: "arn:aws:iam::000000000000:root"}

func newTestServer(t testing.TB) *Server {
	dir := t.TempDir()
	meta, err := sqlite.Open(context.Background(), filepath.Join(dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := filesystem.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(meta, blobs, registry.Config{ID: "000000000000", Log: log})
	return New(reg, &auth.Authenticator{Keys: auth.StaticKeyring{testCred.AccessKeyID: testCred}, Region: "us-east-1"}, "us-east-1", log)
}

func signedRequest(t testing.TB, op, body string) *http.Request {
	r := httptest.NewRequest("POST", "http://127.0.0.1:5000/", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", TargetPrefix+op)
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: testCred.SecretAccessKey},
		r, hex.EncodeToString(sum[:]), "ecr", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// FuzzRequest sends arbitrary signed bodies to every operation: the answer
// is never a 5xx, and every error is a well-formed AWS JSON error.
func FuzzRequest(f *testing.F) {
	s := newTestServer(f)
	ops := make([]string, 0, len(s.ops))
	for op := range s.ops {
		ops = append(ops, op)
	}
	for _, body := range []string{`{}`, `{"repositoryName":"app"}`, `{"repositoryName":"app","imageManifest":"{}","imageTag":"v1"}`,
		`{"repositoryName":"app","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":0,"partLastByte":1,"layerPartBlob":"AAA="}`,
		`{"repositoryName":"app","imageIds":[{"imageTag":"x"},{}],"maxResults":5}`, `{"repositoryNames":["a"],"nextToken":"x"}`, `[`, `null`} {
		for i := range ops {
			f.Add(uint8(i), body)
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, signedRequest(t, ops[int(op)%len(ops)], body))
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d %s", ops[int(op)%len(ops)], body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Type == "" || e.Message == "" {
				t.Fatalf("malformed error body %q", w.Body)
			}
		}
	})
}

func TestServerExceptionHidesDetail(t *testing.T) {
	s := newTestServer(t)
	w := httptest.NewRecorder()
	c := &call{r: signedRequest(t, "DescribeRepositories", "{}")}
	s.writeError(w, c, "req-1", io.ErrUnexpectedEOF)
	if w.Code != 500 || strings.Contains(w.Body.String(), "unexpected EOF") || !strings.Contains(w.Body.String(), "ServerException") || !strings.Contains(w.Body.String(), "req-1") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestUnavailableIsServerException: a request the store could not apply
// (it kept losing races) is a ServerException, which the SDKs retry, whose
// message says to retry, with the request id and without the cause.
func TestUnavailableIsServerException(t *testing.T) {
	s := newTestServer(t)
	w := httptest.NewRecorder()
	c := &call{r: signedRequest(t, "PutImage", "{}")}
	s.writeError(w, c, "req-2", &berth.Error{Code: berth.EUnavailable, Message: "The request lost 9 races; retry it", Err: errors.New("SQLSTATE 40001")})
	b := w.Body.String()
	if w.Code != 500 || !strings.Contains(b, "ServerException") || !strings.Contains(b, "retry it") || !strings.Contains(b, "req-2") || strings.Contains(b, "40001") {
		t.Fatalf("%d %s", w.Code, b)
	}
}
