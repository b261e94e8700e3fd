package iam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/blob/filesystem"
	"github.com/berth-registry/berth/meta/sqlite"
	"github.com/berth-registry/berth/registry"
)

const account = "111122223333"

var rootCred = auth.Credential{AccessKeyID: "BKIAROOTTESTKEY00001", SecretAccessKey: "root/secret+key", Principal: "arn:aws:iam::" + account + ":root"}

// testServer is the door over a real registry (SQLite and the filesystem in
// a temporary directory) on a loopback port, with a clock tests can move.
type testServer struct {
	*httptest.Server
	reg *registry.Registry
	// meta is the metadata store, which a test may close to make the
	// registry fail.
	meta io.Closer
	// skew moves the clock of the registry and the authenticator on.
	skew atomic.Int64
	// requests numbers the request ids, set as the server sets them.
	requests atomic.Int64
}

func (ts *testServer) now() time.Time { return time.Now().Add(time.Duration(ts.skew.Load())) }

func newTestServer(t *testing.T) *testServer {
	t.Helper()
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
	ts := &testServer{meta: meta}
	ts.reg = registry.New(meta, blobs, registry.Config{ID: account, Region: "us-east-1", SecretsKey: make([]byte, registry.SecretsKeySize), Log: log, Now: ts.now})
	if err := ts.reg.EnsureAccount(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Keys: auth.Keyrings{auth.StaticKeyring{rootCred.AccessKeyID: rootCred}, ts.reg.Keyring()}, Region: "us-east-1", Now: ts.now}
	door := New(ts.reg, a, log)
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("req-%d", ts.requests.Add(1)))
		door.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// clients are the AWS SDK's IAM and STS clients for a credential.
func (ts *testServer) clients(id, secret, token string) (*iam.Client, *sts.Client) {
	creds := credentials.NewStaticCredentialsProvider(id, secret, token)
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: creds, RetryMaxAttempts: 1}),
		sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: creds, RetryMaxAttempts: 1})
}

func (ts *testServer) root() (*iam.Client, *sts.Client) {
	return ts.clients(rootCred.AccessKeyID, rootCred.SecretAccessKey, "")
}

// wantError checks that err is the API error code with exactly message,
// answered with status and a request id.
func wantError(t *testing.T, what string, err error, code string, status int, message string) {
	t.Helper()
	var api smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &re) {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
	if api.ErrorCode() != code || api.ErrorMessage() != message || re.HTTPStatusCode() != status || re.ServiceRequestID() == "" {
		t.Fatalf("%s: want %d %s %q, got %d %s %q (request id %q)", what, status, code, message,
			re.HTTPStatusCode(), api.ErrorCode(), api.ErrorMessage(), re.ServiceRequestID())
	}
}

// must is the result of a call that must succeed:
// out := must(client.Op(ctx, in))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
