package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/lifecycle"
)

// Lifecycle policies: the five ECR operations, the preview (computed in
// the background: IN_PROGRESS, then COMPLETE), and the run that carries a
// policy out, which the server's scheduler calls. The rules of a policy
// live in package lifecycle; here is what reads the store and acts on it.

// Preview statuses, as ECR spells them.
const (
	PreviewInProgress = "IN_PROGRESS"
	PreviewComplete   = "COMPLETE"
	PreviewFailed     = "FAILED"
)

// previewStale is how long a preview may stay IN_PROGRESS before another
// request takes it over (the process computing it ended).
const previewStale = 30 * time.Second

// LifecyclePolicy is a repository's policy as the API returns it.
type LifecyclePolicy struct {
	Repository string
	Text       string
	// EvaluatedAt is when the policy was last run; zero if never.
	EvaluatedAt time.Time
}

func (r *Registry) lifecycleNotFound(repo string) error {
	return berth.Errorf(berth.ELifecyclePolicyNotFound, "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", repo, r.id)
}

// parsePolicy checks a policy's text, as an InvalidParameterException.
func parsePolicy(text string, minLength int) (*lifecycle.Policy, error) {
	p, err := lifecycle.Parse(text, minLength)
	if err != nil {
		return nil, berth.Errorf(berth.EInvalidParameter, "%s", err.Error())
	}
	return p, nil
}

// PutLifecyclePolicy sets (creates or replaces) a repository's policy and
// returns it as stored: minified.
func (r *Registry) PutLifecyclePolicy(ctx context.Context, repo, text string) (*LifecyclePolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	p, err := parsePolicy(text, lifecycle.MinLength)
	if err != nil {
		return nil, err
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if _, err := r.lockRepo(ctx, tx, repo); err != nil {
			return err
		}
		return tx.SetLifecyclePolicy(ctx, repo, p.Text)
	})
	if err != nil {
		return nil, err
	}
	return &LifecyclePolicy{Repository: repo, Text: p.Text}, nil
}

// GetLifecyclePolicy returns a repository's policy.
func (r *Registry) GetLifecyclePolicy(ctx context.Context, repo string) (*LifecyclePolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	var out *LifecyclePolicy
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, err = r.getPolicy(ctx, tx, repo)
		return err
	})
	return out, err
}

func (r *Registry) getPolicy(ctx context.Context, tx berth.MetaTx, repo string) (*LifecyclePolicy, error) {
	if _, err := r.getRepo(ctx, tx, repo); err != nil {
		return nil, err
	}
	text, at, err := tx.GetLifecyclePolicy(ctx, repo)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, r.lifecycleNotFound(repo)
	}
	return &LifecyclePolicy{Repository: repo, Text: text, EvaluatedAt: at}, nil
}

// DeleteLifecyclePolicy removes a repository's policy and returns it.
func (r *Registry) DeleteLifecyclePolicy(ctx context.Context, repo string) (*LifecyclePolicy, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	var out *LifecyclePolicy
	err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
		if _, err := r.lockRepo(ctx, tx, repo); err != nil {
			return err
		}
		if out, err = r.getPolicy(ctx, tx, repo); err != nil {
			return err
		}
		return tx.SetLifecyclePolicy(ctx, repo, "")
	})
	return out, err
}

// previewResult is one image of a preview, as stored.
type previewResult struct {
	Digest   string   `json:"d"`
	Tags     []string `json:"t,omitempty"`
	PushedAt int64    `json:"p"`
	Action   string   `json:"a"`
	Target   string   `json:"s,omitempty"`
	Rule     int      `json:"r"`
	Archived bool     `json:"c,omitempty"` // the image's class: archive
}

// StartLifecyclePolicyPreview starts a preview of text, or of the stored
// policy when text is nil, and returns it IN_PROGRESS.
func (r *Registry) StartLifecyclePolicyPreview(ctx context.Context, repo string, text *string) (*berth.LifecyclePreview, error) {
	if err := ValidRepositoryName(repo); err != nil {
		return nil, err
	}
	if text != nil {
		if _, err := parsePolicy(*text, lifecycle.MinLength); err != nil {
			return nil, err
		}
	}
	var pv *berth.LifecyclePreview
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		pv = nil
		if _, err := r.lockRepo(ctx, tx, repo); err != nil {
			return err
		}
		policy := ""
		if text != nil {
			policy = *text
		} else {
			stored, err := r.getPolicy(ctx, tx, repo)
			if err != nil {
				return err
			}
			policy = stored.Text
		}
		prev, err := tx.GetLifecyclePreview(ctx, repo)
		switch {
		case err == nil && prev.Status == PreviewInProgress && r.nowUTC().Sub(prev.StartedAt) < previewStale:
			return berth.Errorf(berth.ELifecyclePreviewInProgress, "The previous lifecycle policy preview request for the repository with name '%s' in the registry with id '%s' has not completed; wait and try again", repo, r.id)
		case err != nil && !berth.IsCode(err, berth.ENotFound):
			return err
		}
		pv = &berth.LifecyclePreview{Policy: policy, Status: PreviewInProgress, StartedAt: r.nowUTC()}
		return tx.PutLifecyclePreview(ctx, repo, pv)
	})
	if err != nil {
		return nil, err
	}
	r.background.Add(1)
	go func() {
		defer r.background.Done()
		if err := r.completePreview(context.WithoutCancel(ctx), repo, pv.StartedAt); err != nil {
			r.log.Warn("lifecycle policy preview failed", "repository", repo, "err", err)
		}
	}()
	return pv, nil
}

// completePreview computes the preview started at started, if it is still
// the repository's and in progress.
func (r *Registry) completePreview(ctx context.Context, repo string, started time.Time) error {
	var pv *berth.LifecyclePreview
	var images []lifecycle.Image
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if pv, err = tx.GetLifecyclePreview(ctx, repo); err != nil || pv.Status != PreviewInProgress || !pv.StartedAt.Equal(started) {
			pv = nil
			return err
		}
		images, err = snapshot(ctx, tx, repo, r.nowUTC())
		return err
	})
	if err != nil || pv == nil {
		return err
	}
	status, results := PreviewComplete, []byte("[]")
	if p, err := lifecycle.Parse(pv.Policy, 0); err != nil {
		status = PreviewFailed
	} else {
		var out []previewResult
		for _, a := range lifecycle.Evaluate(p, images, r.nowUTC()) {
			out = append(out, previewResult{Digest: a.Digest, Tags: a.Tags, PushedAt: a.PushedAt.UnixNano(), Action: a.Type, Target: a.TargetStorageClass, Rule: a.Rule,
				Archived: a.StorageClass == lifecycle.StorageArchive})
		}
		if results, err = json.Marshal(out); err != nil {
			return err
		}
	}
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		cur, err := tx.GetLifecyclePreview(ctx, repo)
		if err != nil || cur.Status != PreviewInProgress || !cur.StartedAt.Equal(started) {
			return err // replaced meanwhile
		}
		cur.Status, cur.Results = status, results
		return tx.PutLifecyclePreview(ctx, repo, cur)
	})
}

// snapshot reads what evaluation needs of every image of repo.
func snapshot(ctx context.Context, tx berth.MetaTx, repo string, now time.Time) ([]lifecycle.Image, error) {
	children, err := tx.IndexChildren(ctx, repo)
	if err != nil {
		return nil, err
	}
	inIndex := map[string]bool{}
	for _, c := range children {
		inIndex[c] = true
	}
	var out []lifecycle.Image
	page := berth.Page{Limit: 1000}
	for {
		images, next, err := tx.ListImages(ctx, repo, berth.ImageFilter{Now: now}, page)
		if err != nil {
			return nil, err
		}
		for _, img := range images {
			li := lifecycle.Image{Digest: img.Digest, Tags: img.Tags, PushedAt: img.PushedAt, LastPulledAt: img.LastPulledAt, InIndex: inIndex[img.Digest],
				ArchivedAt: img.ArchivedAt}
			switch img.Status(now) {
			case berth.ImageArchived:
				li.StorageClass = lifecycle.StorageArchive
			case berth.ImageActive:
				li.ActivatedAt = img.ActivatedAt(now)
			case berth.ImageActivating:
				continue // on its way back: no rule acts on it until it is
			}
			out = append(out, li)
		}
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

// PreviewInput is one GetLifecyclePolicyPreview call.
type PreviewInput struct {
	Repository string
	ImageIDs   []berth.ImageRef
	NextToken  string
	MaxResults *int
	TagStatus  berth.TagStatus // "" for any
}

// PreviewResult is one image a preview acts on.
type PreviewResult struct {
	Digest             string
	Tags               []string
	PushedAt           time.Time
	Action             string // EXPIRE or TRANSITION
	TargetStorageClass string // ARCHIVE for a transition
	Rule               int
	StorageClass       string // the image's: STANDARD or ARCHIVE
}

// PreviewOutput is a preview, or one page of it.
type PreviewOutput struct {
	Policy, Status string
	Results        []PreviewResult
	NextToken      string
	// Expiring and Transitioning count the whole preview, not the page.
	Expiring, Transitioning int
}

const tokenPreview = "p"

// GetLifecyclePolicyPreview returns the repository's last preview: its
// status and, once complete, the images it acts on, a page at a time.
func (r *Registry) GetLifecyclePolicyPreview(ctx context.Context, in PreviewInput) (*PreviewOutput, error) {
	if err := ValidRepositoryName(in.Repository); err != nil {
		return nil, err
	}
	limit := 100
	switch {
	case len(in.ImageIDs) > 0 && (in.NextToken != "" || in.MaxResults != nil):
		return nil, berth.Errorf(berth.EInvalidParameter, "Invalid parameter: nextToken and maxResults cannot be used with imageIds")
	case in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 100):
		return nil, invalidParam("maxResults", "Member must have value between 1 and 100', got %d", *in.MaxResults)
	case in.MaxResults != nil:
		limit = *in.MaxResults
	}
	after, err := decodeToken(tokenPreview, in.Repository, in.NextToken)
	if err != nil {
		return nil, err
	}
	start := 0
	if after != "" {
		if start, err = strconv.Atoi(after); err != nil {
			return nil, err
		}
	}
	var pv *berth.LifecyclePreview
	for attempt := 0; ; attempt++ {
		err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
			if _, err := r.getRepo(ctx, tx, in.Repository); err != nil {
				return err
			}
			pv, err = tx.GetLifecyclePreview(ctx, in.Repository)
			if berth.IsCode(err, berth.ENotFound) {
				return berth.Errorf(berth.ELifecyclePreviewNotFound, "There is no lifecycle policy preview for the repository with name '%s' in the registry with id '%s'; start one with StartLifecyclePolicyPreview", in.Repository, r.id)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if pv.Status != PreviewInProgress || attempt > 0 || r.nowUTC().Sub(pv.StartedAt) < previewStale {
			break
		}
		// The process computing it ended: compute it here.
		if err := r.completePreview(ctx, in.Repository, pv.StartedAt); err != nil {
			return nil, err
		}
	}
	out := &PreviewOutput{Policy: pv.Policy, Status: pv.Status}
	if pv.Status != PreviewComplete {
		return out, nil
	}
	var all []previewResult
	if err := json.Unmarshal(pv.Results, &all); err != nil {
		return nil, fmt.Errorf("reading the preview of %s: %w", in.Repository, err)
	}
	var keep []previewResult
	for _, res := range all {
		if res.Action == lifecycle.ActionExpire {
			out.Expiring++
		} else {
			out.Transitioning++
		}
		switch {
		case in.TagStatus == berth.TagStatusTagged && len(res.Tags) == 0, in.TagStatus == berth.TagStatusUntagged && len(res.Tags) > 0:
			continue
		case len(in.ImageIDs) > 0 && !slices.ContainsFunc(in.ImageIDs, func(id berth.ImageRef) bool {
			return (id.Digest == "" || id.Digest == res.Digest) && (id.Tag == "" || slices.Contains(res.Tags, id.Tag))
		}):
			continue
		}
		keep = append(keep, res)
	}
	if start > len(keep) {
		start = len(keep)
	}
	end := min(start+limit, len(keep))
	if len(in.ImageIDs) > 0 {
		end = len(keep)
	} else if end < len(keep) {
		out.NextToken = encodeToken(tokenPreview, in.Repository, strconv.Itoa(end))
	}
	for _, res := range keep[start:end] {
		pr := PreviewResult{Digest: res.Digest, Tags: res.Tags, PushedAt: time.Unix(0, res.PushedAt).UTC(), Action: "EXPIRE", Rule: res.Rule, StorageClass: "STANDARD"}
		if res.Archived {
			pr.StorageClass = "ARCHIVE"
		}
		if res.Action == lifecycle.ActionTransition {
			pr.Action, pr.TargetStorageClass = "TRANSITION", "ARCHIVE"
		}
		out.Results = append(out.Results, pr)
	}
	return out, nil
}

// LifecycleReport is what one run of a repository's policy did.
type LifecycleReport struct {
	Evaluated bool // false: no policy, or another process ran it within the interval
	Images    int  // images evaluated
	Expired   int  // images deleted by a rule
	Archived  int  // images moved to the archive by a rule
	Referrers int  // referrers deleted or archived with their subject
	Skipped   int  // images that changed since evaluation, or that an index came to list
}

// RunLifecycle evaluates repo's policy and carries it out, unless it was
// evaluated (by any process) less than interval ago. Each action is a
// compare-and-delete against the evaluated snapshot: an image whose tags
// or push time changed meanwhile, or that an index came to list, is left.
func (r *Registry) RunLifecycle(ctx context.Context, repo string, interval time.Duration) (LifecycleReport, error) {
	var rep LifecycleReport
	now := r.nowUTC()
	err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
		rep.Evaluated, err = tx.ClaimLifecycleRun(ctx, repo, now.Add(-interval), now)
		return err
	})
	if err != nil || !rep.Evaluated {
		return rep, err
	}
	var text string
	var images []lifecycle.Image
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		if text, _, err = tx.GetLifecyclePolicy(ctx, repo); err != nil || text == "" {
			return err
		}
		images, err = snapshot(ctx, tx, repo, now)
		return err
	})
	if err != nil || text == "" {
		return rep, err
	}
	p, err := lifecycle.Parse(text, 0)
	if err != nil {
		return rep, fmt.Errorf("the stored lifecycle policy of %s: %w", repo, err)
	}
	rep.Images = len(images)
	for _, a := range lifecycle.Evaluate(p, images, now) {
		var done []string
		err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
			if a.Type == lifecycle.ActionTransition {
				done, err = r.archiveForLifecycle(ctx, tx, repo, a)
			} else {
				done, err = r.expire(ctx, tx, repo, a)
			}
			return err
		})
		if err != nil {
			return rep, err
		}
		if len(done) == 0 {
			rep.Skipped++
			r.log.Info("lifecycle: image changed since evaluation; left", "repository", repo, "digest", a.Digest, "rule", a.Rule)
			continue
		}
		what := "image expired"
		if a.Type == lifecycle.ActionTransition {
			rep.Archived++
			what = "image archived"
		} else {
			rep.Expired++
		}
		rep.Referrers += len(done) - 1
		r.log.Info("lifecycle: "+what, "repository", repo, "digest", a.Digest, "tags", a.Tags, "pushedAt", a.PushedAt, "rule", a.Rule, "action", a.Type, "referrers", done[1:])
	}
	return rep, nil
}

// errChanged ends an expiry whose image changed since evaluation.
var errChanged = errors.New("changed since evaluation")

// expire deletes the image of a, if it is as evaluated, with its
// referrers (and theirs); it returns the digests deleted, none if the
// image changed.
func (r *Registry) expire(ctx context.Context, tx berth.MetaTx, repo string, a lifecycle.Action) ([]string, error) {
	m, err := r.asEvaluated(ctx, tx, repo, a)
	if err != nil || m == nil {
		return nil, err
	}
	digest := m.Digest
	deleted := []string{}
	var del func(d string) error
	del = func(d string) error {
		refs, err := tx.ListReferrers(ctx, repo, d)
		if err != nil {
			return err
		}
		_, failure, err := r.deleteOne(ctx, tx, repo, berth.ImageRef{Digest: d}, d)
		if err != nil {
			return err
		}
		if failure != nil {
			return errChanged // an index lists it now
		}
		deleted = append(deleted, d)
		for _, ref := range refs {
			if _, err := tx.LockManifest(ctx, repo, ref.Digest); err != nil {
				continue // gone meanwhile
			}
			if err := del(ref.Digest); err != nil && !errors.Is(err, errChanged) {
				return err
			}
		}
		return nil
	}
	if err := del(digest); err != nil {
		if errors.Is(err, errChanged) {
			return nil, nil
		}
		return nil, err
	}
	return deleted, nil
}

// asEvaluated locks the image of a and returns it if it is still as the
// run evaluated it: the same tags, push time and storage class. nil if it
// changed or went.
func (r *Registry) asEvaluated(ctx context.Context, tx berth.MetaTx, repo string, a lifecycle.Action) (*berth.Manifest, error) {
	if _, failure, err := lockImage(ctx, tx, repo, berth.ImageRef{Digest: a.Digest}); err != nil || failure != nil {
		return nil, err
	}
	m, err := tx.GetManifest(ctx, repo, a.Digest)
	if err != nil {
		return nil, err
	}
	tags, err := tx.TagsOf(ctx, repo, a.Digest)
	if err != nil {
		return nil, err
	}
	want := slices.Sorted(slices.Values(a.Tags))
	status := berth.ImageActive
	if a.StorageClass == lifecycle.StorageArchive {
		status = berth.ImageArchived
	}
	if !m.PushedAt.Equal(a.PushedAt) || !slices.Equal(tags, want) || m.Status(r.nowUTC()) != status {
		return nil, nil
	}
	return m, nil
}

// Close waits for the registry's background work (previews) to end.
func (r *Registry) Close() { r.background.Wait() }

// LifecycleRepositories calls fn with the name of every repository that
// has a lifecycle policy, a page at a time.
func (r *Registry) LifecycleRepositories(ctx context.Context, fn func(repo string) error) error {
	page := berth.Page{Limit: 500}
	for {
		var names []string
		var next string
		err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
			names, next, err = tx.ListLifecycleRepositories(ctx, page)
			return err
		})
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := fn(n); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.After = next
	}
}
