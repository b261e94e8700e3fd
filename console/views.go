package console

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/manifest"
	"github.com/berth-registry/berth/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// pageSize is how many rows a list page shows: the console never renders
// a whole list.
const pageSize = 50

// authorize asks the decision point for an ECR action on a repository,
// as the ECR API would for the operation of the same name.
// A name that is not a repository name is refused first, as the API's
// model check refuses it before authorization: it never reaches a store.
func (c *Console) authorize(v *view, op, repo string) error {
	if repo != "" {
		if err := registry.ValidRepositoryName(repo); err != nil {
			return err
		}
	}
	return c.reg.Authorize(v.ctx, registry.Access{Action: "ecr:" + op, Repository: repo})
}

// allowed is authorize for what a page shows only if it may.
func (c *Console) allowed(v *view, op, repo string) bool {
	if repo != "" && registry.ValidRepositoryName(repo) != nil {
		return false
	}
	return c.reg.Allowed(v.ctx, registry.Access{Action: "ecr:" + op, Repository: repo})
}

// repoRow is one row of the repositories page.
type repoRow struct {
	berth.Repository
	URI      string
	Usage    berth.RepositoryUsage
	Template string // the prefix of the creation template that covers it
}

type repositoriesPage struct {
	Rows           []repoRow
	Prefix, After  string
	Next           string
	Host           string
	CanCreate      bool
	Mutabilities   []berth.TagMutability
	Done, DoneName string
}

func (repositoriesPage) title() (string, string) { return "Repositories", "repositories" }

// listRepositories reads a page of repositories with their usage, as
// DescribeRepositories would list them to the caller.
func (c *Console) listRepositories(v *view, prefix, after string) ([]repoRow, string, error) {
	// DescribeRepositories without names is asked of repository/* as a whole.
	if err := c.reg.Authorize(v.ctx, registry.Access{Action: "ecr:DescribeRepositories", AllRepositories: true}); err != nil {
		return nil, "", err
	}
	repos, next, err := c.reg.BrowseRepositories(v.ctx, prefix, after, pageSize)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, len(repos))
	for i, r := range repos {
		names[i] = r.Name
	}
	usage, err := c.reg.RepositoryUsage(v.ctx, names)
	if err != nil {
		return nil, "", err
	}
	var templates []berth.CreationTemplate
	if c.allowed(v, "DescribeRepositoryCreationTemplates", "") {
		for token := ""; ; {
			ts, next, err := c.reg.DescribeRepositoryCreationTemplates(v.ctx, nil, nil, token)
			if err != nil {
				return nil, "", err
			}
			templates = append(templates, ts...)
			if token = next; token == "" {
				break
			}
		}
	}
	rows := make([]repoRow, len(repos))
	for i, r := range repos {
		rows[i] = repoRow{Repository: r, URI: v.r.Host + "/" + r.Name, Usage: usage[r.Name]}
		if t := registry.TemplateFor(templates, r.Name); t != nil {
			rows[i].Template = t.Prefix
		}
	}
	return rows, next, nil
}

func (c *Console) repositories(v *view) error {
	q := v.r.URL.Query()
	prefix := strings.TrimSpace(q.Get("prefix"))
	rows, next, err := c.listRepositories(v, prefix, q.Get("after"))
	if err != nil {
		return err
	}
	return c.show(v, "repositories", repositoriesPage{Rows: rows, Prefix: prefix, After: q.Get("after"), Next: next, Host: v.r.Host,
		CanCreate: c.allowed(v, "CreateRepository", ""), Mutabilities: mutabilities, Done: q.Get("done"), DoneName: q.Get("name")})
}

var mutabilities = []berth.TagMutability{berth.Mutable, berth.Immutable, berth.MutableWithExclusion, berth.ImmutableWithExclusion}

// imageRow is one image of the repository page.
type imageRow struct {
	berth.Image
	Status    berth.ImageStatus
	Platforms []string
}

type repositoryPage struct {
	Repo        berth.Repository
	URI         string
	Images      []imageRow
	TagStatus   string
	Token, Next string
	Host        string
	Endpoint    string
	Region      string
	// Example is the reference the pull commands show, ExampleID the
	// same image as the AWS CLI names it.
	Example, ExampleID   string
	CanDelete, CanMutate bool
	Mutabilities         []berth.TagMutability
	Done, DoneWhat       string
}

func (p repositoryPage) title() (string, string) { return p.Repo.Name, "repositories" }

func (c *Console) repository(v *view) error {
	q := v.r.URL.Query()
	name := q.Get("name")
	if err := c.authorize(v, "DescribeRepositories", name); err != nil {
		return err
	}
	if err := c.authorize(v, "DescribeImages", name); err != nil {
		return err
	}
	repos, _, err := c.reg.DescribeRepositories(v.ctx, []string{name}, nil, "")
	if err != nil {
		return err
	}
	status := q.Get("tagStatus")
	if status == "" {
		status = string(berth.TagStatusAny)
	}
	n := pageSize
	images, next, err := c.reg.DescribeImages(v.ctx, registry.DescribeImagesInput{Repository: name, TagStatus: berth.TagStatus(status),
		ImageStatus: string(berth.ImageAny), MaxResults: &n, NextToken: q.Get("token")})
	if err != nil {
		return err
	}
	p := repositoryPage{Repo: repos[0], URI: v.r.Host + "/" + name, TagStatus: status, Token: q.Get("token"), Next: next,
		Host: v.r.Host, Endpoint: c.endpoint(v), Region: c.region, Example: name + ":latest", ExampleID: "imageTag=latest",
		CanDelete: c.allowed(v, "BatchDeleteImage", name), CanMutate: c.allowed(v, "PutImageTagMutability", name),
		Mutabilities: mutabilities, Done: q.Get("done"), DoneWhat: q.Get("what")}
	now := c.now()
	for _, img := range images {
		row := imageRow{Image: img, Status: img.Status(now), Platforms: platforms(img.Manifest)}
		p.Images = append(p.Images, row)
	}
	tagged := slices.IndexFunc(p.Images, func(img imageRow) bool { return len(img.Tags) > 0 })
	switch {
	case tagged >= 0:
		tag := p.Images[tagged].Tags[0]
		p.Example, p.ExampleID = name+":"+tag, "imageTag="+tag
	case len(p.Images) > 0:
		// Only untagged images on this page: pull one by digest.
		d := p.Images[0].Digest
		p.Example, p.ExampleID = name+"@"+d, "imageDigest="+d
	}
	return c.show(v, "repository", p)
}

// endpoint is the URL the AWS CLI commands shown are pointed at.
func (c *Console) endpoint(v *view) string {
	if v.r.TLS != nil {
		return "https://" + v.r.Host
	}
	return "http://" + v.r.Host
}

// platforms lists the platforms of an index's children ("linux/arm64/v8").
func platforms(m berth.Manifest) []string {
	if !manifest.IsIndex(m.MediaType) {
		return nil
	}
	parsed, err := manifest.Parse(m.Bytes, m.MediaType)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range parsed.Manifests {
		if p := platformOf(d); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func platformOf(d manifest.Descriptor) string {
	var p v1.Platform
	if len(d.Platform) == 0 || json.Unmarshal(d.Platform, &p) != nil || p.OS == "" {
		return ""
	}
	return p.String()
}

// child is one manifest an index names.
type child struct {
	manifest.Descriptor
	Platform string
}

// referrerNode is one referrer and those that refer to it in turn.
type referrerNode struct {
	registry.Referrer
	Children []referrerNode
}

type imagePage struct {
	Repo          string
	Image         berth.Image
	Status        berth.ImageStatus
	Pretty        string
	Parsed        *manifest.Manifest
	Children      []child
	Config        *v1.ConfigFile
	ConfigHidden  string // why the config is not shown
	Referrers     []referrerNode
	ReferrerTypes []string
	Parents       []string
	CanDelete     bool
	Host          string
}

func (p imagePage) title() (string, string) {
	return p.Repo + "@" + shortDigest(p.Image.Digest), "repositories"
}

// maxConfig bounds the image configuration the page reads.
const maxConfig = 4 << 20

func (c *Console) image(v *view) error {
	q := v.r.URL.Query()
	repo, digest := q.Get("repository"), q.Get("digest")
	img, err := c.describe(v, repo, digest)
	if err != nil {
		return err
	}
	p := imagePage{Repo: repo, Image: *img, Status: img.Status(c.now()), Host: v.r.Host, CanDelete: c.allowed(v, "BatchDeleteImage", repo)}
	var pretty bytes.Buffer
	if json.Indent(&pretty, img.Bytes, "", "  ") == nil {
		p.Pretty = pretty.String()
	} else {
		p.Pretty = string(img.Bytes)
	}
	if parsed, err := manifest.Parse(img.Bytes, img.MediaType); err == nil {
		p.Parsed = parsed
		for _, d := range parsed.Manifests {
			p.Children = append(p.Children, child{Descriptor: d, Platform: platformOf(d)})
		}
		if parsed.Config != nil {
			p.Config, p.ConfigHidden = c.config(v, repo, parsed.Config)
		}
	}
	refs, err := c.referrers(v, repo, digest, 0)
	if err != nil {
		return err
	}
	p.Referrers = refs
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.ArtifactType] {
			seen[r.ArtifactType] = true
			p.ReferrerTypes = append(p.ReferrerTypes, r.ArtifactType)
		}
	}
	sort.Strings(p.ReferrerTypes)
	return c.show(v, "image", p)
}

// describe reads one image as DescribeImages and BatchGetImage would show
// it (the exact manifest bytes with it), without counting a pull.
func (c *Console) describe(v *view, repo, digest string) (*berth.Image, error) {
	if err := c.authorize(v, "DescribeImages", repo); err != nil {
		return nil, err
	}
	if err := c.authorize(v, "BatchGetImage", repo); err != nil {
		return nil, err
	}
	if err := registry.ValidDigest("imageDigest", digest); err != nil {
		return nil, err
	}
	images, _, err := c.reg.DescribeImages(v.ctx, registry.DescribeImagesInput{Repository: repo, IDs: []berth.ImageRef{{Digest: digest}}})
	if err != nil {
		return nil, err
	}
	return &images[0], nil
}

// config reads an image's configuration, if the caller may pull layers.
func (c *Console) config(v *view, repo string, d *manifest.Descriptor) (*v1.ConfigFile, string) {
	if !c.allowed(v, "GetDownloadUrlForLayer", repo) {
		return nil, "Your identity may not pull this repository's layers (ecr:GetDownloadUrlForLayer), so the configuration is not shown."
	}
	if d.Size > maxConfig {
		return nil, "The configuration is larger than the console shows."
	}
	_, rd, err := c.reg.OpenBlob(v.ctx, repo, d.Digest)
	if err != nil {
		return nil, "The configuration blob is not in this repository: " + berth.ErrorMessage(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, maxConfig))
	if err != nil {
		return nil, "The configuration could not be read."
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil || (cfg.OS == "" && cfg.Architecture == "") {
		return nil, "" // an artifact's config, not an image's
	}
	return cfg, ""
}

// Bounds of the referrers tree a page shows.
const (
	maxReferrerDepth = 3
	maxReferrers     = 100
)

func (c *Console) referrers(v *view, repo, digest string, depth int) ([]referrerNode, error) {
	if depth >= maxReferrerDepth {
		return nil, nil
	}
	refs, err := c.reg.Referrers(v.ctx, repo, digest, "")
	if err != nil {
		return nil, err
	}
	if len(refs) > maxReferrers {
		refs = refs[:maxReferrers]
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].ArtifactType != refs[j].ArtifactType {
			return refs[i].ArtifactType < refs[j].ArtifactType
		}
		return refs[i].Digest < refs[j].Digest
	})
	out := make([]referrerNode, len(refs))
	for i, r := range refs {
		out[i].Referrer = r
		if out[i].Children, err = c.referrers(v, repo, r.Digest, depth+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// manifestBytes serves a manifest's exact bytes as a download.
func (c *Console) manifestBytes(v *view) error {
	q := v.r.URL.Query()
	repo, digest := q.Get("repository"), q.Get("digest")
	img, err := c.describe(v, repo, digest)
	if err != nil {
		return err
	}
	h := v.w.Header()
	// Never a type a browser would render: the bytes are a client's.
	ct := img.MediaType
	if !strings.HasPrefix(ct, "application/") || !strings.HasSuffix(ct, "json") {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(digest, ":", "-")+`.json"`)
	h.Set("Docker-Content-Digest", img.Digest)
	v.w.Write(img.Bytes)
	return nil
}

type storagePage struct {
	Height  int
	BarX    int
	Rows    []repoRow
	Max     int64
	After   string
	Next    string
	Totals  berth.StorageStats
	OnPage  int64
	BarRows []bar
}

// bar is one bar of the chart, laid out on the server.
type bar struct {
	Name   string
	Bytes  int64
	Y      int
	Width  float64
	LabelX float64
	Size   string
}

func (storagePage) title() (string, string) { return "Storage", "storage" }

// Chart geometry, in SVG user units: names left of chartBarX, bars up
// to chartWidth long, the size right of each bar.
const (
	chartBarHeight = 22
	chartBarX      = 220
	chartWidth     = 560
)

func (c *Console) storage(v *view) error {
	after := v.r.URL.Query().Get("after")
	rows, next, err := c.listRepositories(v, "", after)
	if err != nil {
		return err
	}
	totals, err := c.reg.StorageStats(v.ctx)
	if err != nil {
		return err
	}
	p := storagePage{Rows: rows, After: after, Next: next, Totals: totals, Height: len(rows) * chartBarHeight, BarX: chartBarX}
	for _, r := range rows {
		p.Max = max(p.Max, r.Usage.Bytes)
		p.OnPage += r.Usage.Bytes
	}
	for i, r := range rows {
		w := 0.0
		if p.Max > 0 {
			w = float64(chartWidth) * float64(r.Usage.Bytes) / float64(p.Max)
		}
		p.BarRows = append(p.BarRows, bar{Name: r.Name, Bytes: r.Usage.Bytes, Y: i * chartBarHeight, Width: w, LabelX: chartBarX + w + 6, Size: sizeText(r.Usage.Bytes)})
	}
	return c.show(v, "storage", p)
}

// pageURL is a link to a console page with a query.
func pageURL(page string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return Prefix + page
	}
	return Prefix + page + "?" + q.Encode()
}
