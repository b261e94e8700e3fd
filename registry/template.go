package registry

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

var prefixRE = regexp.MustCompile(`^(` + repoNamePattern + `\/?|ROOT)$`)

// MaxTemplates is how many creation templates a registry may have.
const MaxTemplates = 300

// TemplateInput is the settings of a repository creation template; nil
// pointers leave a setting unchanged on update.
type TemplateInput struct {
	Prefix                  string
	Description             *string
	AppliedFor              []string
	TagMutability           *berth.TagMutability
	TagMutabilityExclusions []string
	EncryptionType          *string
	KMSKey                  *string
	ResourceTags            []berth.ResourceTag
	RepositoryPolicy        *string
	LifecyclePolicy         *string
	CustomRoleArn           *string
}

func normalizePrefix(p string) (string, error) {
	if len(p) < 1 || len(p) > 256 || !prefixRE.MatchString(p) {
		return "", invalidParam("prefix", "must be ROOT or a repository namespace such as 'team' or 'team/app', got '%s", p)
	}
	return strings.TrimSuffix(p, "/"), nil
}

func (r *Registry) templateNotFound(prefix string) error {
	return berth.Errorf(berth.ETemplateNotFound, "The repository creation template with prefix '%s' does not exist in the registry with id '%s'", prefix, r.id)
}

// apply validates in and applies it to t.
func (in *TemplateInput) apply(t *berth.CreationTemplate) error {
	if in.Description != nil {
		if len(*in.Description) > 256 {
			return invalidParam("description", "Member must have length less than or equal to 256")
		}
		t.Description = *in.Description
	}
	if in.AppliedFor != nil {
		if len(in.AppliedFor) == 0 {
			return invalidParam("appliedFor", "at least one of REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH is required")
		}
		for _, a := range in.AppliedFor {
			if a != "REPLICATION" && a != "PULL_THROUGH_CACHE" && a != berth.AppliedForCreateOnPush {
				return invalidParam("appliedFor", "Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]', got '%s", a)
			}
		}
		t.AppliedFor = slices.Compact(slices.Sorted(slices.Values(in.AppliedFor)))
	}
	if in.TagMutability != nil || in.TagMutabilityExclusions != nil {
		m := t.TagMutability
		if in.TagMutability != nil {
			m = *in.TagMutability
		}
		if err := validMutability(m, in.TagMutabilityExclusions); err != nil {
			return err
		}
		t.TagMutability, t.TagMutabilityExclusions = m, in.TagMutabilityExclusions
	}
	if in.EncryptionType != nil {
		t.EncryptionType = *in.EncryptionType
		t.KMSKey = ""
		if in.KMSKey != nil {
			t.KMSKey = *in.KMSKey
		}
		if _, err := validEncryption(t.EncryptionType, t.KMSKey); err != nil {
			return err
		}
	}
	if in.ResourceTags != nil {
		if err := validResourceTags(in.ResourceTags); err != nil {
			return err
		}
		if tags := mergeTags(nil, in.ResourceTags); len(tags) > MaxResourceTags {
			return berth.Errorf(berth.ETooManyTags, "A template can have at most %d resource tags", MaxResourceTags)
		}
		t.ResourceTags = in.ResourceTags
	}
	set := func(dst *string, src *string, field string, max int) error {
		if src == nil {
			return nil
		}
		if len(*src) > max {
			return invalidParam(field, "Member must have length less than or equal to %d", max)
		}
		*dst = *src
		return nil
	}
	if err := set(&t.RepositoryPolicy, in.RepositoryPolicy, "repositoryPolicy", 10240); err != nil {
		return err
	}
	if err := set(&t.LifecyclePolicy, in.LifecyclePolicy, "lifecyclePolicy", 30720); err != nil {
		return err
	}
	if t.LifecyclePolicy != "" {
		p, err := parsePolicy(t.LifecyclePolicy, 0)
		if err != nil {
			return err
		}
		t.LifecyclePolicy = p.Text
	}
	return set(&t.CustomRoleArn, in.CustomRoleArn, "customRoleArn", 2048)
}

// CreateRepositoryCreationTemplate creates a template.
func (r *Registry) CreateRepositoryCreationTemplate(ctx context.Context, in TemplateInput) (*berth.CreationTemplate, error) {
	prefix, err := normalizePrefix(in.Prefix)
	if err != nil {
		return nil, err
	}
	if in.AppliedFor == nil {
		in.AppliedFor = []string{}
	}
	now := r.nowUTC()
	t := &berth.CreationTemplate{Prefix: prefix, TagMutability: berth.Mutable, EncryptionType: "AES256", CreatedAt: now, UpdatedAt: now}
	if err := in.apply(t); err != nil {
		return nil, err
	}
	if err := r.validTemplatePolicy(ctx, in); err != nil {
		return nil, err
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		existing, _, err := tx.ListTemplates(ctx, berth.Page{Limit: MaxTemplates})
		if err != nil {
			return err
		}
		if len(existing) >= MaxTemplates {
			return berth.Errorf(berth.ELimitExceeded, "The registry already has %d repository creation templates, the most it may have", MaxTemplates)
		}
		return tx.CreateTemplate(ctx, t)
	})
	if berth.IsCode(err, berth.EConflict) {
		return nil, berth.Errorf(berth.ETemplateAlreadyExists, "The repository creation template with prefix '%s' already exists in the registry with id '%s'", prefix, r.id)
	}
	return t, err
}

// validTemplatePolicy checks the repository policy a template gives its
// repositories, as SetRepositoryPolicy would (its Resource may only be "*":
// the repositories are not named yet).
func (r *Registry) validTemplatePolicy(ctx context.Context, in TemplateInput) error {
	if in.RepositoryPolicy == nil || *in.RepositoryPolicy == "" {
		return nil
	}
	_, err := r.validResourcePolicy(ctx, *in.RepositoryPolicy, policy.Repository, "")
	return err
}

// UpdateRepositoryCreationTemplate changes the settings in of a template.
func (r *Registry) UpdateRepositoryCreationTemplate(ctx context.Context, in TemplateInput) (*berth.CreationTemplate, error) {
	if err := r.validTemplatePolicy(ctx, in); err != nil {
		return nil, err
	}
	return r.changeTemplate(ctx, in.Prefix, func(tx berth.MetaTx, t *berth.CreationTemplate) error {
		if err := in.apply(t); err != nil {
			return err
		}
		t.UpdatedAt = r.nowUTC()
		return tx.UpdateTemplate(ctx, t)
	})
}

// DeleteRepositoryCreationTemplate deletes a template and returns it.
func (r *Registry) DeleteRepositoryCreationTemplate(ctx context.Context, prefix string) (*berth.CreationTemplate, error) {
	return r.changeTemplate(ctx, prefix, func(tx berth.MetaTx, t *berth.CreationTemplate) error {
		return tx.DeleteTemplate(ctx, t.Prefix)
	})
}

// changeTemplate reads the template of prefix and applies change to it in
// one transaction, answering TemplateNotFound for an unknown prefix.
func (r *Registry) changeTemplate(ctx context.Context, prefix string, change func(berth.MetaTx, *berth.CreationTemplate) error) (*berth.CreationTemplate, error) {
	prefix, err := normalizePrefix(prefix)
	if err != nil {
		return nil, err
	}
	var t *berth.CreationTemplate
	err = r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
		if t, err = tx.LockTemplate(ctx, prefix); err != nil {
			return err
		}
		return change(tx, t)
	})
	if berth.IsCode(err, berth.ENotFound) {
		return nil, r.templateNotFound(prefix)
	}
	return t, err
}

// DescribeRepositoryCreationTemplates returns the named templates (absent
// ones are left out, as ECR does), or a page of all of them.
func (r *Registry) DescribeRepositoryCreationTemplates(ctx context.Context, prefixes []string, maxResults *int, token string) ([]berth.CreationTemplate, string, error) {
	limit, err := pageSize(maxResults)
	if err != nil {
		return nil, "", err
	}
	var out []berth.CreationTemplate
	var next string
	if len(prefixes) > 0 {
		err = r.meta.View(ctx, func(tx berth.MetaTx) error {
			for _, p := range prefixes {
				p, err := normalizePrefix(p)
				if err != nil {
					return err
				}
				t, err := tx.GetTemplate(ctx, p)
				if berth.IsCode(err, berth.ENotFound) {
					continue
				}
				if err != nil {
					return err
				}
				out = append(out, *t)
			}
			return nil
		})
		return out, "", err
	}
	after, err := decodeToken(tokenTemplates, "", token)
	if err != nil {
		return nil, "", err
	}
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, next, err = tx.ListTemplates(ctx, berth.Page{After: after, Limit: limit})
		return err
	})
	return out, encodeToken(tokenTemplates, "", next), err
}

// TemplateFor returns the CREATE_ON_PUSH template of ts that covers a
// repository name, or nil (the console's badge).
func TemplateFor(ts []berth.CreationTemplate, repo string) *berth.CreationTemplate {
	return templateFor(ts, repo)
}

// templateFor returns the CREATE_ON_PUSH template that covers repo: the
// longest matching prefix, else ROOT, else nil.
func templateFor(ts []berth.CreationTemplate, repo string) *berth.CreationTemplate {
	var best *berth.CreationTemplate
	for i := range ts {
		t := &ts[i]
		if !slices.Contains(t.AppliedFor, berth.AppliedForCreateOnPush) {
			continue
		}
		switch {
		case t.Prefix == berth.RootPrefix:
			if best == nil {
				best = t
			}
		case strings.HasPrefix(repo, t.Prefix+"/"):
			if best == nil || best.Prefix == berth.RootPrefix || len(t.Prefix) > len(best.Prefix) {
				best = t
			}
		}
	}
	return best
}

// onPush runs a push step; if it fails because the repository does not
// exist and a CREATE_ON_PUSH template covers the name, it creates the
// repository from the template and runs the step again. The common case,
// an existing repository, costs no extra read.
func (r *Registry) onPush(ctx context.Context, repo string, step func() error) error {
	err := step()
	if !berth.IsCode(err, berth.ERepositoryNotFound) || r.public {
		// ECR Public has no creation templates: its repositories are made
		// with CreateRepository.
		return err
	}
	created, cerr := r.createFromTemplate(ctx, repo)
	if cerr != nil {
		return cerr
	}
	if !created {
		return err
	}
	return step()
}

// createFromTemplate creates repo from the CREATE_ON_PUSH template that
// covers it, if there is one; created is false when there is none.
func (r *Registry) createFromTemplate(ctx context.Context, repo string) (created bool, err error) {
	var tmpl *berth.CreationTemplate
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		ts, _, err := tx.ListTemplates(ctx, berth.Page{Limit: MaxTemplates})
		if err != nil {
			return err
		}
		tmpl = templateFor(ts, repo)
		return nil
	})
	if err != nil || tmpl == nil {
		return false, err
	}
	// Creating on push is creating: the pusher needs ecr:CreateRepository.
	if err := r.Authorize(ctx, Access{Action: "ecr:CreateRepository", Repository: repo, RequestTags: tmpl.ResourceTags}); err != nil {
		return false, err
	}
	_, err = r.CreateRepository(ctx, CreateRepositoryInput{
		Name:                    repo,
		TagMutability:           tmpl.TagMutability,
		TagMutabilityExclusions: tmpl.TagMutabilityExclusions,
		EncryptionType:          tmpl.EncryptionType,
		KMSKey:                  tmpl.KMSKey,
		Tags:                    tmpl.ResourceTags,
		LifecyclePolicy:         tmpl.LifecyclePolicy,
		RepositoryPolicy:        tmpl.RepositoryPolicy,
	})
	switch {
	case berth.IsCode(err, berth.ERepositoryAlreadyExists):
		return true, nil // created concurrently by another push
	case err != nil:
		return false, err
	}
	r.log.Info("created repository on push", "repository", repo, "template", tmpl.Prefix)
	return true, nil
}

// EnsureCreateOnPush makes sure a ROOT template applies CREATE_ON_PUSH, so
// a push to any repository name creates it (berth serve --create-on-push).
func (r *Registry) EnsureCreateOnPush(ctx context.Context) error {
	_, err := r.CreateRepositoryCreationTemplate(ctx, TemplateInput{
		Prefix:      berth.RootPrefix,
		Description: ptr("installed by berth serve --create-on-push"),
		AppliedFor:  []string{berth.AppliedForCreateOnPush},
	})
	if !berth.IsCode(err, berth.ETemplateAlreadyExists) {
		return err
	}
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		t, err := tx.LockTemplate(ctx, berth.RootPrefix)
		if err != nil || slices.Contains(t.AppliedFor, berth.AppliedForCreateOnPush) {
			return err
		}
		t.AppliedFor = slices.Sorted(slices.Values(append(t.AppliedFor, berth.AppliedForCreateOnPush)))
		t.UpdatedAt = r.nowUTC()
		return tx.UpdateTemplate(ctx, t)
	})
}

func ptr[T any](v T) *T { return &v }
