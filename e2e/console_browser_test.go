package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The console in a real browser: headless Chromium (Debian's chromium,
// which scripts/test installs), driven over the DevTools protocol. Each
// step saves a screenshot under artifacts/console/ (kept out of git).

// chromiumPath finds the browser; without one the test is skipped, unless
// BERTH_REQUIRE_BROWSER is set (scripts/test sets it once it has
// installed Chromium), when it fails.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BERTH_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium on PATH, and BERTH_REQUIRE_BROWSER is set: install Debian's chromium package")
	}
	t.Skip("no Chromium on PATH (scripts/test installs Debian's chromium)")
	return ""
}

// browserTab starts headless Chromium and returns a tab's context.
func browserTab(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // root in a container has no user namespace for the sandbox
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "en-GB"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	// A bound on the whole test so a hung browser fails it, not CI.
	tab, cancelTime := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return tab
}

// artifacts is where a test's screenshots go.
func artifacts(t *testing.T) string {
	dir := os.Getenv("BERTH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	dir = filepath.Join(dir, "console", t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot.
func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// loads runs a, a click or a submit that leaves the page, and waits until
// the page it opens has loaded. A wait for an element of the new page
// alone can query the page being left: it then fails with it ("Not
// attached to an active page") or never sees the new one.
func loads(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, a)(ctx, tg)
		return err
	})
}

// run runs the steps of one part of the test, in order.
func run(t *testing.T, tab context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// read runs an action that reads something of the page.
func read[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatalf("reading %s: %v", what, err)
	}
	return v
}

func TestConsoleBrowser(t *testing.T) {
	a := startAccess(t)
	e := a.env
	tab := browserTab(t)
	dir := artifacts(t)
	idx, children, sig := consoleImages(t, e, "app-a")
	idxDigest := must[v1.Hash](t)(idx.Digest()).String()
	sigDigest := must[v1.Hash](t)(sig.Digest()).String()
	id, secret := e.srv.Credential.AccessKeyID, e.srv.Credential.SecretAccessKey
	text := func(sel string) string { return read(t, tab, sel, chromedp.Text(chromedp.CSS(sel))) }

	// The console URL sends a newcomer to the sign-in form.
	run(t, tab, "open the console", chromedp.Navigate(e.url+"/ui/"), chromedp.WaitVisible(chromedp.ID("accessKeyId")))
	if url := read(t, tab, "location", chromedp.Location()); !strings.Contains(url, "/ui/sign-in") {
		t.Fatalf("the console opened at %s", url)
	}
	// A wrong secret is refused.
	run(t, tab, "sign in with a wrong secret",
		chromedp.SendKeys(chromedp.ID("accessKeyId"), id), chromedp.SendKeys(chromedp.ID("secretAccessKey"), "wrong"),
		loads(chromedp.Submit(chromedp.ID("secretAccessKey"))), chromedp.WaitVisible(chromedp.CSS(".notice")), shot(dir, "01-wrong-secret"))
	if got := text(".notice"); !strings.Contains(got, "is not right") {
		t.Fatalf("after a wrong secret: %q", got)
	}
	// The printed credentials sign in.
	run(t, tab, "sign in",
		chromedp.SetValue(chromedp.ID("accessKeyId"), id), chromedp.SendKeys(chromedp.ID("secretAccessKey"), secret),
		loads(chromedp.Submit(chromedp.ID("secretAccessKey"))), chromedp.WaitVisible(chromedp.CSS("table.list")), shot(dir, "02-repositories"))
	main := text("main")
	for _, name := range []string{"app-a", "app-b"} {
		if !strings.Contains(main, name) {
			t.Errorf("the repositories page lacks %s", name)
		}
	}

	// The repository, then the multi-arch image and its signature.
	run(t, tab, "open app-a",
		loads(chromedp.Click(chromedp.Search(`//a[text()="app-a"]`))), chromedp.WaitVisible(chromedp.ID("images")), shot(dir, "03-repository"))
	if ss := os.Getenv("BERTH_CONSOLE_SCREENSHOT"); ss != "" {
		// The README's picture of the repository view.
		png := read(t, tab, "a screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(ss, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if images := text("#images"); !strings.Contains(images, "linux/amd64, linux/arm64") || !strings.Contains(images, "multi") {
		t.Errorf("the image table lacks the index's platforms or tag:\n%s", images)
	}
	// Times are shown in the viewer's locale, with the exact UTC on hover.
	times := read(t, tab, "times", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#images time")].map(t => t.textContent + "|" + t.title)`))
	if len(times) == 0 {
		t.Fatal("no times on the repository page")
	}
	for _, tm := range times {
		shown, title, _ := strings.Cut(tm, "|")
		if strings.HasSuffix(shown, "UTC") || !strings.HasSuffix(title, "UTC") {
			t.Errorf("time shown %q, title %q: the script did not localise it", shown, title)
		}
	}
	run(t, tab, "open the index",
		loads(chromedp.Click(chromedp.Search(fmt.Sprintf(`//code[@title=%q]/..`, idxDigest)))), chromedp.WaitVisible(chromedp.CSS(".tree")), shot(dir, "04-index"))
	main = text("main")
	for _, c := range children {
		if d := must[v1.Hash](t)(c.Digest()).String(); !strings.Contains(main, d[7:19]) {
			t.Errorf("the index page lacks its child %s", d)
		}
	}
	refs := must[*ecr.ListImageReferrersOutput](t)(e.ecr.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("app-a"),
		SubjectId: &types.SubjectIdentifier{ImageDigest: &idxDigest}}))
	if len(refs.Referrers) != 1 || *refs.Referrers[0].Digest != sigDigest {
		t.Fatalf("ListImageReferrers: %+v", refs.Referrers)
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", *refs.Referrers[0].ArtifactType, sigDigest[7:19]} {
		if !strings.Contains(main, want) {
			t.Errorf("the index page lacks %q", want)
		}
	}

	// Phone width: nothing makes the page scroll sideways.
	run(t, tab, "phone width",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(e.url+"/ui/repository?name=app-a"), chromedp.WaitVisible(chromedp.ID("images")), shot(dir, "05-phone"))
	overflow := read(t, tab, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	run(t, tab, "desktop width", chromedp.ResetViewport())
	if overflow {
		t.Error("at a phone's width the repository page scrolls sideways")
	}
	// Every form control has a label.
	unlabelled := read(t, tab, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]),select,textarea")]
		.filter(e => e.labels.length === 0 && !e.getAttribute("aria-label")).map(e => e.outerHTML)`))
	if len(unlabelled) > 0 {
		t.Errorf("unlabelled controls: %v", unlabelled)
	}

	// Delete the tag latest through its confirmation page.
	latest := must[v1.Hash](t)(a.latest.Digest()).String()
	run(t, tab, "delete a tag",
		chromedp.Navigate(e.url+"/ui/image?repository=app-a&digest="+latest), chromedp.WaitVisible(chromedp.CSS(`a[aria-label="Delete the tag latest"]`)),
		loads(chromedp.Click(chromedp.CSS(`a[aria-label="Delete the tag latest"]`))), chromedp.WaitVisible(chromedp.CSS("button.danger")),
		shot(dir, "06-confirm"),
		loads(chromedp.Click(chromedp.CSS("button.danger"))), chromedp.WaitVisible(chromedp.CSS(".notice")), shot(dir, "07-deleted"))
	if got := text(".notice"); !strings.Contains(got, "Tag latest deleted") {
		t.Errorf("after the delete: %q", got)
	}
	ids := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("app-a")}))
	for _, id := range ids.ImageIds {
		if aws.ToString(id.ImageTag) == "latest" {
			t.Fatal("ListImages still lists latest")
		}
	}

	// A form whose anti-forgery token is gone is refused, and changes nothing.
	run(t, tab, "a form without its token",
		chromedp.Navigate(e.url+"/ui/repositories"), chromedp.WaitVisible(chromedp.ID("new-name")),
		chromedp.SendKeys(chromedp.ID("new-name"), "forged/repo"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('#new-name').form.querySelector('input[name=csrf]').remove(); true`)(ctx, tg)
			return err
		}),
		loads(chromedp.Submit(chromedp.ID("new-name"))), chromedp.WaitVisible(chromedp.CSS(".problem")), shot(dir, "08-no-csrf"))
	if got := text(".problem"); !strings.Contains(got, "anti-forgery") {
		t.Errorf("a form without its token: %q", got)
	}
	if _, err := e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"forged/repo"}}); err == nil {
		t.Fatal("a form without its token created a repository")
	}

	// Sign out: the console asks to sign in again.
	run(t, tab, "sign out",
		chromedp.Navigate(e.url+"/ui/storage"), chromedp.WaitVisible(chromedp.CSS("svg.chart")), shot(dir, "09-storage"),
		loads(chromedp.Click(chromedp.CSS(".who button"))), chromedp.WaitVisible(chromedp.ID("accessKeyId")),
		chromedp.Navigate(e.url+"/ui/repositories"), chromedp.WaitVisible(chromedp.ID("accessKeyId")))
	if url := read(t, tab, "location", chromedp.Location()); !strings.Contains(url, "sign-in") {
		t.Errorf("after signing out the console opened %s", url)
	}
}
