package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/berth-registry/berth/auth"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The accounts of ecr-auth §6.4: the registry's, and another whose users
// reach it across accounts.
const (
	ownAccount   = "111122223333"
	otherAccount = "444455556666"
)

// access is a berth serving the registry of ownAccount, with otherAccount
// added, repositories app-a and app-b, and an image app-a:latest.
type access struct {
	*env
	iam    *iam.Client // the root of ownAccount
	extIAM *iam.Client // the root of otherAccount
	latest v1.Image
}

func startAccess(t *testing.T) *access {
	t.Helper()
	e := startWith(t, func(c *serverConfig) {
		c.RegistryID = ownAccount
		c.Limits.AuthFailures = -1
	})
	ext := must[auth.Credential](t)(e.srv.CreateAccount(ctx, otherAccount))
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, ""),
		extIAM: e.iamClient(ext.AccessKeyID, ext.SecretAccessKey, "")}
	e.createRepo("app-a")
	e.createRepo("app-b")
	a.latest = must[v1.Image](t)(random.Image(1024, 2))
	if err := remote.Write(a.ref(t, "app-a:latest"), a.latest, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) iamClient(id, secret, token string) *iam.Client {
	return iam.NewFromConfig(aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *env) stsClient(id, secret, token string) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (a *access) ref(t *testing.T, repoTag string) name.Reference {
	return must[name.Reference](t)(name.ParseReference(a.host()+"/"+repoTag, name.Insecure))
}

// user is an IAM user with an access key, and clients signed with it.
type user struct {
	a        *access
	iam      *iam.Client // the account root's, which manages the user
	name     string
	arn      string
	ecr      *ecr.Client
	id, key  string
	password string // a registry token, once token() ran
}

// newUser creates a user in the account whose root iamc is, with the
// managed policies attached and the inline policies (name → document) put.
func (a *access) newUser(t *testing.T, iamc *iam.Client, userName string, managed []string, inline map[string]string) *user {
	t.Helper()
	u := must[*iam.CreateUserOutput](t)(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: &userName}))
	k := must[*iam.CreateAccessKeyOutput](t)(iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &userName}))
	for _, arn := range managed {
		must[*iam.AttachUserPolicyOutput](t)(iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &userName, PolicyArn: aws.String(arn)}))
	}
	for n, doc := range inline {
		must[*iam.PutUserPolicyOutput](t)(iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &userName, PolicyName: aws.String(n), PolicyDocument: aws.String(doc)}))
	}
	return &user{a: a, iam: iamc, name: userName, arn: *u.User.Arn, id: *k.AccessKey.AccessKeyId, key: *k.AccessKey.SecretAccessKey,
		ecr: a.client(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey)}
}

// token gets the user a registry password with GetAuthorizationToken.
func (u *user) token(t *testing.T) string {
	t.Helper()
	out := must[*ecr.GetAuthorizationTokenOutput](t)(u.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	raw := must[[]byte](t)(base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken))
	u.password = strings.TrimPrefix(string(raw), "AWS:")
	return u.password
}

func (u *user) remote() []remote.Option {
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: "AWS", Password: u.password})}
}

// do sends a registry request with the user's token and returns the status
// and body.
func (u *user) do(t *testing.T, method, path string, from ...string) (int, string, http.Header) {
	t.Helper()
	req := must[*http.Request](t)(http.NewRequest(method, u.a.url+path, nil))
	req.SetBasicAuth("AWS", u.password)
	client := http.DefaultClient
	if len(from) == 1 {
		// From another loopback address, for aws:SourceIp.
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from[0])}}
		client = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Policy documents and denial texts.

func allow(actions, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%s,"Resource":%q}]}`, actions, resource)
}

func repoARN(name string) string {
	return "arn:aws:ecr:" + testRegion + ":" + ownAccount + ":repository/" + name
}

const (
	tokenOnly   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	pushActions = `["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:BatchGetImage"]`
	pullActions = `["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]`
	managedARN  = "arn:aws:iam::aws:policy/"
)

func noAllow(arn, action, resource, kind string) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no %s-based policy allows the %s action", arn, action, resource, kind, action)
}

func explicitDeny(arn, action, resource, kind string) string {
	article := "a"
	if kind == "identity" {
		article = "an"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in %s %s-based policy", arn, action, resource, article, kind)
}

// wantDenied checks an ECR API error is AccessDeniedException, 400, with msg.
func wantDenied(t *testing.T, err error, msg string) {
	t.Helper()
	api := wantError(t, err, "AccessDeniedException", http.StatusBadRequest)
	if api.ErrorMessage() != msg {
		t.Errorf("AccessDeniedException message\n got: %s\nwant: %s", api.ErrorMessage(), msg)
	}
}

// wantDENIED checks a registry answer is 403 DENIED with msg (for HEAD, an
// empty body).
func wantDENIED(t *testing.T, method string, status int, body, msg string) {
	t.Helper()
	if status != http.StatusForbidden {
		t.Fatalf("%s: status %d, want 403: %s", method, status, body)
	}
	if method == http.MethodHead {
		if body != "" {
			t.Errorf("HEAD 403 has a body: %q", body)
		}
		return
	}
	want := fmt.Sprintf(`{"errors":[{"code":"DENIED","message":%q}]}`, msg)
	if strings.TrimSpace(body) != want {
		t.Errorf("403 body\n got: %s\nwant: %s", body, want)
	}
}

func (a *access) setRepoPolicy(t *testing.T, repo, text string) {
	t.Helper()
	// Forced: some deny the root too (case 14).
	must[*ecr.SetRepositoryPolicyOutput](t)(a.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: &repo, PolicyText: &text, Force: true}))
	t.Cleanup(func() { a.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: &repo}) })
}

func repoPolicy(effect, principal, actions string, extra ...string) string {
	cond := ""
	if len(extra) == 1 {
		cond = `,"Condition":` + extra[0]
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"s","Effect":%q,"Principal":%s,"Action":%s%s}]}`, effect, principal, actions, cond)
}

// pull reads the manifest and every blob of repoTag as a client does.
func (u *user) pull(t *testing.T, repoTag string, from ...string) error {
	t.Helper()
	opts := u.remote()
	if len(from) == 1 {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from[0])}}
		opts = append(opts, remote.WithTransport(&http.Transport{DialContext: d.DialContext}))
	}
	return pullAll(u.a.ref(t, repoTag), opts)
}

// uploadsOf counts the upload sessions berth holds (berth_uploads_in_progress).
func (a *access) uploads(t *testing.T) string {
	t.Helper()
	resp := must[*http.Response](t)(http.Get(a.url + "/metrics"))
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "berth_uploads_in_progress ") {
			return strings.TrimPrefix(line, "berth_uploads_in_progress ")
		}
	}
	t.Fatal("no berth_uploads_in_progress in /metrics")
	return ""
}

func (a *access) imageCount(t *testing.T, repo string) int {
	t.Helper()
	out := must[*ecr.ListImagesOutput](t)(a.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: &repo}))
	return len(out.ImageIds)
}

// TestAccessCases is ecr-auth §6.4, cases 1 to 28, through the AWS SDK for
// the ECR and IAM APIs and go-containerregistry and raw requests for the
// registry endpoint, each with its exact status and text. Cases 29 and 30
// are ECR Public's.
func TestAccessCases(t *testing.T) {
	a := startAccess(t)
	digest := must[v1.Hash](t)(a.latest.Digest()).String()
	layers := must[[]v1.Layer](t)(a.latest.Layers())
	layer := must[v1.Hash](t)(layers[0].Digest()).String()

	t.Run("01 no policy: GetAuthorizationToken denied", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci1", nil, nil)
		_, err := ci.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		wantDenied(t, err, noAllow(ci.arn, "ecr:GetAuthorizationToken", "*", "identity"))
	})

	t.Run("02 a repository policy cannot grant GetAuthorizationToken", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci2", nil, nil)
		admin := a.newUser(t, a.iam, "admin2", []string{managedARN + "AmazonEC2ContainerRegistryFullAccess"}, nil)
		_, err := admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"),
			PolicyText: aws.String(repoPolicy("Allow", fmt.Sprintf(`{"AWS":%q}`, ci.arn), `"ecr:GetAuthorizationToken"`))})
		api := wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
		if want := "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"; api.ErrorMessage() != want {
			t.Errorf("got %q, want %q", api.ErrorMessage(), want)
		}
		_, err = ci.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		wantDenied(t, err, noAllow(ci.arn, "ecr:GetAuthorizationToken", "*", "identity"))
	})

	t.Run("03 PullOnly pulls", func(t *testing.T) {
		reader := a.newUser(t, a.iam, "reader3", []string{managedARN + "AmazonEC2ContainerRegistryPullOnly"}, nil)
		reader.token(t)
		if err := reader.pull(t, "app-a:latest"); err != nil {
			t.Fatalf("pull: %v", err)
		}
	})

	t.Run("04 PullOnly cannot push, and leaves nothing", func(t *testing.T) {
		reader := a.newUser(t, a.iam, "reader4", []string{managedARN + "AmazonEC2ContainerRegistryPullOnly"}, nil)
		reader.token(t)
		before := a.uploads(t)
		// A HEAD of a blob is allowed to a puller too (docs/access.md).
		status, body, _ := reader.do(t, http.MethodHead, "/v2/app-a/blobs/"+layer)
		if status != http.StatusOK {
			t.Errorf("HEAD blob as a puller: %d %s", status, body)
		}
		status, body, _ = reader.do(t, http.MethodPost, "/v2/app-a/blobs/uploads/")
		wantDENIED(t, http.MethodPost, status, body, noAllow(reader.arn, "ecr:InitiateLayerUpload", repoARN("app-a"), "identity"))
		img := must[v1.Image](t)(random.Image(512, 1))
		err := remote.Write(a.ref(t, "app-a:pushed"), img, reader.remote()...)
		if err == nil || !strings.Contains(err.Error(), "DENIED") {
			t.Fatalf("push as a reader: %v", err)
		}
		if after := a.uploads(t); after != before {
			t.Errorf("uploads in progress went from %s to %s", before, after)
		}
		if n := a.imageCount(t, "app-a"); n != 1 {
			t.Errorf("app-a holds %d images, want 1", n)
		}
	})

	t.Run("05 BatchGetImage alone: the manifest, not the blob", func(t *testing.T) {
		r := a.newUser(t, a.iam, "reader5", nil, map[string]string{"token": tokenOnly, "get": allow(`"ecr:BatchGetImage"`, repoARN("app-a"))})
		r.token(t)
		if status, body, _ := r.do(t, http.MethodGet, "/v2/app-a/manifests/latest"); status != http.StatusOK {
			t.Fatalf("manifest: %d %s", status, body)
		}
		status, body, _ := r.do(t, http.MethodGet, "/v2/app-a/blobs/"+layer)
		wantDENIED(t, http.MethodGet, status, body, noAllow(r.arn, "ecr:GetDownloadUrlForLayer", repoARN("app-a"), "identity"))
	})

	ciPolicy := map[string]string{"token": tokenOnly, "push": allow(pushActions, repoARN("app-a"))}

	t.Run("06 push to app-a only; app-b is left as it was", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci6", nil, ciPolicy)
		ci.token(t)
		img := must[v1.Image](t)(random.Image(512, 2))
		if err := remote.Write(a.ref(t, "app-a:1"), img, ci.remote()...); err != nil {
			t.Fatalf("push to app-a: %v", err)
		}
		before := a.uploads(t)
		err := remote.Write(a.ref(t, "app-b:1"), img, ci.remote()...)
		if err == nil {
			t.Fatal("push to app-b succeeded")
		}
		status, body, _ := ci.do(t, http.MethodHead, "/v2/app-b/blobs/"+layer)
		wantDENIED(t, http.MethodHead, status, body, "")
		status, body, _ = ci.do(t, http.MethodPost, "/v2/app-b/blobs/uploads/")
		wantDENIED(t, http.MethodPost, status, body, noAllow(ci.arn, "ecr:InitiateLayerUpload", repoARN("app-b"), "identity"))
		// As docker's against ECR, the first refusal is a HEAD's, which has
		// no body.
		if !strings.Contains(err.Error(), "403 Forbidden") {
			t.Errorf("the client's error: %v", err)
		}
		if n := a.imageCount(t, "app-b"); n != 0 {
			t.Errorf("app-b holds %d images", n)
		}
		if after := a.uploads(t); after != before {
			t.Errorf("uploads in progress went from %s to %s", before, after)
		}
	})

	t.Run("07 a repository policy naming the user grants it", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci7", nil, ciPolicy)
		a.setRepoPolicy(t, "app-b", repoPolicy("Allow", fmt.Sprintf(`{"AWS":%q}`, ci.arn), pushActions))
		ci.token(t)
		if err := remote.Write(a.ref(t, "app-b:7"), must[v1.Image](t)(random.Image(512, 1)), ci.remote()...); err != nil {
			t.Fatalf("push to app-b: %v", err)
		}
	})

	t.Run("08 a repository policy naming the account delegates", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci8", nil, ciPolicy)
		a.setRepoPolicy(t, "app-b", repoPolicy("Allow", fmt.Sprintf(`{"AWS":%q}`, ownAccount), pushActions))
		ci.token(t)
		status, body, _ := ci.do(t, http.MethodPost, "/v2/app-b/blobs/uploads/")
		wantDENIED(t, http.MethodPost, status, body, noAllow(ci.arn, "ecr:InitiateLayerUpload", repoARN("app-b"), "identity"))
	})

	t.Run("09 an explicit deny in the repository policy", func(t *testing.T) {
		admin := a.newUser(t, a.iam, "admin9", nil, map[string]string{"all": allow(`"ecr:*"`, "*")})
		a.setRepoPolicy(t, "app-a", repoPolicy("Deny", `"*"`, pullActions))
		admin.token(t)
		status, body, _ := admin.do(t, http.MethodGet, "/v2/app-a/manifests/latest")
		wantDENIED(t, http.MethodGet, status, body, explicitDeny(admin.arn, "ecr:BatchGetImage", repoARN("app-a"), "resource"))
		if err := admin.pull(t, "app-a:latest"); err == nil || !strings.Contains(err.Error(), "explicit deny") {
			t.Errorf("pull: %v", err)
		}
		_, err := admin.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("app-a"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}}})
		wantDenied(t, err, explicitDeny(admin.arn, "ecr:BatchGetImage", repoARN("app-a"), "resource"))
	})

	t.Run("10 an identity deny beats a repository allow", func(t *testing.T) {
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:PutImage","Resource":"` + repoARN("app-a") + `"}]}`
		admin := a.newUser(t, a.iam, "admin10", nil, map[string]string{"all": allow(`"ecr:*"`, "*"), "deny": deny})
		a.setRepoPolicy(t, "app-a", repoPolicy("Allow", fmt.Sprintf(`{"AWS":%q}`, admin.arn), `"ecr:*"`))
		m := must[*ecr.BatchGetImageOutput](t)(a.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("app-a"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(digest)}}}))
		_, err := admin.ecr.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("app-a"), ImageManifest: m.Images[0].ImageManifest, ImageTag: aws.String("v10")})
		wantDenied(t, err, explicitDeny(admin.arn, "ecr:PutImage", repoARN("app-a"), "identity"))
	})

	t.Run("11 another account, no repository policy", func(t *testing.T) {
		ext := a.newUser(t, a.extIAM, "ext11", nil, map[string]string{"all": allow(`"ecr:*"`, "*")})
		if !strings.HasPrefix(ext.arn, "arn:aws:iam::"+otherAccount+":user/") {
			t.Fatalf("ext's ARN %s", ext.arn)
		}
		ext.token(t)
		status, body, _ := ext.do(t, http.MethodGet, "/v2/app-a/manifests/latest")
		wantDENIED(t, http.MethodGet, status, body, noAllow(ext.arn, "ecr:BatchGetImage", repoARN("app-a"), "resource"))
	})

	rootOfOther := fmt.Sprintf(`{"AWS":"arn:aws:iam::%s:root"}`, otherAccount)
	t.Run("12 another account needs its own allow too", func(t *testing.T) {
		ext := a.newUser(t, a.extIAM, "ext12", nil, map[string]string{"token": tokenOnly})
		a.setRepoPolicy(t, "app-a", repoPolicy("Allow", rootOfOther, pullActions))
		ext.token(t)
		status, body, _ := ext.do(t, http.MethodGet, "/v2/app-a/manifests/latest")
		wantDENIED(t, http.MethodGet, status, body, noAllow(ext.arn, "ecr:BatchGetImage", repoARN("app-a"), "identity"))
	})

	t.Run("13 both allows: another account pulls", func(t *testing.T) {
		ext := a.newUser(t, a.extIAM, "ext13", nil, map[string]string{"token": tokenOnly, "pull": allow(pullActions, repoARN("app-a"))})
		a.setRepoPolicy(t, "app-a", repoPolicy("Allow", rootOfOther, pullActions))
		ext.token(t)
		if err := ext.pull(t, "app-a:latest"); err != nil {
			t.Fatalf("pull: %v", err)
		}
	})

	t.Run("14 a deny unless from an address", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci14", nil, map[string]string{"all": allow(`"ecr:*"`, "*")})
		a.setRepoPolicy(t, "app-a", repoPolicy("Deny", `"*"`, `"ecr:*"`, `{"NotIpAddress":{"aws:SourceIp":"127.0.0.2/32"}}`))
		ci.token(t)
		status, body, _ := ci.do(t, http.MethodGet, "/v2/app-a/manifests/latest", "127.0.0.1")
		wantDENIED(t, http.MethodGet, status, body, explicitDeny(ci.arn, "ecr:BatchGetImage", repoARN("app-a"), "resource"))
		if err := ci.pull(t, "app-a:latest", "127.0.0.2"); err != nil {
			t.Fatalf("pull from 127.0.0.2: %v", err)
		}
		// The deny holds for the root too (a pull), except on the policy
		// itself: the root may always delete it, so that no policy locks
		// the account out for good.
		root := &user{a: a, arn: "arn:aws:iam::" + ownAccount + ":root", password: a.loginPassword()}
		status, body, _ = root.do(t, http.MethodGet, "/v2/app-a/manifests/latest", "127.0.0.1")
		wantDENIED(t, http.MethodGet, status, body, explicitDeny(root.arn, "ecr:BatchGetImage", repoARN("app-a"), "resource"))
		must[*ecr.DeleteRepositoryPolicyOutput](t)(a.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app-a")}))
	})

	t.Run("15 actions ignore case; * crosses /", func(t *testing.T) {
		a.createRepo("team/x/y")
		ci := a.newUser(t, a.iam, "ci15", nil, map[string]string{"odd": allow(`"ECR:batchgetimage"`, "arn:aws:ecr:"+testRegion+":"+ownAccount+":repository/team/*")})
		out, err := ci.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("team/x/y"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("none")}}})
		if err != nil || len(out.Failures) != 1 {
			t.Fatalf("BatchGetImage on team/x/y: %v %+v", err, out)
		}
	})

	t.Run("16 ListImageReferrers is BatchGetImage", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci16", nil, map[string]string{"get": allow(`"ecr:BatchGetImage"`, repoARN("app-a"))})
		if _, err := ci.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("app-a"),
			SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digest)}}); err != nil {
			t.Fatalf("ListImageReferrers: %v", err)
		}
	})

	t.Run("17 DescribeRepositories of all needs repository/*", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci17", nil, map[string]string{"d": allow(`"ecr:DescribeRepositories"`, repoARN("app-a"))})
		_, err := ci.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		wantDenied(t, err, noAllow(ci.arn, "ecr:DescribeRepositories", repoARN("*"), "identity"))
		if _, err := ci.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app-a"}}); err != nil {
			t.Fatalf("DescribeRepositories app-a: %v", err)
		}
	})

	t.Run("18 PowerUser cannot change policies or delete", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci18", []string{managedARN + "AmazonEC2ContainerRegistryPowerUser"}, nil)
		_, err := ci.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: aws.String(repoPolicy("Allow", `"*"`, pullActions))})
		wantDenied(t, err, noAllow(ci.arn, "ecr:SetRepositoryPolicy", repoARN("app-a"), "identity"))
		_, err = ci.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app-a"), Force: true})
		wantDenied(t, err, noAllow(ci.arn, "ecr:DeleteRepository", repoARN("app-a"), "identity"))
		if n := a.imageCount(t, "app-a"); n == 0 {
			t.Error("app-a lost its images")
		}
	})

	admin := a.newUser(t, a.iam, "admin", []string{managedARN + "AmazonEC2ContainerRegistryFullAccess"}, nil)
	t.Run("19 a policy over 10,240 characters", func(t *testing.T) {
		long := repoPolicy("Allow", `"*"`, `"ecr:BatchGetImage"`)
		long = strings.Replace(long, `"Sid":"s"`, `"Sid":"`+strings.Repeat("s", 10241-len(long)+1)+`"`, 1)
		if len(long) != 10241 {
			t.Fatalf("the policy is %d characters", len(long))
		}
		_, err := admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: &long})
		api := wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
		if !strings.Contains(api.ErrorMessage(), "'policyText' failed to satisfy constraint: 'Member must have length less than or equal to 10240'") {
			t.Errorf("message %q", api.ErrorMessage())
		}
	})

	t.Run("20 a principal that does not exist", func(t *testing.T) {
		_, err := admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"),
			PolicyText: aws.String(repoPolicy("Allow", `{"AWS":"arn:aws:iam::`+ownAccount+`:user/ghost"}`, pullActions))})
		api := wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
		if want := "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Principal not found'"; api.ErrorMessage() != want {
			t.Errorf("got %q, want %q", api.ErrorMessage(), want)
		}
	})

	notFound := "Repository policy does not exist for the repository with name 'app-a' in the registry with id '" + ownAccount + "'"
	t.Run("21 no policy to get or delete", func(t *testing.T) {
		_, err := admin.ecr.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app-a")})
		if api := wantError(t, err, "RepositoryPolicyNotFoundException", http.StatusBadRequest); api.ErrorMessage() != notFound {
			t.Errorf("got %q", api.ErrorMessage())
		}
		_, err = admin.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app-a")})
		if api := wantError(t, err, "RepositoryPolicyNotFoundException", http.StatusBadRequest); api.ErrorMessage() != notFound {
			t.Errorf("got %q", api.ErrorMessage())
		}
	})

	t.Run("22 delete twice", func(t *testing.T) {
		text := repoPolicy("Allow", `"*"`, pullActions)
		must[*ecr.SetRepositoryPolicyOutput](t)(admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: &text}))
		got := must[*ecr.GetRepositoryPolicyOutput](t)(admin.ecr.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app-a")}))
		if *got.PolicyText != text || *got.RegistryId != ownAccount {
			t.Errorf("GetRepositoryPolicy: %s %s", *got.RegistryId, *got.PolicyText)
		}
		del := must[*ecr.DeleteRepositoryPolicyOutput](t)(admin.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app-a")}))
		if *del.PolicyText != text {
			t.Errorf("the deleted policy: %s", *del.PolicyText)
		}
		_, err := admin.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app-a")})
		wantError(t, err, "RepositoryPolicyNotFoundException", http.StatusBadRequest)
	})

	t.Run("23 a policy that locks its setter out needs force", func(t *testing.T) {
		text := repoPolicy("Deny", fmt.Sprintf(`{"AWS":%q}`, admin.arn), `"ecr:SetRepositoryPolicy"`)
		_, err := admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: &text})
		api := wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
		if !strings.Contains(api.ErrorMessage(), "force") {
			t.Errorf("message %q does not say to force", api.ErrorMessage())
		}
		must[*ecr.SetRepositoryPolicyOutput](t)(admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: &text, Force: true}))
		_, err = admin.ecr.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app-a"), PolicyText: aws.String(repoPolicy("Allow", `"*"`, pullActions)), Force: true})
		wantDenied(t, err, explicitDeny(admin.arn, "ecr:SetRepositoryPolicy", repoARN("app-a"), "resource"))
		must[*ecr.DeleteRepositoryPolicyOutput](t)(a.ecr.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app-a")}))
	})

	t.Run("24 registry policy scopes", func(t *testing.T) {
		text := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + otherAccount + `:root"},"Action":"ecr:BatchGetImage","Resource":"` + repoARN("*") + `"}]}`
		must[*ecr.PutAccountSettingOutput](t)(admin.ecr.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V1")}))
		_, err := admin.ecr.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: &text})
		api := wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
		if want := "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"; api.ErrorMessage() != want {
			t.Errorf("got %q", api.ErrorMessage())
		}
		must[*ecr.PutAccountSettingOutput](t)(admin.ecr.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V2")}))
		must[*ecr.PutRegistryPolicyOutput](t)(admin.ecr.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: &text}))
		got := must[*ecr.GetRegistryPolicyOutput](t)(admin.ecr.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{}))
		if *got.PolicyText != text {
			t.Errorf("GetRegistryPolicy: %s", *got.PolicyText)
		}
		// The V2 policy grants the other account pulls of every repository.
		ext := a.newUser(t, a.extIAM, "ext24", nil, map[string]string{"token": tokenOnly, "get": allow(`"ecr:BatchGetImage"`, repoARN("*"))})
		ext.token(t)
		if status, body, _ := ext.do(t, http.MethodGet, "/v2/app-b/manifests/7"); status != http.StatusOK {
			t.Errorf("manifest through the registry policy: %d %s", status, body)
		}
		must[*ecr.DeleteRegistryPolicyOutput](t)(admin.ecr.DeleteRegistryPolicy(ctx, &ecr.DeleteRegistryPolicyInput{}))
		_, err = admin.ecr.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
		wantError(t, err, "RegistryPolicyNotFoundException", http.StatusBadRequest)
	})

	t.Run("26 a detached policy applies to the next request", func(t *testing.T) {
		pol := must[*iam.CreatePolicyOutput](t)(a.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("pull-app-a"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage"],"Resource":"*"}]}`)}))
		ci := a.newUser(t, a.iam, "ci26", []string{*pol.Policy.Arn}, nil)
		ci.token(t)
		if status, body, _ := ci.do(t, http.MethodGet, "/v2/app-a/manifests/latest"); status != http.StatusOK {
			t.Fatalf("before: %d %s", status, body)
		}
		must[*iam.DetachUserPolicyOutput](t)(a.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("ci26"), PolicyArn: pol.Policy.Arn}))
		status, body, _ := ci.do(t, http.MethodGet, "/v2/app-a/manifests/latest")
		wantDENIED(t, http.MethodGet, status, body, noAllow(ci.arn, "ecr:BatchGetImage", repoARN("app-a"), "identity"))
	})

	t.Run("28 no credentials: the challenge", func(t *testing.T) {
		resp := must[*http.Response](t)(http.Get(a.url + "/v2/"))
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="http://`+a.host()+`/",service="ecr.amazonaws.com"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	})

	// Last: it moves the clock 12 hours on.
	t.Run("25 an expired token", func(t *testing.T) {
		ci := a.newUser(t, a.iam, "ci25", nil, ciPolicy)
		ci.token(t)
		a.clock.Advance(12*time.Hour + time.Second)
		status, body, h := ci.do(t, http.MethodGet, "/v2/app-a/manifests/latest")
		wantDENIED(t, http.MethodGet, status, body, "Your authorization token has expired. Reauthenticate and try again.")
		if h.Get("WWW-Authenticate") != "" {
			t.Errorf("an expired token is challenged: %s", h.Get("WWW-Authenticate"))
		}
	})
}

// TestAccessRegion is case 27: a token of one region does not log in to a
// registry of another (400 at GET /v2/).
func TestAccessRegion(t *testing.T) {
	east := start(t)
	west := startWith(t, func(c *serverConfig) {
		c.Region = "us-west-2"
		c.AccessKeyID, c.SecretAccessKey = east.srv.Credential.AccessKeyID, east.srv.Credential.SecretAccessKey
	})
	westClient := ecr.NewFromConfig(aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider(east.srv.Credential.AccessKeyID, east.srv.Credential.SecretAccessKey, ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, func(o *ecr.Options) { o.BaseEndpoint = aws.String(west.url) })
	out := must[*ecr.GetAuthorizationTokenOutput](t)(westClient.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))
	raw := must[[]byte](t)(base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken))
	req := must[*http.Request](t)(http.NewRequest(http.MethodGet, east.url+"/v2/", nil))
	user, pw, _ := strings.Cut(string(raw), ":")
	req.SetBasicAuth(user, pw)
	resp := must[*http.Response](t)(http.DefaultClient.Do(req))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "us-west-2") {
		t.Fatalf("a us-west-2 token at us-east-1: %d %s", resp.StatusCode, b)
	}
	// The same token works where it was issued.
	req = must[*http.Request](t)(http.NewRequest(http.MethodGet, west.url+"/v2/", nil))
	req.SetBasicAuth(user, pw)
	resp = must[*http.Response](t)(http.DefaultClient.Do(req))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("at us-west-2: %d", resp.StatusCode)
	}
}
