package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/server"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestAccessRole is a role for CI: a user allowed to assume it gets
// temporary credentials, logs in to the registry with them and pushes;
// the session's denials name the assumed-role ARN; the credentials stop
// at their expiry, and so do the registry tokens issued with them.
func TestAccessRole(t *testing.T) {
	a := startAccess(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + ownAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(a.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci-push"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: &trust}))
	must[*iam.PutRolePolicyOutput](t)(a.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci-push"), PolicyName: aws.String("push"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},` +
			`{"Effect":"Allow","Action":` + pushActions + `,"Resource":"` + repoARN("app-a") + `"}]}`)}))
	runner := a.newUser(t, a.iam, "runner", nil, map[string]string{"assume": allow(`"sts:AssumeRole"`, *role.Role.Arn)})

	creds := must[*sts.AssumeRoleOutput](t)(a.stsClient(runner.id, runner.key, "").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: role.Role.Arn, RoleSessionName: aws.String("build-42"), DurationSeconds: aws.Int32(900)}))
	session := "arn:aws:sts::" + ownAccount + ":assumed-role/ci-push/build-42"
	if *creds.AssumedRoleUser.Arn != session || !strings.HasPrefix(*creds.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("AssumeRole: %s, key %s", *creds.AssumedRoleUser.Arn, *creds.Credentials.AccessKeyId)
	}
	c := creds.Credentials
	who := must[*sts.GetCallerIdentityOutput](t)(a.stsClient(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *who.Arn != session {
		t.Errorf("GetCallerIdentity as the session: %s", *who.Arn)
	}
	// Without its session token the key is refused.
	_, err := a.client(*c.AccessKeyId, *c.SecretAccessKey).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantError(t, err, "UnrecognizedClientException", http.StatusBadRequest)

	sessionECR := ecr.NewFromConfig(aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, func(o *ecr.Options) { o.BaseEndpoint = aws.String(a.url) })
	tok := must[*ecr.GetAuthorizationTokenOutput](t)(sessionECR.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	if !tok.AuthorizationData[0].ExpiresAt.Equal(*c.Expiration) {
		t.Errorf("the token of a 15-minute session expires at %s, the session at %s", tok.AuthorizationData[0].ExpiresAt, c.Expiration)
	}
	raw := must[[]byte](t)(base64.StdEncoding.DecodeString(*tok.AuthorizationData[0].AuthorizationToken))
	s := &user{a: a, arn: session, password: strings.TrimPrefix(string(raw), "AWS:")}
	if err := remote.Write(a.ref(t, "app-a:role"), must[v1.Image](t)(random.Image(512, 1)), s.remote()...); err != nil {
		t.Fatalf("push as the role: %v", err)
	}
	status, body, _ := s.do(t, http.MethodPost, "/v2/app-b/blobs/uploads/")
	wantDENIED(t, http.MethodPost, status, body, noAllow(session, "ecr:InitiateLayerUpload", repoARN("app-b"), "identity"))

	// A user the role's trust policy delegates to, but whose own policies
	// do not allow the role, may not assume it.
	other := a.newUser(t, a.iam, "other", nil, nil)
	_, err = a.stsClient(other.id, other.key, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("xx")})
	if api := wantError(t, err, "AccessDenied", http.StatusForbidden); !strings.Contains(api.ErrorMessage(), "sts:AssumeRole") {
		t.Errorf("AssumeRole as other: %s", api.ErrorMessage())
	}

	a.clock.Advance(901e9)
	status, body, _ = s.do(t, http.MethodGet, "/v2/app-a/manifests/role")
	wantDENIED(t, http.MethodGet, status, body, "Your authorization token has expired. Reauthenticate and try again.")
	_, err = sessionECR.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantError(t, err, "ExpiredTokenException", http.StatusBadRequest)
	// A sweep forgets the expired session's key.
	if rep, err := a.srv.CollectGarbage(ctx, registry.GCOptions{}); err != nil || rep.KeysExpired != 1 {
		t.Errorf("the sweep forgot %d session keys (%v), want 1", rep.KeysExpired, err)
	}
	_, err = sessionECR.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	wantError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
}

// TestAccessCreateOnPush: a push that would create its repository needs
// ecr:CreateRepository too; refused, it creates nothing.
func TestAccessCreateOnPush(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.RegistryID = ownAccount; c.CreateOnPush = true })
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, "")}
	push := map[string]string{"token": tokenOnly, "push": allow(pushActions, repoARN("new/*"))}
	ci := a.newUser(t, a.iam, "ci", nil, push)
	ci.token(t)
	img := must[v1.Image](t)(random.Image(512, 1))
	err := remote.Write(a.ref(t, "new/one:v1"), img, ci.remote()...)
	if err == nil || !strings.Contains(err.Error(), "ecr:CreateRepository") {
		t.Fatalf("a push creating a repository without ecr:CreateRepository: %v", err)
	}
	if _, err := a.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"new/one"}}); err == nil {
		t.Fatal("the refused push created new/one")
	}
	must[*iam.PutUserPolicyOutput](t)(a.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("create"),
		PolicyDocument: aws.String(allow(`"ecr:CreateRepository"`, repoARN("new/*")))}))
	if err := remote.Write(a.ref(t, "new/one:v1"), img, ci.remote()...); err != nil {
		t.Fatalf("with ecr:CreateRepository: %v", err)
	}
}

// TestAccessAudit: a denial and a change to IAM are written as structured
// audit events, counted in /metrics, with no secret in them.
func TestAccessAudit(t *testing.T) {
	var log syncBuffer
	dir := t.TempDir()
	e := &env{t: t, clock: &clock{}, dir: dir}
	e.srv = server.New(io.Discard, &log)
	e.srv.Now = e.clock.Now
	e.srv.Config = server.Config{Addr: "127.0.0.1:0", DataDir: dir, RegistryID: ownAccount, Region: testRegion, Migrate: true}
	e.srv.Config.Metadata, e.srv.Config.Blobs = backends(t, dir)
	if err := e.srv.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	e.url = e.srv.URL()
	e.ecr = e.client(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, "")}
	e.createRepo("app-a")
	ci := a.newUser(t, a.iam, "ci", nil, nil)
	_, err := ci.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app-a")})
	wantDenied(t, err, noAllow(ci.arn, "ecr:DescribeImages", repoARN("app-a"), "identity"))

	out := log.String()
	for _, want := range []string{
		`msg="audit: user created" audit="user created" principal=arn:aws:iam::` + ownAccount + `:root user=` + ci.arn,
		`msg="audit: access key created" audit="access key created" principal=arn:aws:iam::` + ownAccount + `:root user=` + ci.arn,
		`msg="audit: denied" audit=denied principal=` + ci.arn + ` action=ecr:DescribeImages resource=` + repoARN("app-a") + ` reason=`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if strings.Contains(out, ci.key) {
		t.Error("the log holds a secret access key")
	}
	_, body := e.raw(must[*http.Request](t)(http.NewRequest("GET", e.url+"/metrics", nil)))
	for _, want := range []string{`berth_authz_denied_total{action="ecr:DescribeImages"} 1`, `berth_audit_events_total{event="user created"} 1`, `berth_audit_events_total{event="denied"} 1`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// syncBuffer is a log writer the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessSecretsKey: secret keys are not in the metadata store in the
// clear, and berth refuses to start with a secrets key other than the one
// that sealed them (a restore without its secrets.key), saying what to do.
func TestAccessSecretsKey(t *testing.T) {
	dir := t.TempDir()
	e := startConfigured(t, dir, func(c *serverConfig) { c.RegistryID = ownAccount })
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, "")}
	ci := a.newUser(t, a.iam, "ci", nil, map[string]string{"token": tokenOnly})
	if !scaleOut() {
		db, err := os.ReadFile(filepath.Join(dir, "berth.db"))
		if err != nil {
			t.Fatal(err)
		}
		wal, _ := os.ReadFile(filepath.Join(dir, "berth.db-wal"))
		if bytes.Contains(db, []byte(ci.key)) || bytes.Contains(wal, []byte(ci.key)) {
			t.Fatal("the secret access key is in the database in the clear")
		}
		if !bytes.Contains(append(db, wal...), []byte(ci.id)) {
			t.Fatal("the access key id is not in the database: the search above proves nothing")
		}
	}
	e.srv.Close()
	key := filepath.Join(dir, "secrets.key")
	orig := must[[]byte](t)(os.ReadFile(key))
	os.Remove(key)
	srv := server.New(io.Discard, io.Discard)
	srv.Config = e.srv.Config
	err := srv.Run(context.Background())
	if err == nil {
		srv.Close()
		t.Fatal("berth started with a new secrets key over keys sealed with another")
	}
	if !strings.Contains(err.Error(), "put the original file back") {
		t.Errorf("the refusal: %v", err)
	}
	if err := os.WriteFile(key, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	again := startConfigured(t, dir, func(c *serverConfig) { c.RegistryID = ownAccount })
	ciAgain := again.client(ci.id, ci.key)
	if _, err := ciAgain.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("with the original key back: %v", err)
	}
}
