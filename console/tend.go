package console

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
	"github.com/berth-registry/berth/registry"
)

// The console's actions. Each is one ECR operation, authorized with its
// IAM action and carried out by the same registry call, so it answers
// with the same errors and writes the same audit events. A form posts
// (with the session's anti-forgery token); a destructive one is reached
// through a confirmation page that says what it will do.

func (c *Console) createRepository(v *view) error {
	name := strings.TrimSpace(v.r.PostForm.Get("name"))
	m := berth.TagMutability(v.r.PostForm.Get("tagMutability"))
	if m == "" {
		m = berth.Mutable
	}
	if err := c.authorize(v, "CreateRepository", name); err != nil {
		return err
	}
	in := registry.CreateRepositoryInput{Name: name, TagMutability: m, TagMutabilityExclusions: exclusions(v.r.PostForm.Get("exclusions"))}
	if _, err := c.reg.CreateRepository(v.ctx, in); err != nil {
		return err
	}
	return v.redirect(Prefix+"repository", url.Values{"name": {name}, "done": {"created"}})
}

// exclusions reads the wildcard filters of a *_WITH_EXCLUSION mutability,
// one per line or comma.
func exclusions(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c *Console) setMutability(v *view) error {
	name := v.r.PostForm.Get("name")
	if err := c.authorize(v, "PutImageTagMutability", name); err != nil {
		return err
	}
	m := berth.TagMutability(v.r.PostForm.Get("tagMutability"))
	if _, err := c.reg.PutImageTagMutability(v.ctx, name, m, exclusions(v.r.PostForm.Get("exclusions"))); err != nil {
		return err
	}
	return v.redirect(Prefix+"repository", url.Values{"name": {name}, "done": {"mutability"}, "what": {string(m)}})
}

// confirmPage asks before a deletion.
type confirmPage struct {
	Action, Repo, Digest, Tag string
	// OtherTags are the image's other tags; LastTag is set when the tag
	// is the image's last, so deleting it deletes the image (as ECR's
	// BatchDeleteImage by tag does).
	OtherTags []string
	LastTag   bool
}

func (confirmPage) title() (string, string) { return "Confirm", "repositories" }

func (c *Console) confirm(v *view) error {
	q := v.r.URL.Query()
	p := confirmPage{Action: q.Get("action"), Repo: q.Get("repository"), Digest: q.Get("digest"), Tag: q.Get("tag")}
	if p.Action != "delete-image" && p.Action != "delete-tag" {
		return berth.Errorf(berth.EInvalidParameter, "There is no console action %q to confirm", p.Action)
	}
	if err := c.authorize(v, "BatchDeleteImage", p.Repo); err != nil {
		return err
	}
	img, err := c.describe(v, p.Repo, p.Digest)
	if err != nil {
		return err
	}
	if p.Action == "delete-tag" {
		found := false
		for _, t := range img.Tags {
			if t == p.Tag {
				found = true
			} else {
				p.OtherTags = append(p.OtherTags, t)
			}
		}
		if !found {
			return berth.Errorf(berth.EImageNotFound, "The image %s has no tag '%s' in the repository '%s' (it may have moved)", p.Digest, p.Tag, p.Repo)
		}
		p.LastTag = len(p.OtherTags) == 0
	} else {
		p.OtherTags = img.Tags
	}
	return c.show(v, "confirm", p)
}

// delete is BatchDeleteImage of one image id: by digest, the image and
// its tags; by tag, the tag (and the image with its last tag).
func (c *Console) delete(v *view) error {
	f := v.r.PostForm
	repo := f.Get("repository")
	if err := c.authorize(v, "BatchDeleteImage", repo); err != nil {
		return err
	}
	id := berth.ImageRef{Digest: f.Get("digest")}
	if f.Get("action") == "delete-tag" {
		// By tag, as the API is asked: ECR checks the tag still names it.
		id.Tag = f.Get("tag")
	}
	_, failures, err := c.reg.BatchDeleteImage(v.ctx, repo, []berth.ImageRef{id})
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		code := berth.EInvalidParameter
		if failures[0].Code == "ImageNotFound" {
			code = berth.EImageNotFound
		}
		return berth.Errorf(code, "%s: %s", failures[0].Code, failures[0].Reason)
	}
	done, what := "image-deleted", shortDigest(id.Digest)
	if id.Tag != "" {
		done, what = "tag-deleted", id.Tag
	}
	return v.redirect(Prefix+"repository", url.Values{"name": {repo}, "done": {done}, "what": {what}})
}

type lifecyclePage struct {
	Repo      string
	Text      string
	Saved     bool
	Error     string
	Preview   *registry.PreviewOutput
	Marked    map[string]registry.PreviewResult
	CanEdit   bool
	CanRun    bool
	Refresh   bool
	Evaluated string
}

func (p lifecyclePage) title() (string, string) { return "Lifecycle of " + p.Repo, "repositories" }

func (c *Console) lifecycle(v *view) error {
	repo := v.r.URL.Query().Get("repository")
	return c.showLifecycle(v, repo, nil, "")
}

// showLifecycle renders the lifecycle page, with text (a draft the
// server refused, and why) in the editor instead of the saved policy.
func (c *Console) showLifecycle(v *view, repo string, draft *string, problem string) error {
	if err := c.authorize(v, "GetLifecyclePolicy", repo); err != nil {
		return err
	}
	if _, err := c.reg.GetRepository(v.ctx, repo); err != nil {
		return err
	}
	p := lifecyclePage{Repo: repo, Error: problem, Saved: v.r.URL.Query().Get("done") == "saved",
		CanEdit: c.allowed(v, "PutLifecyclePolicy", repo), CanRun: c.allowed(v, "StartLifecyclePolicyPreview", repo)}
	pol, err := c.reg.GetLifecyclePolicy(v.ctx, repo)
	switch {
	case err == nil:
		p.Text = pol.Text
		if !pol.EvaluatedAt.IsZero() {
			p.Evaluated = pol.EvaluatedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
	case !berth.IsCode(err, berth.ELifecyclePolicyNotFound):
		return err
	}
	if draft != nil {
		p.Text = *draft
	}
	if p.Text == "" {
		p.Text = exampleLifecycle
	} else if pretty, ok := indent(p.Text); ok && draft == nil {
		p.Text = pretty
	}
	if c.allowed(v, "GetLifecyclePolicyPreview", repo) {
		n := 100
		out, err := c.reg.GetLifecyclePolicyPreview(v.ctx, registry.PreviewInput{Repository: repo, MaxResults: &n})
		switch {
		case err == nil:
			p.Preview, p.Marked = out, map[string]registry.PreviewResult{}
			for _, r := range out.Results {
				p.Marked[r.Digest] = r
			}
			p.Refresh = out.Status == "IN_PROGRESS"
		case !berth.IsCode(err, berth.ELifecyclePreviewNotFound):
			return err
		}
	}
	return c.show(v, "lifecycle", p)
}

// exampleLifecycle starts the editor of a repository without a policy.
const exampleLifecycle = `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "Expire untagged images older than 14 days",
      "selection": {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 14
      },
      "action": { "type": "expire" }
    }
  ]
}`

func indent(text string) (string, bool) {
	var v any
	if json.Unmarshal([]byte(text), &v) != nil {
		return "", false
	}
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err == nil
}

// saveLifecycle is PutLifecyclePolicy. A policy the API refuses comes
// back in the editor with the API's own text.
func (c *Console) saveLifecycle(v *view) error {
	repo, text := v.r.PostForm.Get("repository"), v.r.PostForm.Get("policy")
	if err := c.authorize(v, "PutLifecyclePolicy", repo); err != nil {
		return err
	}
	if _, err := c.reg.PutLifecyclePolicy(v.ctx, repo, text); err != nil {
		if berth.IsCode(err, berth.EInvalidParameter) {
			return c.showLifecycle(v, repo, &text, "InvalidParameterException: "+berth.ErrorMessage(err))
		}
		return err
	}
	return v.redirect(Prefix+"lifecycle", url.Values{"repository": {repo}, "done": {"saved"}})
}

// startPreview is StartLifecyclePolicyPreview of the editor's text.
func (c *Console) startPreview(v *view) error {
	repo, text := v.r.PostForm.Get("repository"), v.r.PostForm.Get("policy")
	if err := c.authorize(v, "StartLifecyclePolicyPreview", repo); err != nil {
		return err
	}
	var draft *string
	if strings.TrimSpace(text) != "" {
		draft = &text
	}
	if _, err := c.reg.StartLifecyclePolicyPreview(v.ctx, repo, draft); err != nil {
		if berth.IsCode(err, berth.EInvalidParameter) || berth.IsCode(err, berth.ELifecyclePolicyNotFound) || berth.IsCode(err, berth.ELifecyclePreviewInProgress) {
			return c.showLifecycle(v, repo, draft, exceptionPrefix(err)+berth.ErrorMessage(err))
		}
		return err
	}
	return v.redirect(Prefix+"lifecycle", url.Values{"repository": {repo}})
}

func exceptionPrefix(err error) string {
	if name := exceptionName(err); name != "" {
		return name + ": "
	}
	return ""
}

type policyPage struct {
	Repo    string
	Text    string
	Grants  []policy.Grant
	Problem string
}

func (p policyPage) title() (string, string) { return "Policy of " + p.Repo, "repositories" }

// policy shows the repository's policy (GetRepositoryPolicy) and what it
// says of who may push and pull.
func (c *Console) policy(v *view) error {
	repo := v.r.URL.Query().Get("repository")
	if err := c.authorize(v, "GetRepositoryPolicy", repo); err != nil {
		return err
	}
	p := policyPage{Repo: repo}
	pol, err := c.reg.GetRepositoryPolicy(v.ctx, repo)
	switch {
	case berth.IsCode(err, berth.ERepositoryPolicyNotFound):
	case err != nil:
		return err
	default:
		p.Text = pol.Text
		if pretty, ok := indent(pol.Text); ok {
			p.Text = pretty
		}
		parsed, err := policy.Parse(pol.Text)
		if err != nil {
			p.Problem = err.Error()
		} else {
			p.Grants = policy.Grants(parsed)
		}
	}
	return c.show(v, "policy", p)
}
