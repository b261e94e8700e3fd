package registry

import (
	"context"
	"slices"

	"github.com/berth-registry/berth"
)

// CreateRepositoryInput is what CreateRepository needs; zero values take
// ECR's defaults (MUTABLE, AES256, no scanning).
type CreateRepositoryInput struct {
	Name                    string
	TagMutability           berth.TagMutability
	TagMutabilityExclusions []string
	ScanOnPush              bool
	EncryptionType          string
	KMSKey                  string
	Tags                    []berth.ResourceTag
	// LifecyclePolicy, from a creation template, is set in the same
	// transaction (already checked).
	LifecyclePolicy string
	// RepositoryPolicy, from a creation template, likewise.
	RepositoryPolicy string
}

// CreateRepository creates a repository.
func (r *Registry) CreateRepository(ctx context.Context, in CreateRepositoryInput) (*berth.Repository, error) {
	if err := ValidRepositoryName(in.Name); err != nil {
		return nil, err
	}
	if in.TagMutability == "" {
		in.TagMutability = berth.Mutable
	}
	if err := validMutability(in.TagMutability, in.TagMutabilityExclusions); err != nil {
		return nil, err
	}
	enc, err := validEncryption(in.EncryptionType, in.KMSKey)
	if err != nil {
		return nil, err
	}
	in.EncryptionType = enc
	if err := validResourceTags(in.Tags); err != nil {
		return nil, err
	}
	tags := mergeTags(nil, in.Tags)
	if len(tags) > MaxResourceTags {
		return nil, berth.Errorf(berth.ETooManyTags, "A repository can have at most %d tags; %d were given", MaxResourceTags, len(tags))
	}
	repo := &berth.Repository{
		Name:                    in.Name,
		CreatedAt:               r.nowUTC(),
		TagMutability:           in.TagMutability,
		TagMutabilityExclusions: in.TagMutabilityExclusions,
		ScanOnPush:              in.ScanOnPush,
		EncryptionType:          in.EncryptionType,
		KMSKey:                  in.KMSKey,
		Tags:                    tags,
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if err := tx.CreateRepository(ctx, repo); err != nil {
			return err
		}
		if in.RepositoryPolicy != "" {
			if err := tx.SetRepositoryPolicy(ctx, repo.Name, in.RepositoryPolicy); err != nil {
				return err
			}
		}
		if in.LifecyclePolicy == "" {
			return nil
		}
		return tx.SetLifecyclePolicy(ctx, repo.Name, in.LifecyclePolicy)
	})
	if err == nil && in.RepositoryPolicy != "" {
		r.iamChanged()
	}
	if berth.IsCode(err, berth.EConflict) {
		return nil, berth.Errorf(berth.ERepositoryAlreadyExists, "The repository with name '%s' already exists in the registry with id '%s'", in.Name, r.id)
	}
	if err != nil {
		return nil, err
	}
	return repo, nil
}

// mergeTags applies add to tags: a key given again takes the new value.
func mergeTags(tags, add []berth.ResourceTag) []berth.ResourceTag {
	out := slices.Clone(tags)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o berth.ResourceTag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

// GetRepository returns one repository.
func (r *Registry) GetRepository(ctx context.Context, name string) (*berth.Repository, error) {
	if err := ValidRepositoryName(name); err != nil {
		return nil, err
	}
	var repo *berth.Repository
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		repo, err = r.getRepo(ctx, tx, name)
		return err
	})
	return repo, err
}

// DescribeRepositories returns the named repositories (all must exist), or
// a page of all repositories when names is empty.
func (r *Registry) DescribeRepositories(ctx context.Context, names []string, maxResults *int, token string) ([]berth.Repository, string, error) {
	if len(names) > 0 {
		if token != "" || maxResults != nil {
			return nil, "", invalidParam("repositoryNames", "cannot be combined with nextToken or maxResults")
		}
		if len(names) > 100 {
			return nil, "", invalidParam("repositoryNames", "Member must have length less than or equal to 100', got %d", len(names))
		}
		var out []berth.Repository
		for _, n := range names {
			repo, err := r.GetRepository(ctx, n)
			if err != nil {
				return nil, "", err
			}
			out = append(out, *repo)
		}
		return out, "", nil
	}
	limit, err := pageSize(maxResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(tokenRepositories, "", token)
	if err != nil {
		return nil, "", err
	}
	var out []berth.Repository
	var next string
	err = r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, next, err = tx.ListRepositories(ctx, berth.Page{After: after, Limit: limit})
		return err
	})
	return out, encodeToken(tokenRepositories, "", next), err
}

// DeleteRepository deletes a repository; without force it must hold no
// images. Blobs it held become garbage for collection.
func (r *Registry) DeleteRepository(ctx context.Context, name string, force bool) (*berth.Repository, error) {
	if err := ValidRepositoryName(name); err != nil {
		return nil, err
	}
	var repo *berth.Repository
	err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
		// Locked before counting: no push may add an image meanwhile.
		if repo, err = r.lockRepo(ctx, tx, name); err != nil {
			return err
		}
		if !force {
			n, err := tx.CountManifests(ctx, name)
			if err != nil {
				return err
			}
			if n > 0 {
				return berth.Errorf(berth.ERepositoryNotEmpty, "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", name, r.id)
			}
		}
		if err := tx.ReviewRepositoryBlobs(ctx, name, r.nowUTC().Add(r.gc.BlobGrace)); err != nil {
			return err
		}
		return tx.DeleteRepository(ctx, name)
	})
	if err == nil {
		r.iamChanged() // its policy, if it had one, goes with it
	}
	return repo, err
}

// PutImageTagMutability changes a repository's tag mutability.
func (r *Registry) PutImageTagMutability(ctx context.Context, name string, m berth.TagMutability, filters []string) (*berth.Repository, error) {
	if err := ValidRepositoryName(name); err != nil {
		return nil, err
	}
	if err := validMutability(m, filters); err != nil {
		return nil, err
	}
	return r.updateRepo(ctx, name, func(repo *berth.Repository) error {
		repo.TagMutability, repo.TagMutabilityExclusions = m, filters
		return nil
	})
}

// PutImageScanningConfiguration sets scan-on-push.
func (r *Registry) PutImageScanningConfiguration(ctx context.Context, name string, scanOnPush bool) (*berth.Repository, error) {
	if err := ValidRepositoryName(name); err != nil {
		return nil, err
	}
	return r.updateRepo(ctx, name, func(repo *berth.Repository) error {
		repo.ScanOnPush = scanOnPush
		return nil
	})
}

// TagRepository adds or replaces resource tags.
func (r *Registry) TagRepository(ctx context.Context, name string, tags []berth.ResourceTag) error {
	if len(tags) == 0 {
		return invalidParam("tags", "Member must have length greater than or equal to 1")
	}
	if err := validResourceTags(tags); err != nil {
		return err
	}
	_, err := r.updateRepo(ctx, name, func(repo *berth.Repository) error {
		merged := mergeTags(repo.Tags, tags)
		if len(merged) > MaxResourceTags {
			return berth.Errorf(berth.ETooManyTags, "A repository can have at most %d tags; this would make %d", MaxResourceTags, len(merged))
		}
		repo.Tags = merged
		return nil
	})
	return err
}

// UntagRepository removes resource tags by key; absent keys are ignored.
func (r *Registry) UntagRepository(ctx context.Context, name string, keys []string) error {
	if len(keys) == 0 {
		return invalidParam("tagKeys", "Member must have length greater than or equal to 1")
	}
	_, err := r.updateRepo(ctx, name, func(repo *berth.Repository) error {
		repo.Tags = slices.DeleteFunc(repo.Tags, func(t berth.ResourceTag) bool { return slices.Contains(keys, t.Key) })
		return nil
	})
	return err
}

func (r *Registry) updateRepo(ctx context.Context, name string, change func(*berth.Repository) error) (*berth.Repository, error) {
	var repo *berth.Repository
	err := r.meta.Update(ctx, func(tx berth.MetaTx) (err error) {
		if repo, err = r.lockRepo(ctx, tx, name); err != nil {
			return err
		}
		if err := change(repo); err != nil {
			return err
		}
		return tx.UpdateRepository(ctx, repo)
	})
	return repo, err
}

// validEncryption checks an encryption configuration and returns the
// encryption type with its default applied.
func validEncryption(typ, kmsKey string) (string, error) {
	switch typ {
	case "", "AES256":
		if kmsKey != "" {
			return "", invalidParam("encryptionConfiguration.kmsKey", "a KMS key can only be given with encryptionType KMS or KMS_DSSE")
		}
		return "AES256", nil
	case "KMS", "KMS_DSSE":
		if len(kmsKey) > 2048 {
			return "", invalidParam("encryptionConfiguration.kmsKey", "Member must have length less than or equal to 2048")
		}
		return typ, nil
	}
	return "", invalidParam("encryptionConfiguration.encryptionType", "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]', got '%s", typ)
}
