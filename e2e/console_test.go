package e2e

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"
)

// The console's pages and forms over plain HTTP, as a browser without
// JavaScript would use them: sign-in, sessions, what each page shows
// against what the ECR API answers, the actions and their refusals.
// console_browser_test.go drives the same pages in a real browser.

// consoleClient is a browser without JavaScript: a cookie jar, no
// automatic redirects.
type consoleClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (e *env) consoleClient(t *testing.T) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, base: e.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="(?:csrf|token)" value="([^"]+)"`)

// get fetches a page and remembers its anti-forgery token.
func (b *consoleClient) get(path string) (int, string, http.Header) {
	b.t.Helper()
	resp := must[*http.Response](b.t)(b.c.Get(b.base + path))
	defer resp.Body.Close()
	// Read as text, as a person does: html/template writes '+' as &#43;.
	body := string(must[[]byte](b.t)(io.ReadAll(resp.Body)))
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		body = html.UnescapeString(body)
	}
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, body, resp.Header
}

// post sends a form; with csrf, the token of the last page read.
func (b *consoleClient) post(path string, form url.Values, csrf bool) (int, string, http.Header) {
	b.t.Helper()
	if csrf {
		if strings.HasSuffix(path, "sign-in") {
			form.Set("token", b.csrf)
		} else {
			form.Set("csrf", b.csrf)
		}
	}
	resp := must[*http.Response](b.t)(b.c.PostForm(b.base+path, form))
	defer resp.Body.Close()
	body := string(must[[]byte](b.t)(io.ReadAll(resp.Body)))
	return resp.StatusCode, body, resp.Header
}

// signIn signs in with a key and returns the status of the answer.
func (b *consoleClient) signIn(id, secret string) (int, string, http.Header) {
	b.t.Helper()
	b.get("/ui/sign-in")
	return b.post("/ui/sign-in", url.Values{"accessKeyId": {id}, "secretAccessKey": {secret}}, true)
}

func (b *consoleClient) mustSignIn(id, secret string) {
	b.t.Helper()
	if st, body, h := b.signIn(id, secret); st != http.StatusSeeOther || h.Get("Location") != "/ui/repositories" {
		b.t.Fatalf("sign-in: %d %s\n%s", st, h.Get("Location"), body)
	}
}

// consoleImages pushes, with go-containerregistry, a two-platform index
// tagged multi to repo and a signature whose subject is the index; it
// returns the index, its children and the signature.
func consoleImages(t *testing.T, e *env, repo string) (v1.ImageIndex, []v1.Image, v1.Image) {
	t.Helper()
	var children []v1.Image
	idx := v1.ImageIndex(empty.Index)
	idx = mutate.IndexMediaType(idx, ggcrtypes.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		img := must[v1.Image](t)(random.Image(512, 2))
		cfg := must[*v1.ConfigFile](t)(img.ConfigFile())
		cfg.OS, cfg.Architecture = "linux", arch
		cfg.Config.Entrypoint = []string{"/bin/app", "--serve"}
		cfg.Config.Env = []string{"PATH=/usr/bin", "MODE=" + arch}
		cfg.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://example.invalid/app"}
		img = must[v1.Image](t)(mutate.ConfigFile(img, cfg))
		img = mutate.MediaType(img, ggcrtypes.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, ggcrtypes.OCIConfigJSON)
		children = append(children, img)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	ref := must[name.Reference](t)(name.ParseReference(e.ref(repo)+":multi", name.Insecure))
	if err := remote.WriteIndex(ref, idx, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	desc := must[*v1.Descriptor](t)(partialDescriptor(idx))
	sig := must[v1.Image](t)(random.Image(64, 1))
	sig = mutate.MediaType(sig, ggcrtypes.OCIManifestSchema1)
	sig = mutate.ConfigMediaType(sig, "application/vnd.dev.cosign.artifact.sig.v1+json")
	sig = mutate.Subject(sig, *desc).(v1.Image)
	sigDigest := must[v1.Hash](t)(sig.Digest())
	sigRef := must[name.Reference](t)(name.ParseReference(e.ref(repo)+"@"+sigDigest.String(), name.Insecure))
	if err := remote.Write(sigRef, sig, e.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	return idx, children, sig
}

func partialDescriptor(idx v1.ImageIndex) (*v1.Descriptor, error) {
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	size, err := idx.Size()
	if err != nil {
		return nil, err
	}
	mt, err := idx.MediaType()
	return &v1.Descriptor{MediaType: mt, Digest: d, Size: size}, err
}

func TestConsoleSignIn(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.Limits.AuthFailures = 9 })
	id, secret := e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey
	b := e.consoleClient(t)

	// No session: every page sends the browser to sign in, and back after.
	st, _, h := b.get("/ui/repository?name=x")
	if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/sign-in?") || !strings.Contains(h.Get("Location"), "next=%2Fui%2Frepository%3Fname%3Dx") {
		t.Fatalf("without a session: %d %s", st, h.Get("Location"))
	}

	// A wrong secret is refused, and opens no session.
	st, body, h := b.signIn(id, secret+"x")
	if st != http.StatusUnauthorized || !strings.Contains(body, "is not right") || h.Get("Set-Cookie") != "" && strings.Contains(h.Get("Set-Cookie"), "berth_session=") {
		t.Fatalf("wrong secret: %d %q", st, h.Get("Set-Cookie"))
	}
	// Bytes that are no key id are a wrong key, not a server error, in the
	// form and in the registry endpoint's Basic auth.
	for _, bad := range []string{"\x00", "AKIA\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "é" + strings.Repeat("A", 20)} {
		if st, _, _ := b.signIn(bad, "x"); st != http.StatusUnauthorized {
			t.Errorf("sign-in as %q: %d, want 401", bad, st)
		}
		req := must[*http.Request](t)(http.NewRequest("GET", e.url+"/v2/", nil))
		req.SetBasicAuth(bad, "x")
		if resp, _ := e.raw(req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/v2/ as %q: %d, want 401", bad, resp.StatusCode)
		}
	}
	// A sign-in form posted without its token (from another site) is refused.
	st, body, _ = b.post("/ui/sign-in", url.Values{"accessKeyId": {id}, "secretAccessKey": {secret}}, false)
	if st != http.StatusForbidden || !strings.Contains(body, "came from another site") {
		t.Fatalf("sign-in without its token: %d", st)
	}

	// The right key opens a session behind a strict, HttpOnly cookie.
	st, _, h = b.signIn(id, secret)
	if st != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", st)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "berth_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ui/" || session.Value == "" {
		t.Fatalf("session cookie: %+v", session)
	}
	st, body, h = b.get("/ui/repositories")
	if st != http.StatusOK || !strings.Contains(body, "arn:aws:iam::"+testRegistryID+":root") {
		t.Fatalf("repositories after sign-in: %d\n%s", st, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: CSP %q, Cache-Control %q", csp, h.Get("Cache-Control"))
	}

	// Idle past --console-idle (30 minutes by default), the session ends.
	e.clock.Advance(31 * time.Minute)
	if st, _, h := b.get("/ui/repositories"); st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "sign-in") {
		t.Fatalf("after 31 idle minutes: %d %s", st, h.Get("Location"))
	}

	// Sign out ends the session in the store: the old cookie opens nothing.
	b.mustSignIn(id, secret)
	b.get("/ui/repositories")
	old := b.c.Jar.Cookies(must[*url.URL](t)(url.Parse(e.url + "/ui/")))
	if st, _, h := b.post("/ui/sign-out", url.Values{}, true); st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "sign-in") {
		t.Fatalf("sign-out: %d", st)
	}
	replay := e.consoleClient(t)
	replay.c.Jar.SetCookies(must[*url.URL](t)(url.Parse(e.url+"/ui/")), old)
	if st, _, _ := replay.get("/ui/repositories"); st != http.StatusSeeOther {
		t.Fatalf("a signed-out session's cookie still works: %d", st)
	}

	// Failed sign-ins past the limit are throttled per address, with a wait.
	var last int
	var retry string
	// (The clock moved past the window above: the count starts again.)
	for range 10 {
		st, _, h := b.signIn(id, "wrong")
		last, retry = st, h.Get("Retry-After")
	}
	if last != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("after 10 failures: %d, Retry-After %q", last, retry)
	}
}

func TestConsolePages(t *testing.T) {
	a := startAccess(t)
	e := a.env
	b := e.consoleClient(t)
	b.mustSignIn(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	idx, children, sig := consoleImages(t, e, "app-a")
	idxDigest := must[v1.Hash](t)(idx.Digest()).String()

	// The repositories page lists what DescribeRepositories lists.
	_, body, _ := b.get("/ui/repositories")
	repos := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}))
	for _, r := range repos.Repositories {
		if !strings.Contains(body, ">"+*r.RepositoryName+"</a>") || !strings.Contains(body, *r.RepositoryUri) {
			t.Errorf("repositories page lacks %s (%s)", *r.RepositoryName, *r.RepositoryUri)
		}
	}
	// app-a holds app-a:latest, the index, its two children and the signature.
	if !regexp.MustCompile(`data-sort="5">5</td>`).MatchString(body) {
		t.Errorf("app-a's image count is not 5:\n%s", body)
	}

	// The repository page shows each image DescribeImages describes.
	_, body, _ = b.get("/ui/repository?name=app-a")
	imgs := must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app-a")}))
	if len(imgs.ImageDetails) != 5 {
		t.Fatalf("DescribeImages: %d images, want 5", len(imgs.ImageDetails))
	}
	for _, d := range imgs.ImageDetails {
		if !strings.Contains(body, `title="`+*d.ImageDigest+`"`) {
			t.Errorf("repository page lacks %s", *d.ImageDigest)
		}
	}
	for _, want := range []string{"linux/amd64, linux/arm64", ">multi</span>", ">latest</span>", "podman pull " + e.host() + "/app-a:", "aws ecr batch-get-image --repository-name app-a"} {
		if !strings.Contains(body, want) {
			t.Errorf("repository page lacks %q", want)
		}
	}

	// The image page of the index: its platforms, its referrer, the bytes.
	_, body, _ = b.get("/ui/image?repository=app-a&digest=" + idxDigest)
	sigDigest := must[v1.Hash](t)(sig.Digest()).String()
	for _, c := range children {
		d := must[v1.Hash](t)(c.Digest()).String()
		if !strings.Contains(body, `title="`+d+`"`) {
			t.Errorf("index page lacks child %s", d)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "application/vnd.dev.cosign.artifact.sig.v1+json", `title="` + sigDigest + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("index page lacks %q", want)
		}
	}
	st, raw, h := b.get("/ui/manifest?repository=app-a&digest=" + idxDigest)
	want := must[[]byte](t)(idx.RawManifest())
	if st != http.StatusOK || raw != string(want) || h.Get("Content-Type") != string(ggcrtypes.OCIImageIndex) {
		t.Errorf("manifest download: %d %s, %d bytes, want the %d pushed", st, h.Get("Content-Type"), len(raw), len(want))
	}

	// A child's page shows its configuration.
	child := must[v1.Hash](t)(children[1].Digest()).String()
	_, body, _ = b.get("/ui/image?repository=app-a&digest=" + child)
	for _, want := range []string{"linux/arm64", "/bin/app --serve", "MODE=arm64", "org.opencontainers.image.source"} {
		if !strings.Contains(body, want) {
			t.Errorf("child page lacks %q", want)
		}
	}
	// Viewing is not pulling: lastRecordedPullTime stays unset.
	imgs = must[*ecr.DescribeImagesOutput](t)(e.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("app-a"), ImageIds: []types.ImageIdentifier{{ImageDigest: &child}}}))
	if imgs.ImageDetails[0].LastRecordedPullTime != nil {
		t.Errorf("the console's view counted as a pull: %v", imgs.ImageDetails[0].LastRecordedPullTime)
	}

	// Storage: the chart has a bar per repository.
	_, body, _ = b.get("/ui/storage")
	if !strings.Contains(body, "<svg") || strings.Count(body, "<rect") != len(repos.Repositories) {
		t.Errorf("storage chart: %d bars for %d repositories", strings.Count(body, "<rect"), len(repos.Repositories))
	}
	// An image that does not exist is a 404 page that says what to do.
	st, body, _ = b.get("/ui/image?repository=app-a&digest=sha256:" + strings.Repeat("0", 64))
	if st != http.StatusNotFound || !strings.Contains(body, "ImageNotFoundException") {
		t.Errorf("missing image: %d", st)
	}
	st, _, _ = b.get("/ui/repository?name=Bad_Name")
	if st != http.StatusBadRequest {
		t.Errorf("an invalid name: %d, want 400", st)
	}
	// A client's mistake is never a server error.
	for _, path := range []string{"/ui/repository?name=%FF%FE", "/ui/repository?name=app-a&token=garbage", "/ui/repository?name=app-a&tagStatus=SOME",
		"/ui/image?repository=app-a&digest=garbage", "/ui/image?repository=%00&digest=sha256:00", "/ui/repositories?after=%FF", "/ui/repositories?prefix=%FF%00",
		"/ui/storage?after=ZZ", "/ui/lifecycle?repository=", "/ui/policy?repository=nope", "/ui/confirm?action=x", "/ui/confirm?action=delete-tag&repository=app-a&digest=" + idxDigest + "&tag=nope",
		"/ui/manifest?repository=app-a&digest=sha256:zz", "/ui/nowhere"} {
		if st, body, _ := b.get(path); st >= 500 || st == http.StatusOK && !strings.Contains(path, "prefix") {
			t.Errorf("%s: %d\n%s", path, st, body)
		}
	}
}

func TestConsoleActions(t *testing.T) {
	a := startAccess(t)
	e := a.env
	b := e.consoleClient(t)
	b.mustSignIn(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)

	// A form without the anti-forgery token changes nothing.
	b.get("/ui/repositories")
	if st, body, _ := b.post("/ui/repositories", url.Values{"name": {"made/here"}, "csrf": {"forged"}}, false); st != http.StatusForbidden || !strings.Contains(body, "anti-forgery") {
		t.Fatalf("forged create: %d", st)
	}
	if _, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"made/here"}}); err == nil {
		t.Fatal("a forged form created a repository")
	}
	// With it, the repository is created as CreateRepository would.
	if st, _, h := b.post("/ui/repositories", url.Values{"name": {"made/here"}, "tagMutability": {"IMMUTABLE"}}, true); st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=created") {
		t.Fatalf("create: %d %s", st, h.Get("Location"))
	}
	r := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"made/here"}}))
	if r.Repositories[0].ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("created with %s", r.Repositories[0].ImageTagMutability)
	}
	// The API's errors come back as the API names them.
	if st, body, _ := b.post("/ui/repositories", url.Values{"name": {"made/here"}}, true); st != http.StatusBadRequest || !strings.Contains(body, "RepositoryAlreadyExistsException") {
		t.Errorf("create twice: %d", st)
	}

	// Delete a tag through the confirmation page; ListImages no longer has it.
	img := e.pushImage("app-b", "console", 1)
	digest := e.putTagged(t, "app-b", img.docker(), "one", "two")
	if st, body, _ := b.get("/ui/confirm?action=delete-tag&repository=app-b&digest=" + digest + "&tag=one"); st != http.StatusOK || !strings.Contains(body, "other tags: two") {
		t.Fatalf("confirm: %d\n%s", st, body)
	}
	if st, _, h := b.post("/ui/delete", url.Values{"action": {"delete-tag"}, "repository": {"app-b"}, "digest": {digest}, "tag": {"one"}}, true); st != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=tag-deleted") {
		t.Fatalf("delete tag: %d %s", st, h.Get("Location"))
	}
	ids := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("app-b")}))
	if len(ids.ImageIds) != 1 || aws.ToString(ids.ImageIds[0].ImageTag) != "two" {
		t.Fatalf("after deleting tag one: %+v", ids.ImageIds)
	}
	// Set tag mutability.
	b.get("/ui/repository?name=app-b")
	if st, _, _ := b.post("/ui/repository/mutability", url.Values{"name": {"app-b"}, "tagMutability": {"IMMUTABLE_WITH_EXCLUSION"}, "exclusions": {"latest, dev-*"}}, true); st != http.StatusSeeOther {
		t.Fatalf("mutability: %d", st)
	}
	r = must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app-b"}}))
	if r.Repositories[0].ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(r.Repositories[0].ImageTagMutabilityExclusionFilters) != 2 {
		t.Errorf("mutability now %s %+v", r.Repositories[0].ImageTagMutability, r.Repositories[0].ImageTagMutabilityExclusionFilters)
	}
	// Delete the image by digest.
	if st, _, _ := b.post("/ui/delete", url.Values{"action": {"delete-image"}, "repository": {"app-b"}, "digest": {digest}}, true); st != http.StatusSeeOther {
		t.Fatalf("delete image: %d", st)
	}
	ids = must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("app-b")}))
	if len(ids.ImageIds) != 0 {
		t.Fatalf("after deleting the image: %+v", ids.ImageIds)
	}

	// Lifecycle: a policy the API refuses comes back with the API's text;
	// a preview marks what a valid one would expire.
	b.get("/ui/lifecycle?repository=app-a")
	st, body, _ := b.post("/ui/lifecycle", url.Values{"repository": {"app-a"}, "policy": {`{"rules":[{"rulePriority":0}]}`}}, true)
	if st != http.StatusOK || !strings.Contains(body, "InvalidParameterException") {
		t.Fatalf("invalid lifecycle policy: %d\n%s", st, body)
	}
	if _, err := e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("app-a")}); err == nil {
		t.Fatal("a refused policy was saved")
	}
	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	if st, _, _ := b.post("/ui/lifecycle/preview", url.Values{"repository": {"app-a"}, "policy": {policy}}, true); st != http.StatusSeeOther {
		t.Fatalf("preview: %d", st)
	}
	var done bool
	for range 100 {
		_, body, _ = b.get("/ui/lifecycle?repository=app-a")
		if strings.Contains(body, "<strong>COMPLETE</strong>") {
			done = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !done {
		t.Fatalf("the preview did not complete:\n%s", body)
	}
	prev := must[*ecr.GetLifecyclePolicyPreviewOutput](t)(e.ecr.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String("app-a")}))
	if n := strings.Count(body, `class="expire"`); n != len(prev.PreviewResults) {
		t.Errorf("the page marks %d images to expire, the API %d", n, len(prev.PreviewResults))
	}
	if st, _, _ := b.post("/ui/lifecycle", url.Values{"repository": {"app-a"}, "policy": {policy}}, true); st != http.StatusSeeOther {
		t.Fatalf("save policy: %d", st)
	}
	got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("app-a")}))
	if aws.ToString(got.LifecyclePolicyText) != policy {
		t.Errorf("saved %s", aws.ToString(got.LifecyclePolicyText))
	}
}

// putTagged puts a manifest with several tags and returns its digest.
func (e *env) putTagged(t *testing.T, repo, manifest string, tags ...string) string {
	t.Helper()
	var digest string
	for _, tag := range tags {
		out := must[*ecr.PutImageOutput](t)(e.putImage(repo, manifest, tag))
		digest = *out.Image.ImageId.ImageDigest
	}
	return digest
}

// An IAM user sees what its policies let DescribeRepositories and
// DescribeImages show, and its refused actions change nothing.
func TestConsoleAuthorization(t *testing.T) {
	a := startAccess(t)
	e := a.env
	reader := a.newUser(t, a.iam, "reader", nil, map[string]string{"read": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecr:DescribeRepositories","ecr:DescribeImages","ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:` + ownAccount + `:repository/app-a"}]}`})
	b := e.consoleClient(t)
	b.mustSignIn(reader.id, reader.key)
	st, body, _ := b.get("/ui/repositories")
	if st != http.StatusForbidden || !strings.Contains(body, "AccessDeniedException") || !strings.Contains(body, "ecr:DescribeRepositories") {
		t.Fatalf("repositories for a user without repository/*: %d\n%s", st, body)
	}
	if _, err := reader.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err == nil {
		t.Fatal("the API lists all repositories to the user, the console does not")
	}
	st, body, _ = b.get("/ui/repository?name=app-a")
	if st != http.StatusOK || !strings.Contains(body, ">latest</span>") {
		t.Fatalf("app-a for its reader: %d", st)
	}
	if strings.Contains(body, "Set tag mutability") {
		t.Error("the page offers the reader an action its policy does not allow")
	}
	if st, _, _ := b.get("/ui/repository?name=app-b"); st != http.StatusForbidden {
		t.Errorf("app-b for app-a's reader: %d", st)
	}
	latest := must[v1.Hash](t)(a.latest.Digest()).String()
	if st, body, _ := b.post("/ui/delete", url.Values{"action": {"delete-image"}, "repository": {"app-a"}, "digest": {latest}}, true); st != http.StatusForbidden || !strings.Contains(body, "ecr:BatchDeleteImage") {
		t.Fatalf("a denied delete: %d", st)
	}
	ids := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("app-a")}))
	if len(ids.ImageIds) != 1 {
		t.Fatalf("a denied delete changed app-a: %+v", ids.ImageIds)
	}
	// A deleted key ends the sessions opened with it.
	must[*iam.DeleteAccessKeyOutput](t)(a.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(reader.name), AccessKeyId: aws.String(reader.id)}))
	if st, _, _ := b.get("/ui/repository?name=app-a"); st != http.StatusSeeOther {
		t.Fatalf("a session outlived its key: %d", st)
	}
}

func TestConsolePagination(t *testing.T) {
	e := start(t)
	for i := range 120 {
		e.createRepo(fmt.Sprintf("bulk/r%03d", i))
	}
	e.createRepo("other")
	b := e.consoleClient(t)
	b.mustSignIn(e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey)
	seen := map[string]bool{}
	path := "/ui/repositories?prefix=bulk/"
	nameRE := regexp.MustCompile(`>(bulk/r\d+)</a>`)
	nextRE := regexp.MustCompile(`rel="next" href="([^"]+)"`)
	pages := 0
	for path != "" {
		pages++
		_, body, _ := b.get(path)
		rows := nameRE.FindAllStringSubmatch(body, -1)
		if len(rows) > 50 {
			t.Fatalf("a page of %d rows", len(rows))
		}
		for _, m := range rows {
			if seen[m[1]] {
				t.Fatalf("%s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		if strings.Contains(body, ">other</a>") {
			t.Fatal("the prefix search shows other")
		}
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 120 || pages != 3 {
		t.Fatalf("%d repositories on %d pages, want 120 on 3", len(seen), pages)
	}
}

// Under TLS the session cookie is Secure, and the pull commands name https.
func TestConsoleTLS(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.TLSSelfSigned = true })
	client, tr := e.tlsClient(filepath.Join(e.dir, "tls", "cert.pem"))
	e.ecr = client
	b := e.consoleClient(t)
	b.c.Transport = tr
	b.get("/ui/sign-in")
	_, _, h := b.post("/ui/sign-in", url.Values{"accessKeyId": {e.srv.Credential.AccessKeyID}, "secretAccessKey": {e.srv.Credential.SecretAccessKey}}, true)
	var session *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "berth_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie under TLS: %+v", session)
	}
	e.createRepo("tls/app")
	if st, body, _ := b.get("/ui/repository?name=tls/app"); st != http.StatusOK || !strings.Contains(body, "--endpoint-url "+e.url) || !strings.HasPrefix(e.url, "https://") {
		t.Fatalf("repository page under TLS: %d", st)
	}
}
