package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	ptypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const publicAlias = "berthtest"

func (e *env) publicClient(id, secret string) *ecrpublic.Client {
	return ecrpublic.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }, HTTPClient: &http.Client{Transport: modelChecked{t: e.t, next: http.DefaultTransport}}},
		func(o *ecrpublic.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func startPublic(t *testing.T) (*env, *ecrpublic.Client) {
	e := startWith(t, func(c *serverConfig) {
		c.RegistryID = ownAccount
		c.PublicAlias = publicAlias
		c.PublicAddr = "127.0.0.1:0"
	})
	return e, e.publicClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
}

// pushPublicBlob uploads data through ECR Public's layer calls, naming the
// registry by its alias as the push operations allow.
func pushPublicBlob(t *testing.T, pub *ecrpublic.Client, repo string, data []byte) string {
	t.Helper()
	up := must[*ecrpublic.InitiateLayerUploadOutput](t)(pub.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: &repo, RegistryId: aws.String(publicAlias)}))
	must[*ecrpublic.UploadLayerPartOutput](t)(pub.UploadLayerPart(ctx, &ecrpublic.UploadLayerPartInput{RepositoryName: &repo, UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data) - 1)), LayerPartBlob: data}))
	out := must[*ecrpublic.CompleteLayerUploadOutput](t)(pub.CompleteLayerUpload(ctx, &ecrpublic.CompleteLayerUploadInput{RepositoryName: &repo,
		UploadId: up.UploadId, LayerDigests: []string{digestOf(data)}}))
	return *out.LayerDigest
}

// TestPublicAPI drives every ECR Public operation through the AWS SDK's
// ecrpublic client (every request and answer checked against the model),
// with their main errors, and shows the public and private registries as
// two namespaces: the same name holds different images in each.
func TestPublicAPI(t *testing.T) {
	e, pub := startPublic(t)
	repo := "team/app"
	created := must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: &repo,
		CatalogData: &ptypes.RepositoryCatalogDataInput{Description: aws.String("an app"), Architectures: []string{"x86-64", "ARM 64"}, OperatingSystems: []string{"Linux"},
			AboutText: aws.String("# About"), UsageText: aws.String("podman pull …")},
		Tags: []ptypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	arn := "arn:aws:ecr-public::" + ownAccount + ":repository/" + repo
	host := strings.TrimPrefix(e.srv.PublicURL(), "http://")
	if r := created.Repository; *r.RepositoryArn != arn || *r.RepositoryUri != host+"/"+publicAlias+"/"+repo || *r.RegistryId != ownAccount {
		t.Errorf("CreateRepository: %s %s %s", *r.RepositoryArn, *r.RepositoryUri, *r.RegistryId)
	}
	if d := created.CatalogData; *d.Description != "an app" || len(d.Architectures) != 2 || *d.UsageText != "podman pull …" {
		t.Errorf("catalog data %+v", d)
	}
	_, err := pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: &repo})
	wantError(t, err, "RepositoryAlreadyExistsException", http.StatusBadRequest)
	e.createRepo(repo) // the same name, privately: another repository

	// A push through the API, naming the registry by its alias.
	img := imageOf("public", 2)
	for _, b := range imageBlobs("public", 2) {
		pushPublicBlob(t, pub, repo, b)
	}
	avail := must[*ecrpublic.BatchCheckLayerAvailabilityOutput](t)(pub.BatchCheckLayerAvailability(ctx, &ecrpublic.BatchCheckLayerAvailabilityInput{
		RepositoryName: &repo, LayerDigests: []string{img.layers[0].Digest}}))
	if len(avail.Layers) != 1 || avail.Layers[0].LayerAvailability != ptypes.LayerAvailabilityAvailable {
		t.Errorf("BatchCheckLayerAvailability %+v", avail.Layers)
	}
	manifest := img.oci(nil)
	put := must[*ecrpublic.PutImageOutput](t)(pub.PutImage(ctx, &ecrpublic.PutImageInput{RepositoryName: &repo, ImageManifest: &manifest, ImageTag: aws.String("v1")}))
	if *put.Image.ImageId.ImageDigest != digestOf([]byte(manifest)) || *put.Image.ImageManifest != manifest {
		t.Errorf("PutImage: %+v", put.Image.ImageId)
	}
	for _, tag := range []string{"v2", "v3"} {
		must[*ecrpublic.PutImageOutput](t)(pub.PutImage(ctx, &ecrpublic.PutImageInput{RepositoryName: &repo, ImageManifest: &manifest, ImageTag: aws.String(tag)}))
	}
	_, err = pub.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: &repo, RegistryId: aws.String("someone")})
	wantError(t, err, "RegistryNotFoundException", http.StatusBadRequest)

	images := must[*ecrpublic.DescribeImagesOutput](t)(pub.DescribeImages(ctx, &ecrpublic.DescribeImagesInput{RepositoryName: &repo}))
	if len(images.ImageDetails) != 1 || len(images.ImageDetails[0].ImageTags) != 3 {
		t.Fatalf("DescribeImages: %+v", images.ImageDetails)
	}
	private := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repo}))
	if len(private.ImageDetails) != 0 {
		t.Errorf("the private %s holds the public one's image", repo)
	}
	// DescribeImageTags, a page at a time.
	var tags []string
	var next *string
	for {
		page := must[*ecrpublic.DescribeImageTagsOutput](t)(pub.DescribeImageTags(ctx, &ecrpublic.DescribeImageTagsInput{RepositoryName: &repo, MaxResults: aws.Int32(2), NextToken: next}))
		for _, d := range page.ImageTagDetails {
			tags = append(tags, *d.ImageTag)
			if *d.ImageDetail.ImageDigest != *put.Image.ImageId.ImageDigest || d.CreatedAt == nil {
				t.Errorf("tag %s: %+v", *d.ImageTag, d.ImageDetail)
			}
		}
		if next = page.NextToken; next == nil {
			break
		}
	}
	if strings.Join(tags, ",") != "v1,v2,v3" {
		t.Errorf("DescribeImageTags: %v", tags)
	}

	repos := must[*ecrpublic.DescribeRepositoriesOutput](t)(pub.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{}))
	if len(repos.Repositories) != 1 || *repos.Repositories[0].RepositoryName != repo {
		t.Errorf("DescribeRepositories: %+v", repos.Repositories)
	}
	_, err = pub.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
	wantError(t, err, "RepositoryNotFoundException", http.StatusBadRequest)

	// Catalog data.
	got := must[*ecrpublic.GetRepositoryCatalogDataOutput](t)(pub.GetRepositoryCatalogData(ctx, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: &repo}))
	if *got.CatalogData.AboutText != "# About" {
		t.Errorf("GetRepositoryCatalogData %+v", got.CatalogData)
	}
	must[*ecrpublic.PutRepositoryCatalogDataOutput](t)(pub.PutRepositoryCatalogData(ctx, &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: &repo,
		CatalogData: &ptypes.RepositoryCatalogDataInput{Description: aws.String("replaced")}}))
	got = must[*ecrpublic.GetRepositoryCatalogDataOutput](t)(pub.GetRepositoryCatalogData(ctx, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: &repo}))
	if *got.CatalogData.Description != "replaced" || got.CatalogData.AboutText != nil {
		t.Errorf("catalog data after a put replaces it: %+v", got.CatalogData)
	}
	_, err = pub.PutRepositoryCatalogData(ctx, &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: &repo,
		CatalogData: &ptypes.RepositoryCatalogDataInput{LogoImageBlob: []byte("not a picture")}})
	wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
	_, err = pub.PutRepositoryCatalogData(ctx, &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: aws.String("nope"), CatalogData: &ptypes.RepositoryCatalogDataInput{}})
	wantError(t, err, "RepositoryNotFoundException", http.StatusBadRequest)
	reg := must[*ecrpublic.PutRegistryCatalogDataOutput](t)(pub.PutRegistryCatalogData(ctx, &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("Berth")}))
	if *reg.RegistryCatalogData.DisplayName != "Berth" {
		t.Errorf("PutRegistryCatalogData %+v", reg.RegistryCatalogData)
	}
	if g := must[*ecrpublic.GetRegistryCatalogDataOutput](t)(pub.GetRegistryCatalogData(ctx, &ecrpublic.GetRegistryCatalogDataInput{})); *g.RegistryCatalogData.DisplayName != "Berth" {
		t.Errorf("GetRegistryCatalogData %+v", g.RegistryCatalogData)
	}
	regs := must[*ecrpublic.DescribeRegistriesOutput](t)(pub.DescribeRegistries(ctx, &ecrpublic.DescribeRegistriesInput{}))
	if r := regs.Registries; len(r) != 1 || *r[0].RegistryId != ownAccount || *r[0].Aliases[0].Name != publicAlias || !r[0].Aliases[0].PrimaryRegistryAlias ||
		*r[0].RegistryUri != host+"/"+publicAlias || *r[0].RegistryArn != "arn:aws:ecr-public::"+ownAccount+":registry/"+ownAccount {
		t.Errorf("DescribeRegistries %+v", r)
	}

	// Tags by the public ARN; a private ARN is not one of this API's.
	must[*ecrpublic.TagResourceOutput](t)(pub.TagResource(ctx, &ecrpublic.TagResourceInput{ResourceArn: &arn, Tags: []ptypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	lt := must[*ecrpublic.ListTagsForResourceOutput](t)(pub.ListTagsForResource(ctx, &ecrpublic.ListTagsForResourceInput{ResourceArn: &arn}))
	if len(lt.Tags) != 2 {
		t.Errorf("ListTagsForResource %+v", lt.Tags)
	}
	must[*ecrpublic.UntagResourceOutput](t)(pub.UntagResource(ctx, &ecrpublic.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}}))
	_, err = pub.ListTagsForResource(ctx, &ecrpublic.ListTagsForResourceInput{ResourceArn: aws.String(repoARN(repo))})
	wantError(t, err, "InvalidParameterException", http.StatusBadRequest)

	// Repository policies, as private ECR's.
	text := `{"Version":"2008-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":"*","Action":["ecr-public:BatchCheckLayerAvailability"]}]}`
	_, err = pub.GetRepositoryPolicy(ctx, &ecrpublic.GetRepositoryPolicyInput{RepositoryName: &repo})
	wantError(t, err, "RepositoryPolicyNotFoundException", http.StatusBadRequest)
	must[*ecrpublic.SetRepositoryPolicyOutput](t)(pub.SetRepositoryPolicy(ctx, &ecrpublic.SetRepositoryPolicyInput{RepositoryName: &repo, PolicyText: &text}))
	if g := must[*ecrpublic.GetRepositoryPolicyOutput](t)(pub.GetRepositoryPolicy(ctx, &ecrpublic.GetRepositoryPolicyInput{RepositoryName: &repo})); *g.PolicyText != text {
		t.Errorf("GetRepositoryPolicy %s", *g.PolicyText)
	}
	_, err = e.ecr.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: &repo})
	wantError(t, err, "RepositoryPolicyNotFoundException", http.StatusBadRequest) // the private one has none
	_, err = pub.SetRepositoryPolicy(ctx, &ecrpublic.SetRepositoryPolicyInput{RepositoryName: &repo,
		PolicyText: aws.String(`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr-public:GetAuthorizationToken"}]}`)})
	wantError(t, err, "InvalidParameterException", http.StatusBadRequest)
	must[*ecrpublic.DeleteRepositoryPolicyOutput](t)(pub.DeleteRepositoryPolicy(ctx, &ecrpublic.DeleteRepositoryPolicyInput{RepositoryName: &repo}))

	// Deletes.
	del := must[*ecrpublic.BatchDeleteImageOutput](t)(pub.BatchDeleteImage(ctx, &ecrpublic.BatchDeleteImageInput{RepositoryName: &repo, RegistryId: aws.String(publicAlias),
		ImageIds: []ptypes.ImageIdentifier{{ImageTag: aws.String("v3")}}}))
	if len(del.ImageIds) != 1 || len(del.Failures) != 0 {
		t.Errorf("BatchDeleteImage %+v %+v", del.ImageIds, del.Failures)
	}
	_, err = pub.DeleteRepository(ctx, &ecrpublic.DeleteRepositoryInput{RepositoryName: &repo})
	wantError(t, err, "RepositoryNotEmptyException", http.StatusBadRequest)
	must[*ecrpublic.DeleteRepositoryOutput](t)(pub.DeleteRepository(ctx, &ecrpublic.DeleteRepositoryInput{RepositoryName: &repo, Force: true}))
	if out := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})); len(out.Repositories) != 1 {
		t.Errorf("deleting the public %s took the private one", repo)
	}

	// GetAuthorizationToken: one object, no proxyEndpoint.
	tok := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	raw := must[[]byte](t)(base64.StdEncoding.DecodeString(*tok.AuthorizationData.AuthorizationToken))
	if !strings.HasPrefix(string(raw), "AWS:") || tok.AuthorizationData.ExpiresAt == nil {
		t.Errorf("GetAuthorizationToken: %s", raw)
	}
}

// TestPublicAccess: ECR Public's actions go through the same policies:
// its token needs sts:GetServiceBearerToken too (ecr-auth §6.4 case 30),
// and pushes need the ecr-public: write actions on the public ARN.
func TestPublicAccess(t *testing.T) {
	e, pub := startPublic(t)
	a := &access{env: e, iam: e.iamClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey, "")}
	must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app")}))

	ci := a.newUser(t, a.iam, "ci", nil, map[string]string{"token": allow(`"ecr-public:GetAuthorizationToken"`, "*")})
	_, err := e.publicClient(ci.id, ci.key).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
	wantDenied(t, err, noAllow(ci.arn, "sts:GetServiceBearerToken", "*", "identity"))

	reader := a.newUser(t, a.iam, "reader", []string{managedARN + "AmazonElasticContainerRegistryPublicReadOnly"}, nil)
	rp := e.publicClient(reader.id, reader.key)
	must[*ecrpublic.GetAuthorizationTokenOutput](t)(rp.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	must[*ecrpublic.DescribeRepositoriesOutput](t)(rp.DescribeRepositories(ctx, &ecrpublic.DescribeRepositoriesInput{}))
	_, err = rp.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("app")})
	wantDenied(t, err, noAllow(reader.arn, "ecr-public:InitiateLayerUpload", "arn:aws:ecr-public::"+ownAccount+":repository/app", "identity"))

	power := a.newUser(t, a.iam, "power", []string{managedARN + "AmazonElasticContainerRegistryPublicPowerUser"}, nil)
	pushPublicBlob(t, e.publicClient(power.id, power.key), "app", []byte("a layer"))
	_, err = e.publicClient(power.id, power.key).DeleteRepository(ctx, &ecrpublic.DeleteRepositoryInput{RepositoryName: aws.String("app")})
	wantDenied(t, err, noAllow(power.arn, "ecr-public:DeleteRepository", "arn:aws:ecr-public::"+ownAccount+":repository/app", "identity"))
	_, err = e.publicClient(power.id, power.key).PutRegistryCatalogData(ctx, &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("x")})
	wantDenied(t, err, noAllow(power.arn, "ecr-public:PutRegistryCatalogData", fmt.Sprintf("arn:aws:ecr-public::%s:registry/%s", ownAccount, ownAccount), "identity"))
}

// TestPublicEndpoint is the public registry endpoint as public.ecr.aws
// answers: the exact challenge, an anonymous token, pulls with it by
// go-containerregistry (which follows the challenge as docker does), a push
// with the token of ecr-public get-login-password, the refusals of a bad
// token, of Basic, and of an anonymous push; and the same name holding
// different images in the public and the private registry.
func TestPublicEndpoint(t *testing.T) {
	e, pub := startPublic(t)
	base := e.srv.PublicURL()
	host := strings.TrimPrefix(base, "http://")
	must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("tools/app")}))
	e.createRepo("tools/app")

	get := func(path, authz string) (*http.Response, string) {
		req := must[*http.Request](t)(http.NewRequest(http.MethodGet, base+path, nil))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp := must[*http.Response](t)(http.DefaultClient.Do(req))
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, _ := get("/v2/", "")
	if want := `Bearer realm="http://` + host + `/token/",service="` + host + `",scope="aws"`; resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("GET /v2/ without a token: %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	resp, body := get("/token/?service="+host+"&scope=aws", "")
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil || resp.StatusCode != 200 || tok.Token == "" {
		t.Fatalf("GET /token/: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/v2/", "Bearer "+tok.Token); resp.StatusCode != 200 {
		t.Fatalf("GET /v2/ with the anonymous token: %d %s", resp.StatusCode, body)
	}
	resp, body = get("/v2/", "Bearer not-a-token")
	if resp.StatusCode != 400 || resp.Header.Get("WWW-Authenticate") != "" || !strings.Contains(body, `"code":"DENIED"`) {
		t.Errorf("a bad token: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	resp, body = get("/v2/", "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:"+tok.Token)))
	if resp.StatusCode != 403 || !strings.Contains(body, "Your Authorization Token is invalid.") {
		t.Errorf("Basic on /v2/: %d %s", resp.StatusCode, body)
	}

	// A push with the ecr-public login, a pull anonymously.
	tokOut := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	login := strings.TrimPrefix(string(must[[]byte](t)(base64.StdEncoding.DecodeString(*tokOut.AuthorizationData.AuthorizationToken))), "AWS:")
	ref := must[name.Reference](t)(name.ParseReference(host+"/"+publicAlias+"/tools/app:v1", name.Insecure))
	img := must[v1.Image](t)(random.Image(2048, 2))
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: login})); err != nil {
		t.Fatalf("push to the public endpoint: %v", err)
	}
	if err := remote.Write(ref, must[v1.Image](t)(random.Image(512, 1))); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("an anonymous push: %v", err)
	}
	if err := pullAll(ref, nil); err != nil {
		t.Fatalf("an anonymous pull: %v", err)
	}
	pulled := must[v1.Image](t)(remote.Image(ref))
	if d, _ := pulled.Digest(); d != must[v1.Hash](t)(img.Digest()) {
		t.Errorf("pulled %s", d)
	}
	tags := must[[]string](t)(remote.List(must[name.Repository](t)(name.NewRepository(host+"/"+publicAlias+"/tools/app", name.Insecure))))
	if len(tags) != 1 || tags[0] != "v1" {
		t.Errorf("tags list: %v", tags)
	}
	// The private tools/app is another repository.
	if err := pullAll(must[name.Reference](t)(name.ParseReference(e.ref("tools/app:v1"), name.Insecure)), e.remoteOpts()); err == nil {
		t.Error("the private tools/app holds the public one's image")
	}
	resp, body = get("/v2/someone/tools/app/manifests/v1", "Bearer "+tok.Token)
	if resp.StatusCode != 404 || !strings.Contains(body, "NAME_UNKNOWN") {
		t.Errorf("another alias: %d %s", resp.StatusCode, body)
	}
	_, metrics := e.raw(must[*http.Request](t)(http.NewRequest("GET", e.url+"/metrics", nil)))
	if !strings.Contains(string(metrics), `berth_public_pulls_total{kind="anonymous"}`) {
		t.Error("/metrics counts no anonymous pull")
	}
}

// TestPublicPullRate: past its rate, an anonymous client's pulls are
// answered 429 TOOMANYREQUESTS with a Retry-After, while an authenticated
// one's, bounded apart, still go.
func TestPublicPullRate(t *testing.T) {
	e := startWith(t, func(c *serverConfig) {
		c.RegistryID, c.PublicAlias, c.PublicAddr = ownAccount, publicAlias, "127.0.0.1:0"
		c.PublicPullRate = 0.001 // one, then one every 1000 s
	})
	pub := e.publicClient(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	must[*ecrpublic.CreateRepositoryOutput](t)(pub.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app")}))
	base := e.srv.PublicURL()
	resp := must[*http.Response](t)(http.Get(base + "/token/"))
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	tags := func(bearer string) *http.Response {
		req := must[*http.Request](t)(http.NewRequest(http.MethodGet, base+"/v2/"+publicAlias+"/app/tags/list", nil))
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp := must[*http.Response](t)(http.DefaultClient.Do(req))
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := tags(tok.Token); r.StatusCode != 200 {
		t.Fatalf("the first pull: %d", r.StatusCode)
	}
	r := tags(tok.Token)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the second anonymous pull at once: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	out := must[*ecrpublic.GetAuthorizationTokenOutput](t)(pub.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}))
	for i := 0; i < 3; i++ {
		if r := tags(*out.AuthorizationData.AuthorizationToken); r.StatusCode != 200 {
			t.Fatalf("authenticated pull %d: %d", i, r.StatusCode)
		}
	}
}
