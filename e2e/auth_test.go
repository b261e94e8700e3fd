package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// signed builds a SigV4-signed ECR request with the given time and key.
func (e *env) signed(target, body, id, secret string, at time.Time) *http.Request {
	e.t.Helper()
	req := must[*http.Request](e.t)(http.NewRequest("POST", e.url+"/", strings.NewReader(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+target)
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "ecr", testRegion, at)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *env) wantRaw(req *http.Request, status int, typ string) awsError {
	e.t.Helper()
	resp, body := e.raw(req)
	var ae awsError
	if err := json.Unmarshal(body, &ae); err != nil {
		e.t.Fatalf("%s: body is not JSON: %q", typ, body)
	}
	if resp.StatusCode != status || ae.Type != typ || ae.Message == "" {
		e.t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, ae, status, typ)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		e.t.Fatalf("headers %v", resp.Header)
	}
	if et := resp.Header.Get("X-Amzn-Errortype"); et != typ {
		e.t.Fatalf("X-Amzn-ErrorType %q, want %q", et, typ)
	}
	return ae
}

func TestSigV4(t *testing.T) {
	// Many failures on purpose: no throttle (TestAuthThrottle has it).
	e := startWith(t, func(c *serverConfig) { c.Limits.AuthFailures = -1 })
	c := e.srv.Credential
	now := time.Now()
	t.Run("valid", func(t *testing.T) {
		resp, body := e.raw(e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now))
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"repositories"`)) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("missing", func(t *testing.T) {
		req := must[*http.Request](t)(http.NewRequest("POST", e.url+"/", strings.NewReader("{}")))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
		e.wantRaw(req, 403, "MissingAuthenticationTokenException")
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := e.client("BKIAUNKNOWN000000000", "secret").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		api := wantError(t, err, "UnrecognizedClientException", 400)
		if api.ErrorMessage() != "The security token included in the request is invalid." {
			t.Errorf("message %q", api.ErrorMessage())
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := e.client(c.AccessKeyID, "not the secret").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		wantError(t, err, "InvalidSignatureException", 400)
	})
	t.Run("tampered body", func(t *testing.T) {
		req := e.signed("CreateRepository", `{"repositoryName":"a1"}`, c.AccessKeyID, c.SecretAccessKey, now)
		req.Body = http.NoBody
		req.ContentLength = 0
		req2 := e.signed("CreateRepository", `{"repositoryName":"a1"}`, c.AccessKeyID, c.SecretAccessKey, now)
		req.Body, req.ContentLength = req2.Body, req2.ContentLength
		req.Body = httpBody(`{"repositoryName":"zz"}`)
		req.ContentLength = int64(len(`{"repositoryName":"zz"}`))
		e.wantRaw(req, 400, "InvalidSignatureException")
	})
	t.Run("expired", func(t *testing.T) {
		ae := e.wantRaw(e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now.Add(-16*time.Minute)), 400, "InvalidSignatureException")
		if !strings.HasPrefix(ae.Message, "Signature expired:") {
			t.Errorf("message %q", ae.Message)
		}
		e.wantRaw(e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now.Add(16*time.Minute)), 400, "InvalidSignatureException")
		// Within the window is fine.
		resp, _ := e.raw(e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now.Add(-14*time.Minute)))
		if resp.StatusCode != 200 {
			t.Fatalf("14 minutes of skew refused: %d", resp.StatusCode)
		}
	})
	t.Run("malformed header", func(t *testing.T) {
		for _, h := range []string{"Bearer x", "AWS4-HMAC-SHA256 Credential=x", "AWS4-HMAC-SHA256 garbage", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature="} {
			req := e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now)
			req.Header.Set("Authorization", h)
			e.wantRaw(req, 400, "IncompleteSignatureException")
		}
	})
	t.Run("host and date must be signed", func(t *testing.T) {
		for drop, want := range map[string]string{"host": "'Host' or ':authority' must be a 'SignedHeader'", "x-amz-date": "'X-Amz-Date' or 'Date' must be a 'SignedHeader'"} {
			req := e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now)
			h := req.Header.Get("Authorization")
			before, rest, _ := strings.Cut(h, "SignedHeaders=")
			names, after, _ := strings.Cut(rest, ",")
			kept := slices.DeleteFunc(strings.Split(names, ";"), func(n string) bool { return n == drop })
			req.Header.Set("Authorization", before+"SignedHeaders="+strings.Join(kept, ";")+","+after)
			if ae := e.wantRaw(req, 400, "IncompleteSignatureException"); !strings.HasPrefix(ae.Message, want) {
				t.Errorf("without %s: %q", drop, ae.Message)
			}
		}
	})
	t.Run("strict Authorization", func(t *testing.T) {
		// Each is an otherwise valid signed request whose Authorization
		// header is rewritten: refused before any signing work, with the
		// text AWS gives where one is known.
		edit := func(f func(h string) string) *http.Request {
			req := e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now)
			req.Header.Set("Authorization", f(req.Header.Get("Authorization")))
			return req
		}
		names := func(h, with string) string {
			before, rest, _ := strings.Cut(h, "SignedHeaders=")
			_, after, _ := strings.Cut(rest, ",")
			return before + "SignedHeaders=" + with + "," + after
		}
		for _, tc := range []struct {
			name string
			req  *http.Request
			want string
		}{
			{"a signed name the request lacks", edit(func(h string) string {
				return names(h, "content-length;content-type;host;x-amz-bogus;x-amz-date;x-amz-target")
			}), "'x-amz-bogus' is named as a SignedHeader, but it does not exist in the HTTP request."},
			{"2,000 bogus names", edit(func(h string) string {
				return names(h, "host;x-amz-date;"+strings.Repeat("x-zz;", 2000)+"zz")
			}), "longer than 8192 bytes"},
			{"names out of order", edit(func(h string) string { return names(h, "x-amz-date;host") }), "must be sorted"},
			{"a name twice", edit(func(h string) string { return names(h, "host;host;x-amz-date") }), "must be sorted, each name once"},
			{"an upper-case name", edit(func(h string) string { return names(h, "Host;x-amz-date") }), "must be lower-case"},
			{"a part without '='", edit(func(h string) string { return strings.Replace(h, "Credential=", "Credential ", 1) }), "not a valid key=value pair (missing equal-sign) in Authorization header"},
			{"a scope date that is not a date", edit(func(h string) string {
				k, rest, _ := strings.Cut(h, "Credential=")
				_, after, _ := strings.Cut(rest, "/")
				_, after, _ = strings.Cut(after, "/")
				return k + "Credential=" + c.AccessKeyID + "/2026-1-1/" + after
			}), "must be YYYYMMDD"},
			{"no Signature", edit(func(h string) string { i := strings.Index(h, ", Signature="); return h[:i] }), "Authorization header requires 'Signature' parameter."},
		} {
			resp, body := e.raw(tc.req)
			var ae awsError
			json.Unmarshal(body, &ae)
			if resp.StatusCode != 400 || ae.Type != "IncompleteSignatureException" || !strings.Contains(ae.Message, tc.want) {
				t.Errorf("%s: %d %s %q, want IncompleteSignatureException containing %q", tc.name, resp.StatusCode, ae.Type, ae.Message, tc.want)
			}
		}
		// 15,000 names make a header past the server's header limit: 431
		// before anything reads it.
		resp, _ := e.raw(edit(func(h string) string { return names(h, "host;x-amz-date;"+strings.Repeat("x-zz;", 15000)+"zz") }))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("15,000 names: %d, want 431", resp.StatusCode)
		}
	})
	t.Run("wrong region or service", func(t *testing.T) {
		req := must[*http.Request](t)(http.NewRequest("POST", e.url+"/", strings.NewReader("{}")))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
		sum := sha256.Sum256([]byte("{}"))
		v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}, req, hex.EncodeToString(sum[:]), "ecr", "eu-west-1", now)
		e.wantRaw(req, 400, "InvalidSignatureException")
	})
}

func httpBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestWire(t *testing.T) {
	e := start(t)
	c := e.srv.Credential
	now := time.Now()
	t.Run("unknown operation", func(t *testing.T) {
		e.wantRaw(e.signed("LaunchRockets", "{}", c.AccessKeyID, c.SecretAccessKey, now), 400, "UnknownOperationException")
	})
	t.Run("no target", func(t *testing.T) {
		req := e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now)
		req.Header.Del("X-Amz-Target")
		e.wantRaw(req, 400, "UnknownOperationException")
	})
	t.Run("wrong content type", func(t *testing.T) {
		req := e.signed("DescribeRepositories", "{}", c.AccessKeyID, c.SecretAccessKey, now)
		req.Header.Set("Content-Type", "text/plain")
		e.wantRaw(req, 400, "UnknownOperationException")
	})
	t.Run("not JSON", func(t *testing.T) {
		for _, body := range []string{"not json", `{"repositoryName":`, `[]`, `{"repositoryNames":5}`, `{"maxResults":"ten"}`} {
			e.wantRaw(e.signed("DescribeRepositories", body, c.AccessKeyID, c.SecretAccessKey, now), 400, "SerializationException")
		}
	})
	t.Run("missing required member", func(t *testing.T) {
		ae := e.wantRaw(e.signed("CreateRepository", "{}", c.AccessKeyID, c.SecretAccessKey, now), 400, "InvalidParameterException")
		if !strings.Contains(ae.Message, "repositoryName") {
			t.Errorf("message %q", ae.Message)
		}
	})
	t.Run("empty body is {}", func(t *testing.T) {
		resp, _ := e.raw(e.signed("DescribeRepositories", "", c.AccessKeyID, c.SecretAccessKey, now))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("GET /", func(t *testing.T) {
		resp, _ := e.raw(must[*http.Request](t)(http.NewRequest("GET", e.url+"/", nil)))
		if resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("base64 that is not", func(t *testing.T) {
		body := `{"repositoryName":"x1","uploadId":"00000000-0000-0000-0000-000000000000","partFirstByte":0,"partLastByte":0,"layerPartBlob":"!!!"}`
		e.wantRaw(e.signed("UploadLayerPart", body, c.AccessKeyID, c.SecretAccessKey, now), 400, "SerializationException")
	})
}

// TestRegistryLogin checks GET /v2/ as docker login does.
func TestRegistryLogin(t *testing.T) {
	e := start(t)
	out := must[*ecr.GetAuthorizationTokenOutput](t)(e.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("%+v", out)
	}
	ad := out.AuthorizationData[0]
	if *ad.ProxyEndpoint != e.url {
		t.Errorf("proxyEndpoint %s, want %s", *ad.ProxyEndpoint, e.url)
	}
	if d := time.Until(*ad.ExpiresAt); d < 11*time.Hour+59*time.Minute || d > 12*time.Hour+time.Minute {
		t.Errorf("expiresAt in %v, want 12h", d)
	}
	raw := must[[]byte](t)(base64.StdEncoding.DecodeString(*ad.AuthorizationToken))
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" || password == "" {
		t.Fatalf("token %q", raw)
	}
	get := func(user, password string, set bool) *http.Response {
		req := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/", nil))
		if set {
			req.SetBasicAuth(user, password)
		}
		resp, _ := e.raw(req)
		return resp
	}
	if resp := get("", "", false); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="`) {
		t.Fatalf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := get("AWS", password, true); resp.StatusCode != 200 {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	if resp := get(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, true); resp.StatusCode != 200 {
		t.Fatalf("access key: %d", resp.StatusCode)
	}
	for _, bad := range [][2]string{{"AWS", password + "x"}, {"AWS", "garbage"}, {"someone", "else"}, {"AWS", strings.Replace(password, ".", ".9", 1)}} {
		if resp := get(bad[0], bad[1], true); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%v: %d", bad, resp.StatusCode)
		}
	}
	// GetAuthorizationToken with registryIds.
	out = must[*ecr.GetAuthorizationTokenOutput](t)(e.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{testRegistryID}}))
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("%+v", out)
	}
	_, err := e.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{"bad"}})
	wantError(t, err, "InvalidParameterException", 400)
	// 12 hours later the token has expired: ECR answers 403 DENIED without
	// a challenge (ecr-auth.md §4).
	e.clock.Advance(12*time.Hour + time.Second)
	req := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/", nil))
	req.SetBasicAuth("AWS", password)
	resp, body := e.raw(req)
	if resp.StatusCode != 403 || resp.Header.Get("WWW-Authenticate") != "" || !bytes.Contains(body, []byte(`"DENIED"`)) ||
		!bytes.Contains(body, []byte("Your authorization token has expired. Reauthenticate and try again.")) {
		t.Fatalf("expired: %d %s", resp.StatusCode, body)
	}
}

// TestAuthThrottle: an address that fails to sign in too often has its
// failures refused for a while, retryably, on both APIs; a client that
// signs in right from the same address is never refused.
func TestAuthThrottle(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.Limits.AuthFailures = 5 })
	login := func(password string) *http.Response {
		req := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/", nil))
		req.SetBasicAuth("AWS", password)
		resp, _ := e.raw(req)
		return resp
	}
	for i := 0; i < 5; i++ {
		if resp := login("wrong"); resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	resp := login("wrong")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("failure 6: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := login(e.loginPassword()); resp.StatusCode != 200 {
		t.Fatalf("the right password from the throttled address: %d", resp.StatusCode)
	}
	_, err := e.client(e.srv.Credential.AccessKeyID, "not the secret").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	wantError(t, err, "ThrottlingException", 400)
	if _, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatalf("signed right from the throttled address: %v", err)
	}
}
