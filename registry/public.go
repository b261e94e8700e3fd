package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"image/png"
	"log/slog"
	"regexp"

	"github.com/berth-registry/berth"
)

// ECR Public's own rules: the public registry's alias and display name,
// its repositories' catalog data, and its tag listing. The rest (pushes,
// images, policies, tags) is the core's, in the store's "public" namespace.

// Registry settings of the public registry.
const (
	settingPublicAlias       = "public_alias"
	settingPublicDisplayName = "public_display_name"
)

// aliasRE is a registry alias: it starts with a letter, so an account id is
// never one (the model's RegistryAliasName).
var aliasRE = regexp.MustCompile(`^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ValidAlias checks a registry alias: 2 to 50 characters of the model's
// pattern.
func ValidAlias(alias string) error {
	if len(alias) < 2 || len(alias) > 50 || !aliasRE.MatchString(alias) {
		return invalidParam("registryAliasName", "Member must satisfy regular expression pattern: [a-z][a-z0-9]+(?:[._-][a-z0-9]+)*', got '%s", alias)
	}
	return nil
}

// EnsureAlias sets the public registry's alias: the one given, or the one
// kept, or a new default one (eight characters, letter and digit in turn,
// as AWS's default aliases look), and returns it.
func (r *Registry) EnsureAlias(ctx context.Context, alias string) (string, error) {
	if alias != "" {
		if err := ValidAlias(alias); err != nil {
			return "", err
		}
	}
	err := r.meta.Update(ctx, func(tx berth.MetaTx) error {
		kept, err := tx.GetSetting(ctx, settingPublicAlias)
		if err != nil {
			return err
		}
		switch {
		case alias == "" && kept != "":
			alias = kept
			return nil
		case alias == "":
			alias = defaultAlias()
		case alias == kept:
			return nil
		}
		return tx.PutSetting(ctx, settingPublicAlias, alias)
	})
	return alias, err
}

func defaultAlias() string {
	const letters, digits = "abcdefghijklmnopqrstuvwxyz", "0123456789"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		if i%2 == 0 {
			b[i] = letters[int(b[i])%len(letters)]
		} else {
			b[i] = digits[int(b[i])%len(digits)]
		}
	}
	return string(b)
}

// Alias returns the public registry's alias ("" before EnsureAlias).
func (r *Registry) Alias(ctx context.Context) (string, error) {
	return r.setting(ctx, settingPublicAlias)
}

// DisplayName returns the registry catalog data's display name.
func (r *Registry) DisplayName(ctx context.Context) (string, error) {
	return r.setting(ctx, settingPublicDisplayName)
}

// PutDisplayName sets the registry catalog data's display name ("" clears
// it).
func (r *Registry) PutDisplayName(ctx context.Context, name string) error {
	return r.changeIAM(ctx, "registry catalog data set", func(tx berth.MetaTx) error {
		return tx.PutSetting(ctx, settingPublicDisplayName, name)
	})
}

// CatalogData is a public repository's catalog data, as stored and
// returned (the logo is kept as the image itself; berth gives no logoUrl,
// having no public logo host).
type CatalogData struct {
	Description      string   `json:"description,omitempty"`
	Architectures    []string `json:"architectures,omitempty"`
	OperatingSystems []string `json:"operatingSystems,omitempty"`
	AboutText        string   `json:"aboutText,omitempty"`
	UsageText        string   `json:"usageText,omitempty"`
	Logo             []byte   `json:"logo,omitempty"`
}

// Logo limits, ECR Public's: a PNG image of 60 to 2048 pixels a side.
const (
	minLogoSide = 60
	maxLogoSide = 2048
)

// validCatalogData checks what the model cannot: the logo. Any
// architecture or operating system is accepted and given back, as ECR
// Public does; only some make the gallery's badges.
func validCatalogData(d *CatalogData) error {
	if len(d.Logo) == 0 {
		return nil
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(d.Logo))
	if err != nil {
		return invalidParam("catalogData.logoImageBlob", "must be a PNG image', got %d bytes that are not one", len(d.Logo))
	}
	if cfg.Width < minLogoSide || cfg.Height < minLogoSide || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return invalidParam("catalogData.logoImageBlob", "the logo must be between %d and %d pixels wide and high', got %dx%d", minLogoSide, maxLogoSide, cfg.Width, cfg.Height)
	}
	return nil
}

// PutCatalogData replaces a public repository's catalog data.
func (r *Registry) PutCatalogData(ctx context.Context, repo string, d *CatalogData) (*CatalogData, error) {
	if err := validCatalogData(d); err != nil {
		return nil, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	err = r.meta.Update(ctx, func(tx berth.MetaTx) error {
		err := tx.SetCatalogData(ctx, repo, string(b))
		if berth.IsCode(err, berth.ENotFound) {
			return r.repoNotFound(repo)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	r.log.LogAttrs(ctx, slog.LevelDebug, "catalog data set", slog.String("repository", repo))
	return d, nil
}

// CatalogDataOf returns a public repository's catalog data: empty when none
// was set [verify: or RepositoryCatalogDataNotFoundException].
func (r *Registry) CatalogDataOf(ctx context.Context, repo string) (*CatalogData, error) {
	var raw string
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		raw, err = tx.GetCatalogData(ctx, repo)
		if berth.IsCode(err, berth.ENotFound) {
			return r.repoNotFound(repo)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	d := &CatalogData{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// TagDetail is one tag of DescribeImageTags: the tag and its image.
type TagDetail struct {
	Tag   string
	Image berth.Manifest
}

// DescribeImageTags lists a repository's tags with their images, a page at
// a time, by tag.
func (r *Registry) DescribeImageTags(ctx context.Context, repo string, maxResults *int, token string) ([]TagDetail, string, error) {
	n, err := pageSize(maxResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(tokenImageTags, repo, token)
	if err != nil {
		return nil, "", err
	}
	var out []TagDetail
	var next string
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		if _, err := r.getRepo(ctx, tx, repo); err != nil {
			return err
		}
		tags, nx, err := tx.ListTags(ctx, repo, berth.Page{After: after, Limit: n})
		if err != nil {
			return err
		}
		next = nx
		for _, t := range tags {
			m, err := tx.GetTaggedManifest(ctx, repo, t)
			if berth.IsCode(err, berth.ENotFound) {
				continue // untagged meanwhile
			}
			if err != nil {
				return err
			}
			out = append(out, TagDetail{Tag: t, Image: *m})
		}
		return nil
	})
	return out, encodeToken(tokenImageTags, repo, next), err
}
