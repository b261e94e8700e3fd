package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// keepLast10 is the README's example: keep the ten newest images.
const keepLast10 = `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "Keep the last 10 images",
      "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
      "action": {"type": "expire"}
    }
  ]
}`

const keepLast10Stored = `{"rules":[{"rulePriority":1,"description":"Keep the last 10 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`

// pushTagged pushes n images tagged v0… in order, each later than the last.
func (e *env) pushTagged(t *testing.T, repo string, n int) []string {
	t.Helper()
	var digests []string
	for i := 0; i < n; i++ {
		img := e.pushImage(repo, fmt.Sprint(repo, "-", i), 1)
		must[*ecr.PutImageOutput](t)(e.putImage(repo, img.docker(), fmt.Sprint("v", i)))
		digests = append(digests, digestOf([]byte(img.docker())))
		time.Sleep(2 * time.Millisecond) // distinct push times
	}
	return digests
}

func (e *env) waitPreview(t *testing.T, repo string) *ecr.GetLifecyclePolicyPreviewOutput {
	t.Helper()
	w := ecr.NewLifecyclePolicyPreviewCompleteWaiter(e.ecr, func(o *ecr.LifecyclePolicyPreviewCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: &repo}, 10*time.Minute)
	if err != nil {
		t.Fatalf("waiting for the preview: %v", err)
	}
	return out
}

// TestLifecycleAPI: the five operations through aws-sdk-go-v2, their
// errors, and a preview read whole, by page, by filter and by image.
func TestLifecycleAPI(t *testing.T) {
	e := start(t)
	e.createRepo("lc")
	repo := aws.String("lc")
	_, err := e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantError(t, err, "LifecyclePolicyNotFoundException", 400)
	_, err = e.ecr.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantError(t, err, "LifecyclePolicyNotFoundException", 400)
	_, err = e.ecr.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantError(t, err, "LifecyclePolicyPreviewNotFoundException", 400)
	_, err = e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("absent"), LifecyclePolicyText: aws.String(keepLast10)})
	wantError(t, err, "RepositoryNotFoundException", 400)
	bad := strings.Replace(keepLast10, `"countNumber": 10`, `"countNumber": 0`, 1)
	_, err = e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: &bad})
	if api := wantError(t, err, "InvalidParameterException", 400); !strings.Contains(api.ErrorMessage(), "Lifecycle policy validation failure: numeric instance is lower than the required minimum (minimum: 1, found: 0)") {
		t.Fatalf("message %q", api.ErrorMessage())
	}
	_, err = e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(`{"rules":[]}`)})
	wantError(t, err, "InvalidParameterException", 400)

	put := must[*ecr.PutLifecyclePolicyOutput](t)(e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(keepLast10)}))
	if *put.LifecyclePolicyText != keepLast10Stored || *put.RegistryId != testRegistryID {
		t.Fatalf("put returned %s", *put.LifecyclePolicyText)
	}
	got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo}))
	if *got.LifecyclePolicyText != keepLast10Stored {
		t.Fatalf("get returned %s", *got.LifecyclePolicyText)
	}

	digests := e.pushTagged(t, "lc", 13)
	started := must[*ecr.StartLifecyclePolicyPreviewOutput](t)(e.ecr.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo}))
	if started.Status != types.LifecyclePolicyPreviewStatusInProgress || *started.LifecyclePolicyText != keepLast10Stored {
		t.Fatalf("start: %s %s", started.Status, *started.LifecyclePolicyText)
	}
	pv := e.waitPreview(t, "lc")
	if pv.Status != types.LifecyclePolicyPreviewStatusComplete || len(pv.PreviewResults) != 3 || *pv.Summary.ExpiringImageTotalCount != 3 || pv.NextToken != nil {
		t.Fatalf("preview: %s, %d results, summary %+v", pv.Status, len(pv.PreviewResults), pv.Summary)
	}
	for i, r := range pv.PreviewResults {
		if *r.ImageDigest != digests[i] || r.ImageTags[0] != fmt.Sprint("v", i) || r.Action.Type != types.ImageActionTypeExpire || *r.AppliedRulePriority != 1 || r.StorageClass != types.LifecyclePolicyStorageClassStandard || r.ImagePushedAt == nil {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	// By page.
	var paged []string
	in := &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo, MaxResults: aws.Int32(2)}
	for p := ecr.NewGetLifecyclePolicyPreviewPaginator(e.ecr, in); p.HasMorePages(); {
		out := must[*ecr.GetLifecyclePolicyPreviewOutput](t)(p.NextPage(ctx))
		for _, r := range out.PreviewResults {
			paged = append(paged, *r.ImageDigest)
		}
		if *out.Summary.ExpiringImageTotalCount != 3 {
			t.Fatalf("a page's summary counts %d", *out.Summary.ExpiringImageTotalCount)
		}
	}
	if !slices.Equal(paged, digests[:3]) {
		t.Fatalf("paged results %v", paged)
	}
	untagged := must[*ecr.GetLifecyclePolicyPreviewOutput](t)(e.ecr.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo,
		Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusUntagged}}))
	if len(untagged.PreviewResults) != 0 {
		t.Fatalf("untagged: %d results", len(untagged.PreviewResults))
	}
	one := must[*ecr.GetLifecyclePolicyPreviewOutput](t)(e.ecr.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo,
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if len(one.PreviewResults) != 1 || *one.PreviewResults[0].ImageDigest != digests[1] {
		t.Fatalf("by tag: %+v", one.PreviewResults)
	}
	_, err = e.ecr.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo, MaxResults: aws.Int32(5),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	wantError(t, err, "InvalidParameterException", 400)
	// A preview of text sent, not stored: returned as sent.
	untaggedOnly := strings.Replace(keepLast10, `"tagStatus": "any"`, `"tagStatus": "untagged"`, 1)
	started = must[*ecr.StartLifecyclePolicyPreviewOutput](t)(e.ecr.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo, LifecyclePolicyText: &untaggedOnly}))
	if *started.LifecyclePolicyText != untaggedOnly {
		t.Fatalf("start returned %s", *started.LifecyclePolicyText)
	}
	if pv := e.waitPreview(t, "lc"); len(pv.PreviewResults) != 0 || *pv.Summary.ExpiringImageTotalCount != 0 {
		t.Fatalf("untagged-only preview: %+v", pv.PreviewResults)
	}
	// Nothing was deleted by previews.
	if n := len(must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: repo})).ImageIds); n != 13 {
		t.Fatalf("%d images after previews", n)
	}

	del := must[*ecr.DeleteLifecyclePolicyOutput](t)(e.ecr.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo}))
	if *del.LifecyclePolicyText != keepLast10Stored {
		t.Fatalf("delete returned %s", *del.LifecyclePolicyText)
	}
	_, err = e.ecr.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	wantError(t, err, "LifecyclePolicyNotFoundException", 400)
}

// TestLifecycleRuns: with a short --lifecycle-interval the policy runs by
// itself. Keep the last 10: the three oldest go, and the signature of the
// oldest goes with it; an untagged child of an index that stays is kept
// though an untagged rule selects it; lastEvaluatedAt is set.
func TestLifecycleRuns(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.LifecycleInterval = 200 * time.Millisecond })
	e.createRepo("lc")
	repo := aws.String("lc")
	digests := e.pushTagged(t, "lc", 12)
	// A signature of the oldest image: an OCI manifest whose subject it is.
	sigImg := e.pushImage("lc", "signature", 1)
	sig := sigImg.oci(map[string]any{"subject": descriptor{MediaType: "application/vnd.docker.distribution.manifest.v2+json", Digest: digests[0], Size: 100},
		"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"})
	must[*ecr.PutImageOutput](t)(e.putImage("lc", sig, ""))
	must[*ecr.PutLifecyclePolicyOutput](t)(e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(keepLast10)}))
	var left []string
	for {
		left = left[:0]
		for p := ecr.NewListImagesPaginator(e.ecr, &ecr.ListImagesInput{RepositoryName: repo}); p.HasMorePages(); {
			for _, id := range must[*ecr.ListImagesOutput](t)(p.NextPage(ctx)).ImageIds {
				if !slices.Contains(left, *id.ImageDigest) {
					left = append(left, *id.ImageDigest)
				}
			}
		}
		if len(left) <= 10 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// 13 images, the signature the newest: it and v3…v11 are the ten kept,
	// and it goes with its subject v0.
	slices.Sort(left)
	want := slices.Clone(digests[3:])
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("left %v\nwant %v", left, want)
	}
	got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo}))
	if got.LastEvaluatedAt == nil || got.LastEvaluatedAt.IsZero() {
		t.Fatal("lastEvaluatedAt is not set after a run")
	}

	// An index and its untagged children: an untagged rule keeps them.
	e.createRepo("lc-idx")
	a, b := e.pushImage("lc-idx", "a", 1).docker(), e.pushImage("lc-idx", "b", 1).docker()
	must[*ecr.PutImageOutput](t)(e.putImage("lc-idx", a, ""))
	must[*ecr.PutImageOutput](t)(e.putImage("lc-idx", b, ""))
	idx := index("application/vnd.docker.distribution.manifest.list.v2+json", a, b)
	must[*ecr.PutImageOutput](t)(e.putImage("lc-idx", idx, "multi"))
	loose := e.pushImage("lc-idx", "loose", 1).docker()
	must[*ecr.PutImageOutput](t)(e.putImage("lc-idx", loose, ""))
	untagged := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	// The loose one is the newest untagged image: the children are over
	// the count, and kept only because the index lists them.
	must[*ecr.PutLifecyclePolicyOutput](t)(e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("lc-idx"), LifecyclePolicyText: aws.String(untagged)}))
	before := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("lc-idx")}))
	for {
		got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("lc-idx")}))
		if got.LastEvaluatedAt != nil && !got.LastEvaluatedAt.IsZero() && (before.LastEvaluatedAt == nil || got.LastEvaluatedAt.After(*before.LastEvaluatedAt)) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range []string{a, b, idx, loose} {
		if err := pullVerified(t, e.ecr, "lc-idx", digestOf([]byte(m))); err != nil {
			t.Fatalf("after a run of an untagged rule: %v", err)
		}
	}
}

// TestLifecycleAWSCLI is the README's example end to end with the AWS CLI:
// a policy from a file, its preview waited for, and its run.
func TestLifecycleAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	e := startWith(t, func(c *serverConfig) { c.LifecycleInterval = 200 * time.Millisecond })
	e.createRepo("app")
	e.pushTagged(t, "app", 12)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "policy.json"), []byte(keepLast10), 0o600)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsBin, append(append([]string{"ecr"}, args...), "--endpoint-url", e.url, "--output", "text")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"AWS_ACCESS_KEY_ID="+e.srv.Credential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.srv.Credential.SecretAccessKey,
			"AWS_DEFAULT_REGION="+testRegion, "AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws ecr %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// Previewed first, with no policy stored (the run must not start yet).
	if out := run("start-lifecycle-policy-preview", "--repository-name", "app", "--lifecycle-policy-text", "file://policy.json", "--query", "status"); out != "IN_PROGRESS" {
		t.Fatalf("start: %q", out)
	}
	run("wait", "lifecycle-policy-preview-complete", "--repository-name", "app")
	if out := run("get-lifecycle-policy-preview", "--repository-name", "app", "--query", "summary.expiringImageTotalCount"); out != "2" {
		t.Fatalf("preview expires %q images, want 2", out)
	}
	if out := run("get-lifecycle-policy-preview", "--repository-name", "app", "--query", "previewResults[].imageTags[0]"); out != "v0\tv1" {
		t.Fatalf("preview expires %q, want v0 and v1", out)
	}
	if out := run("put-lifecycle-policy", "--repository-name", "app", "--lifecycle-policy-text", "file://policy.json", "--query", "lifecyclePolicyText"); out != keepLast10Stored {
		t.Fatalf("put: %q", out)
	}
	for {
		if out := run("list-images", "--repository-name", "app", "--query", "length(imageIds)"); out == "10" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out := run("describe-images", "--repository-name", "app", "--query", "sort(imageDetails[].imageTags[0])"); out != "v10\tv11\tv2\tv3\tv4\tv5\tv6\tv7\tv8\tv9" {
		t.Fatalf("left: %q", out)
	}
}

// TestLifecycleFromTemplate: a creation template's lifecycle policy is
// checked and stored minified, and a repository created on push gets it.
func TestLifecycleFromTemplate(t *testing.T) {
	e := start(t)
	_, err := e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, LifecyclePolicy: aws.String(`{"rules":[{"rulePriority":1}]}`)})
	wantError(t, err, "InvalidParameterException", 400)
	out := must[*ecr.CreateRepositoryCreationTemplateOutput](t)(e.ecr.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, LifecyclePolicy: aws.String(keepLast10)}))
	if *out.RepositoryCreationTemplate.LifecyclePolicy != keepLast10Stored {
		t.Fatalf("template policy %s", *out.RepositoryCreationTemplate.LifecyclePolicy)
	}
	e.pushBlob("team/app", []byte("a layer"))
	got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("team/app")}))
	if *got.LifecyclePolicyText != keepLast10Stored {
		t.Fatalf("repository created on push has policy %s", *got.LifecyclePolicyText)
	}
}

// lcImage is an image of a documented example: its name, tags, and how
// many days ago it was pushed (just under, as ecr-lifecycle.md §7 says),
// plus minutes for images of the same day listed later.
type lcImage struct {
	name    string
	days    int
	minutes int
	tags    []string
}

// TestLifecyclePolicyTable runs the user guide's examples (ecr-lifecycle.md
// §7) against a real server: each repository's images pushed at the days
// the example gives (the server's clock moved between pushes), the policy
// previewed, then put and run by the scheduler, and the images left
// compared with the example's.
func TestLifecyclePolicyTable(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.LifecycleInterval = 100 * time.Millisecond }).clocked()
	rule := func(prio int, selection string) string {
		return fmt.Sprintf(`{"rulePriority":%d,"selection":%s,"action":{"type":"expire"}}`, prio, selection)
	}
	tagged := func(prefixes, countType string, n int) string {
		unit := ""
		if strings.HasPrefix(countType, "since") {
			unit = `"countUnit":"days",`
		}
		return fmt.Sprintf(`{"tagStatus":"tagged","tagPatternList":[%s],"countType":%q,%s"countNumber":%d}`, prefixes, countType, unit, n)
	}
	multi := []lcImage{{"A", 10, 0, []string{"beta-1", "prod-1"}}, {"B", 9, 0, []string{"beta-2", "prod-2"}}, {"C", 8, 0, []string{"beta-3"}}}
	for i, c := range []struct {
		name    string
		rules   []string
		images  []lcImage
		expired string
	}{
		{"E1", []string{rule(1, tagged(`"prod*"`, "imageCountMoreThan", 1)), rule(2, tagged(`"beta*"`, "imageCountMoreThan", 1))}, multi, "A"},
		{"E2", []string{rule(1, tagged(`"beta*"`, "imageCountMoreThan", 1)), rule(2, tagged(`"prod*"`, "imageCountMoreThan", 1))}, multi, "A B"},
		{"E3", []string{rule(1, tagged(`"alpha*","beta*"`, "sinceImagePushed", 5))}, []lcImage{{"A", 12, 0, []string{"alpha-1"}}, {"B", 11, 0, []string{"beta-1"}},
			{"C", 10, 0, []string{"alpha-2", "beta-2"}}, {"D", 4, 0, []string{"alpha-3"}}, {"E", 3, 0, []string{"beta-3"}}, {"F", 2, 0, []string{"alpha-4", "beta-4"}}}, "C"},
		{"E4", []string{rule(1, tagged(`"alpha*","beta*"`, "imageCountMoreThan", 1))}, []lcImage{{"A", 10, 0, []string{"alpha-1", "beta-1", "gamma-1"}},
			{"B", 9, 0, []string{"alpha-2", "beta-2"}}, {"C", 8, 0, []string{"alpha-3", "beta-3", "gamma-2"}}}, "A B"},
		{"E5", []string{rule(1, `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}`)}, []lcImage{{"A", 4, 0, []string{"alpha-1"}},
			{"B", 3, 0, []string{"beta-1"}}, {"C", 2, 0, nil}, {"D", 1, 0, []string{"alpha-2"}}}, "A B C"},
		{"E6", []string{rule(1, tagged(`"alpha*"`, "imageCountMoreThan", 1)), rule(2, `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1}`),
			rule(3, `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}`)}, []lcImage{{"A", 4, 0, []string{"alpha-1", "beta-1"}},
			{"B", 3, 0, nil}, {"C", 2, 0, []string{"alpha-2"}}, {"D", 1, 0, []string{"git-hash"}}, {"E", 1, 1, nil}}, "A B D"},
		{"S1", []string{rule(1, tagged(`"prod*"`, "sinceImagePushed", 14))}, []lcImage{{"dev-1", 30, 0, []string{"dev-1"}}, {"U", 30, 1, nil},
			{"prod-1", 20, 0, []string{"prod-1"}}, {"prod-2", 10, 0, []string{"prod-2"}}}, "prod-1"},
		{"S2", []string{rule(1, `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}`)}, []lcImage{{"T", 5, 0, []string{"t"}},
			{"U1", 3, 0, nil}, {"U2", 2, 0, nil}, {"U3", 1, 0, nil}}, "U1 U2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := fmt.Sprint("table-", i)
			e.createRepo(repo)
			// The images, oldest first, each pushed when the example says
			// relative to a "now" that follows the last.
			base := e.clock.Now()
			last := base.Add(time.Duration(c.images[0].days)*24*time.Hour + 365*24*time.Hour)
			byDigest := map[string]string{}
			for _, img := range c.images {
				at := last.Add(-time.Duration(img.days)*24*time.Hour + time.Hour + time.Duration(img.minutes)*time.Minute)
				e.clock.Advance(at.Sub(e.clock.Now()))
				pushed := e.pushImage(repo, repo+"/"+img.name, 1)
				m := pushed.docker()
				must[*ecr.PutImageOutput](t)(e.putImage(repo, m, ""))
				for _, tag := range img.tags {
					must[*ecr.PutImageOutput](t)(e.putImage(repo, m, tag))
				}
				byDigest[digestOf([]byte(m))] = img.name
			}
			e.clock.Advance(last.Sub(e.clock.Now()))
			policy := `{"rules":[` + strings.Join(c.rules, ",") + `]}`
			must[*ecr.StartLifecyclePolicyPreviewOutput](t)(e.ecr.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: &repo, LifecyclePolicyText: &policy}))
			var previewed []string
			for _, r := range e.waitPreview(t, repo).PreviewResults {
				previewed = append(previewed, byDigest[*r.ImageDigest])
			}
			slices.Sort(previewed)
			if got := strings.Join(previewed, " "); got != c.expired {
				t.Fatalf("preview expires %q, want %q", got, c.expired)
			}
			must[*ecr.PutLifecyclePolicyOutput](t)(e.ecr.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: &repo, LifecyclePolicyText: &policy}))
			// One scheduler runs the repositories one after another: once a
			// second run has started, the first has ended.
			var first time.Time
			for {
				got := must[*ecr.GetLifecyclePolicyOutput](t)(e.ecr.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: &repo}))
				at := aws.ToTime(got.LastEvaluatedAt)
				if first.IsZero() && !at.Before(last.Truncate(time.Millisecond)) {
					first = at
				} else if !first.IsZero() && at.After(first) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			var left []string
			for _, d := range e.listed(t, repo, types.ImageStatusFilterAny) {
				left = append(left, byDigest[d])
			}
			var want []string
			for _, img := range c.images {
				if !slices.Contains(strings.Fields(c.expired), img.name) {
					want = append(want, img.name)
				}
			}
			slices.Sort(left)
			slices.Sort(want)
			if !slices.Equal(left, want) {
				t.Fatalf("left %v, want %v", left, want)
			}
		})
	}
}
