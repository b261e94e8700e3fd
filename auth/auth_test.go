package auth

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

func testAuth(now *time.Time) *Authenticator {
	c := Credential{AccessKeyID: "BKIATEST", SecretAccessKey: "secret"}
	return &Authenticator{Keys: StaticKeyring{c.AccessKeyID: c}, Region: "us-east-1", Now: func() time.Time { return *now }}
}

func TestToken(t *testing.T) {
	now := time.Now()
	a := testAuth(&now)
	c, _ := a.Keys.Lookup(context.Background(), "BKIATEST")
	pw, exp := a.IssueToken(c)
	if d := exp.Sub(now); d < TokenLifetime-time.Second || d > TokenLifetime {
		t.Fatalf("expiry in %v", d)
	}
	if got, err := a.VerifyToken(context.Background(), pw); err != nil || got.AccessKeyID != "BKIATEST" {
		t.Fatal(got, err)
	}
	for _, bad := range []string{"", "a.b", pw + "x", strings.Replace(pw, "BKIATEST", "BKIAOTHER", 1), "BKIATEST.99999999999." + strings.Split(pw, ".")[2]} {
		if _, err := a.VerifyToken(context.Background(), bad); berth.ErrorCode(err) != berth.EUnauthenticated {
			t.Errorf("%q: %v", bad, err)
		}
	}
	now = now.Add(TokenLifetime)
	if _, err := a.VerifyToken(context.Background(), pw); berth.ErrorCode(err) != berth.ETokenExpired {
		t.Fatalf("expired token: %v", err)
	}
}

func TestSignedURL(t *testing.T) {
	now := time.Now()
	a := testAuth(&now)
	c, _ := a.Keys.Lookup(context.Background(), "BKIATEST")
	q := a.SignURL(c, "/-/layers/d/repo")
	v := parseQuery(q)
	if err := a.VerifyURL(context.Background(), "/-/layers/d/repo", v["key"], v["expires"], v["signature"]); err != nil {
		t.Fatal(err)
	}
	if err := a.VerifyURL(context.Background(), "/-/layers/d/other", v["key"], v["expires"], v["signature"]); err == nil {
		t.Fatal("signature valid for another path")
	}
	now = now.Add(URLLifetime + time.Second)
	if err := a.VerifyURL(context.Background(), "/-/layers/d/repo", v["key"], v["expires"], v["signature"]); err == nil {
		t.Fatal("expired URL accepted")
	}
}

func parseQuery(q string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// FuzzSigV4Header feeds arbitrary Authorization and X-Amz-Date headers to
// the verifier: it never panics and never accepts.
func FuzzSigV4Header(f *testing.F) {
	now := time.Now()
	a := testAuth(&now)
	f.Add("AWS4-HMAC-SHA256 Credential=BKIATEST/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", now.UTC().Format(amzDate))
	f.Add("AWS4-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=", "")
	f.Add("AWS4-HMAC-SHA256 Credential=BKIATEST/x/us-east-1/ecr/aws4_request, SignedHeaders=content-length;host, Signature=zz", "20260101T000000Z")
	// The strict forms: absent, unsorted, repeated, upper-case names; a part
	// without '='; an overlong header.
	f.Add("AWS4-HMAC-SHA256 Credential=BKIATEST/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-bogus;x-amz-date, Signature=00", now.UTC().Format(amzDate))
	f.Add("AWS4-HMAC-SHA256 Credential=BKIATEST/20260101/us-east-1/ecr/aws4_request, SignedHeaders=x-amz-date;host;host;Host, Signature=00", now.UTC().Format(amzDate))
	f.Add("AWS4-HMAC-SHA256 Credential BKIATEST/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date", now.UTC().Format(amzDate))
	f.Add("AWS4-HMAC-SHA256 Credential=BKIATEST/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;"+strings.Repeat("a;", 5000)+"b, Signature=00", now.UTC().Format(amzDate))
	f.Fuzz(func(t *testing.T, authz, date string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1/", strings.NewReader("{}"))
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		_, err := a.VerifySigV4(r, []byte("{}"), "ecr")
		if err == nil {
			t.Fatal("a fuzzed signature was accepted")
		}
		if _, ok := err.(*SigV4Error); !ok {
			t.Fatalf("error of type %T", err)
		}
	})
}
