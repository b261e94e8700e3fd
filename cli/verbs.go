package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The everyday verbs: berth retag, ls, login, push and pull. They call the
// ECR API as "berth ecr" does (the same signing, credentials, region and
// endpoint resolution) and print what a person wants to read.

// verbUsages are the verbs' synopses.
var verbUsages = map[string]string{
	"retag": "berth retag REPO:TAG NEW_TAG [NEW_TAG...] [--public [--insecure]]",
	"ls":    "berth ls [REPO] [--public] [--output table|json]",
	"login": "berth login [--public] [--registry HOST] [--print]",
	"push":  "berth push LAYOUT_DIR|TARBALL REF [--public] [--insecure]",
	"pull":  "berth pull REF LAYOUT_DIR|TARBALL [--public] [--insecure]",
}

// publicAPI says where --public finds the ECR Public API, for the help
// of the verbs that call it.
const publicAPI = "With --public, the ECR Public API is at --endpoint-url, else AWS_ENDPOINT_URL_ECR_PUBLIC,\n" +
	"else AWS_ENDPOINT_URL_ECR (berth serves both APIs on one address; berth env exports that one)."

// verbDocs say what each verb does, for its help.
var verbDocs = map[string]string{
	"retag": "Tags an image again: BatchGetImage, then PutImage of the byte-identical manifest\n" +
		"under each new tag. REPO@sha256:... names the image by digest. Prints REPO:TAG DIGEST per tag.\n\n" +
		"--public retags in ECR Public, which has no BatchGetImage: the manifest is read byte for\n" +
		"byte from the public registry endpoint the repository's URI names (DescribeRepositories),\n" +
		"anonymously, as anyone may pull, then put with ECR Public's PutImage. --insecure talks\n" +
		"plain HTTP to that endpoint.\n" + publicAPI,
	"ls": "Without REPO, lists the repositories (DescribeRepositories); with REPO, its images\n" +
		"(DescribeImages). --output json prints the API's answer, all pages in one.\n\n" +
		"--public lists ECR Public's.\n" + publicAPI,
	"login": "Gets a token (GetAuthorizationToken) and writes it as the docker config's auths\n" +
		"entry for the registry ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).\n" +
		"--registry HOST names the registry host (default: the proxyEndpoint's);\n" +
		"--print prints the password only, as aws ecr get-login-password does.\n\n" +
		"--public logs in to the public registry endpoint with ECR Public's token (which needs\n" +
		"sts:GetServiceBearerToken too), user AWS, as aws ecr-public get-login-password |\n" +
		"docker login --username AWS --password-stdin does; the host is DescribeRegistries'\n" +
		"registryUri's (public.ecr.aws on AWS), or --registry HOST.\n" + publicAPI,
	"push": "Pushes the image of an OCI image layout directory or a docker-archive tarball\n" +
		"(a file) to REF (host/repository:tag), authenticated by GetAuthorizationToken.\n" +
		"--insecure talks plain HTTP to the registry.\n\n" +
		"--public pushes to the public registry endpoint (REF host/alias/repository:tag),\n" +
		"authenticated by ECR Public's GetAuthorizationToken.\n" + publicAPI,
	"pull": "Pulls REF into an OCI image layout directory (created or added to) or, when the\n" +
		"destination ends in .tar, a docker-archive tarball.\n" +
		"--insecure talks plain HTTP to the registry.\n\n" +
		"--public pulls from the public registry endpoint (REF host/alias/repository:tag)\n" +
		"anonymously, as anyone may: no credentials, no API call.",
}

// Verbs lists the verbs RunVerb runs.
func Verbs() []string {
	var v []string
	for k := range verbUsages {
		v = append(v, k)
	}
	slices.Sort(v)
	return v
}

// verbArgs is a verb's parsed command line.
type verbArgs struct {
	pos                               []string
	endpoint, region, profile, output string
	registry                          string
	print, insecure, help, public     bool
}

// verbFlags are the flags each verb takes besides --endpoint-url,
// --region and --profile; true for the ones that take a value.
var verbFlags = map[string]map[string]bool{
	"retag": {"public": false, "insecure": false},
	"ls":    {"output": true, "public": false},
	"login": {"registry": true, "print": false, "public": false},
	"push":  {"insecure": false, "public": false},
	"pull":  {"insecure": false, "public": false},
}

func parseVerbArgs(verb string, args []string) (*verbArgs, error) {
	a := &verbArgs{output: "table"}
	extra := verbFlags[verb]
	flagsDone := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if flagsDone || !strings.HasPrefix(arg, "-") || arg == "-" {
			a.pos = append(a.pos, arg)
			continue
		}
		if arg == "--" {
			flagsDone = true
			continue
		}
		if arg == "-h" || arg == "--help" {
			a.help = true
			continue
		}
		name, inline, hasInline := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		takesValue, ok := extra[name]
		switch name {
		case "endpoint-url", "region", "profile":
			ok, takesValue = true, true
		}
		if !ok {
			return nil, usagef("Unknown options: %s", arg)
		}
		var v string
		if takesValue {
			switch {
			case hasInline:
				v = inline
			case i+1 < len(args):
				i++
				v = args[i]
			default:
				return nil, usagef("argument --%s: expected one argument", name)
			}
		} else if hasInline {
			return nil, usagef("argument --%s: ignored explicit argument %q", name, inline)
		}
		switch name {
		case "endpoint-url":
			a.endpoint = v
		case "region":
			a.region = v
		case "profile":
			a.profile = v
		case "output":
			a.output = v
		case "registry":
			a.registry = v
		case "print":
			a.print = true
		case "insecure":
			a.insecure = true
		case "public":
			a.public = true
		}
	}
	if a.output != "table" && a.output != "json" {
		return nil, usagef("argument --output: Invalid choice, valid choices are: table | json")
	}
	return a, nil
}

// RunVerb runs "berth <verb> args..." and returns the process's exit code,
// with the AWS CLI's: 252 for a command line it cannot run, 254 for an
// error answer of the service, 255 for anything else.
func (m *Main) RunVerb(ctx context.Context, verb string, args []string) int {
	err := m.runVerb(ctx, verb, args)
	var u *usageError
	switch {
	case err == nil:
	case errors.As(err, &u):
		fmt.Fprintf(m.Stderr, "usage: %s\n                  [--endpoint-url URL] [--region REGION] [--profile PROFILE]\nTo see help text, you can run:\n\n  berth %s --help\n\nberth: error: %s\n", verbUsages[verb], verb, u.msg)
	default:
		fmt.Fprintf(m.Stderr, "\n%s\n", err)
	}
	return exitCode(err)
}

func (m *Main) runVerb(ctx context.Context, verb string, args []string) error {
	if _, ok := verbUsages[verb]; !ok {
		return fmt.Errorf("unknown verb %q", verb)
	}
	a, err := parseVerbArgs(verb, args)
	if err != nil {
		return err
	}
	if a.help {
		fmt.Fprintf(m.Stdout, "usage: %s\n       [--endpoint-url URL] [--region REGION] [--profile PROFILE]\n\n%s\n", verbUsages[verb], verbDocs[verb])
		return nil
	}
	switch verb {
	case "retag":
		return m.retag(ctx, a)
	case "ls":
		return m.ls(ctx, a)
	case "login":
		return m.login(ctx, a)
	case "push":
		return m.push(ctx, a)
	case "pull":
		return m.pull(ctx, a)
	}
	return nil
}

// api calls one service's operations with a verb's global options.
type api struct {
	m   *Main
	svc *service
	inv invocation
}

func (m *Main) api(svcName string, a *verbArgs) (*api, error) {
	svc, err := loadService(svcName)
	if err != nil {
		return nil, err
	}
	endpoint := a.endpoint
	if svcName == "ecr-public" && endpoint == "" && m.getenv("AWS_ENDPOINT_URL_ECR_PUBLIC") == "" {
		// berth serves ECR Public on the ECR API's address, and berth
		// env exports that one only.
		endpoint = m.getenv("AWS_ENDPOINT_URL_ECR")
	}
	return &api{m: m, svc: svc, inv: invocation{endpoint: endpoint, region: a.region, profile: a.profile}}, nil
}

// verbService is the API a verb calls: ECR Public's with --public.
func verbService(a *verbArgs) string {
	if a.public {
		return "ecr-public"
	}
	return "ecr"
}

// call sends op with input (each structure's members put in the model's
// order) and decodes the answer into out (numbers as json.Number when out
// is an any), returning the answer's bytes.
func (c *api) call(ctx context.Context, op string, input map[string]any, out any) ([]byte, error) {
	o := c.svc.model.Operations[op]
	if o == nil {
		return nil, fmt.Errorf("the %s model has no operation %s", c.svc.name, op)
	}
	inv := c.inv
	if input != nil {
		inv.input, _ = toObject(c.svc, o.Input, input).(*object)
	}
	body, err := c.m.call(ctx, c.svc, o, &inv)
	if err != nil {
		return nil, err
	}
	if out != nil && len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeJSON(body, out); err != nil {
			return nil, fmt.Errorf("reading the answer to %s: %w", op, err)
		}
	}
	return body, nil
}

// all calls a paginated operation until it has no nextToken, returning
// the elements of listKey of every page.
func (c *api) all(ctx context.Context, op string, input map[string]any, listKey string) ([]any, error) {
	items := []any{}
	for {
		var page map[string]any
		if _, err := c.call(ctx, op, input, &page); err != nil {
			return nil, err
		}
		l, _ := page[listKey].([]any)
		items = append(items, l...)
		next, _ := page["nextToken"].(string)
		if next == "" {
			return items, nil
		}
		in := map[string]any{}
		for k, v := range input {
			in[k] = v
		}
		in["nextToken"] = next
		input = in
	}
}

// ---- retag ----

// acceptedMediaTypes are every manifest type ECR stores, so BatchGetImage
// hands back the manifest as it was pushed rather than converted.
var acceptedMediaTypes = []any{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
}

// splitImage reads REPO:TAG or REPO@DIGEST into a repository and an
// imageId.
func splitImage(s string) (string, map[string]any, error) {
	if repo, digest, ok := strings.Cut(s, "@"); ok {
		if repo == "" || !strings.Contains(digest, ":") {
			return "", nil, usagef("argument SOURCE: %q is not REPO:TAG or REPO@DIGEST", s)
		}
		return repo, map[string]any{"imageDigest": digest}, nil
	}
	i := strings.LastIndex(s, ":")
	if i <= 0 || i == len(s)-1 || strings.Contains(s[i:], "/") {
		return "", nil, usagef("argument SOURCE: %q is not REPO:TAG or REPO@DIGEST", s)
	}
	return s[:i], map[string]any{"imageTag": s[i+1:]}, nil
}

func (m *Main) retag(ctx context.Context, a *verbArgs) error {
	if len(a.pos) < 2 {
		return usagef("the following arguments are required: %s", strings.Join([]string{"REPO:TAG", "NEW_TAG"}[len(a.pos):], ", "))
	}
	repo, id, err := splitImage(a.pos[0])
	if err != nil {
		return err
	}
	for _, tag := range a.pos[1:] {
		if tag == "" || strings.ContainsAny(tag, ":/@ ") {
			return usagef("argument NEW_TAG: %q is not a tag", tag)
		}
	}
	if a.public {
		return m.retagPublic(ctx, a, repo, id)
	}
	c, err := m.api("ecr", a)
	if err != nil {
		return err
	}
	var got struct {
		Images []struct {
			ImageID struct {
				ImageDigest string `json:"imageDigest"`
			} `json:"imageId"`
			ImageManifest          string `json:"imageManifest"`
			ImageManifestMediaType string `json:"imageManifestMediaType"`
		} `json:"images"`
		Failures []struct {
			FailureCode   string `json:"failureCode"`
			FailureReason string `json:"failureReason"`
		} `json:"failures"`
	}
	body, err := c.call(ctx, "BatchGetImage", map[string]any{
		"repositoryName": repo, "imageIds": []any{id}, "acceptedMediaTypes": acceptedMediaTypes,
	}, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("reading the answer to BatchGetImage: %w", err)
	}
	if len(got.Images) == 0 {
		code, reason := "ImageNotFound", "Requested image not found"
		if len(got.Failures) > 0 {
			code, reason = got.Failures[0].FailureCode, got.Failures[0].FailureReason
		}
		return &serviceError{Code: code, Message: reason, Operation: "BatchGetImage"}
	}
	img := got.Images[0]
	return m.putTags(ctx, c, repo, img.ImageManifest, img.ImageManifestMediaType, img.ImageID.ImageDigest, a.pos[1:])
}

// putTags puts the manifest under each tag (PutImage, of either API) and
// prints REPO:TAG DIGEST for each.
func (m *Main) putTags(ctx context.Context, c *api, repo, manifest, mediaType, digest string, tags []string) error {
	for _, tag := range tags {
		in := map[string]any{"repositoryName": repo, "imageManifest": manifest, "imageTag": tag}
		if mediaType != "" {
			in["imageManifestMediaType"] = mediaType
		}
		var put struct {
			Image struct {
				ImageID struct {
					ImageDigest string `json:"imageDigest"`
				} `json:"imageId"`
			} `json:"image"`
		}
		d := digest
		if _, err := c.call(ctx, "PutImage", in, &put); err != nil {
			var s *serviceError
			// The same manifest under the same tag: already done.
			if !errors.As(err, &s) || s.Code != "ImageAlreadyExistsException" {
				return err
			}
		} else if put.Image.ImageID.ImageDigest != "" {
			d = put.Image.ImageID.ImageDigest
		}
		fmt.Fprintf(m.Stdout, "%s:%s %s\n", repo, tag, d)
	}
	return nil
}

// retagPublic retags in ECR Public, which has no BatchGetImage: the
// manifest is read from the public registry endpoint, as anyone may pull
// it (no token: a user who may put an image need not be allowed
// sts:GetServiceBearerToken), with every manifest type accepted so it
// comes back as it was pushed, and put again byte for byte with its media
// type (Content-Type), which PutImage needs for a manifest without a
// mediaType member.
func (m *Main) retagPublic(ctx context.Context, a *verbArgs, repo string, id map[string]any) error {
	c, err := m.api("ecr-public", a)
	if err != nil {
		return err
	}
	// The repository's URI names the endpoint: host/alias/repository.
	var repos struct {
		Repositories []struct {
			RepositoryURI string `json:"repositoryUri"`
		} `json:"repositories"`
	}
	if _, err := c.call(ctx, "DescribeRepositories", map[string]any{"repositoryNames": []any{repo}}, &repos); err != nil {
		return err
	}
	if len(repos.Repositories) == 0 || repos.Repositories[0].RepositoryURI == "" {
		return fmt.Errorf("the public repository %s has no repositoryUri: no public registry endpoint serves its images (berth serve --public-addr)", repo)
	}
	src := repos.Repositories[0].RepositoryURI
	if d, ok := id["imageDigest"].(string); ok {
		src += "@" + d
	} else {
		src += ":" + id["imageTag"].(string)
	}
	var nameOpts []name.Option
	if a.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(src, nameOpts...)
	if err != nil {
		return fmt.Errorf("the repository's URI %s: %v", src, err)
	}
	rt, err := m.registryTransport()
	if err != nil {
		return err
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithTransport(rt), remote.WithAuth(authn.Anonymous))
	if err != nil {
		return fmt.Errorf("reading %s: %v", ref, err)
	}
	return m.putTags(ctx, c, repo, string(desc.Manifest), string(desc.MediaType), desc.Digest.String(), a.pos[1:])
}

// ---- ls ----

func (m *Main) ls(ctx context.Context, a *verbArgs) error {
	if len(a.pos) > 1 {
		return usagef("Unknown options: %s", strings.Join(a.pos[1:], " "))
	}
	c, err := m.api(verbService(a), a)
	if err != nil {
		return err
	}
	op, listKey, input := "DescribeRepositories", "repositories", map[string]any{}
	if len(a.pos) == 1 {
		op, listKey, input = "DescribeImages", "imageDetails", map[string]any{"repositoryName": a.pos[0]}
	}
	items, err := c.all(ctx, op, input, listKey)
	if err != nil {
		return err
	}
	if a.output == "json" {
		// As the AWS CLI prints a paginated answer: every page's
		// elements in one list, no nextToken.
		body, err := json.Marshal(map[string]any{listKey: items})
		if err != nil {
			return err
		}
		return printOutput(m.Stdout, c.svc, c.svc.model.Operations[op], body, "json", "")
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	if op == "DescribeRepositories" {
		writeRepositories(tw, items)
	} else {
		writeImages(tw, items)
	}
	return tw.Flush()
}

// writeRepositories prints NAME URI CREATED, by name.
func writeRepositories(w io.Writer, items []any) {
	slices.SortFunc(items, func(x, y any) int { return strings.Compare(field(x, "repositoryName"), field(y, "repositoryName")) })
	fmt.Fprintln(w, "NAME\tURI\tCREATED")
	for _, r := range items {
		fmt.Fprintf(w, "%s\t%s\t%s\n", field(r, "repositoryName"), field(r, "repositoryUri"), when(r, "createdAt"))
	}
}

// writeImages prints DIGEST TAGS SIZE PUSHED, the latest pushed first.
func writeImages(w io.Writer, items []any) {
	slices.SortFunc(items, func(x, y any) int {
		if c := strings.Compare(when(y, "imagePushedAt"), when(x, "imagePushedAt")); c != 0 {
			return c
		}
		return strings.Compare(field(x, "imageDigest"), field(y, "imageDigest"))
	})
	fmt.Fprintln(w, "DIGEST\tTAGS\tSIZE\tPUSHED")
	for _, im := range items {
		var tags []string
		if m, ok := im.(map[string]any); ok {
			l, _ := m["imageTags"].([]any)
			for _, t := range l {
				if s, ok := t.(string); ok {
					tags = append(tags, s)
				}
			}
		}
		slices.Sort(tags)
		tagList := strings.Join(tags, ",")
		if tagList == "" {
			tagList = "<none>"
		}
		size := "-"
		if n, ok := number(im, "imageSizeInBytes"); ok {
			size = humanSize(int64(n))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", field(im, "imageDigest"), tagList, size, when(im, "imagePushedAt"))
	}
}

// field is a string member of a decoded object, or "".
func field(v any, k string) string {
	m, _ := v.(map[string]any)
	s, _ := m[k].(string)
	return s
}

// number is a numeric member of a decoded object.
func number(v any, k string) (float64, bool) {
	m, _ := v.(map[string]any)
	switch n := m[k].(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// when is a timestamp member (epoch seconds) in RFC 3339, UTC, or "-".
func when(v any, k string) string {
	f, ok := number(v, k)
	if !ok {
		return "-"
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Format(time.RFC3339)
}

// humanSize spells a size in decimal units, as docker does: 56B, 1.23kB,
// 45.7MB.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

// ---- login ----

func (m *Main) login(ctx context.Context, a *verbArgs) error {
	if len(a.pos) > 0 {
		return usagef("Unknown options: %s", strings.Join(a.pos, " "))
	}
	c, err := m.api(verbService(a), a)
	if err != nil {
		return err
	}
	user, password, endpoint, err := c.token(ctx)
	if err != nil {
		return err
	}
	if a.print {
		fmt.Fprintln(m.Stdout, password)
		return nil
	}
	host := registryHost(a.registry)
	if host == "" && a.public {
		if host, err = c.publicHost(ctx); err != nil {
			return err
		}
	}
	if host == "" {
		host = registryHost(endpoint)
	}
	if host == "" {
		return fmt.Errorf("GetAuthorizationToken answered no proxyEndpoint; name the registry with --registry HOST")
	}
	path := dockerConfigPath(m.getenv)
	warning, err := writeDockerAuth(path, host, user, password)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(m.Stderr, warning)
	}
	fmt.Fprintln(m.Stdout, "Login Succeeded")
	return nil
}

// publicHost is the public registry endpoint's host: DescribeRegistries'
// registryUri is host/alias (public.ecr.aws/alias on AWS), or the alias
// alone when nothing serves the registry's images.
func (c *api) publicHost(ctx context.Context) (string, error) {
	var out struct {
		Registries []struct {
			RegistryURI string `json:"registryUri"`
		} `json:"registries"`
	}
	if _, err := c.call(ctx, "DescribeRegistries", nil, &out); err != nil {
		return "", err
	}
	if len(out.Registries) > 0 {
		if host, _, ok := strings.Cut(out.Registries[0].RegistryURI, "/"); ok && host != "" {
			return host, nil
		}
	}
	return "", fmt.Errorf("DescribeRegistries names no public registry endpoint (no host in its registryUri); name it with --registry HOST")
}

// authorizationData is one token of GetAuthorizationToken.
type authorizationData struct {
	AuthorizationToken string `json:"authorizationToken"`
	ProxyEndpoint      string `json:"proxyEndpoint"`
}

// token gets an authorization token: its user (AWS), password and the
// registry's proxyEndpoint. ECR answers a list of tokens; ECR Public one,
// without a proxyEndpoint.
func (c *api) token(ctx context.Context) (user, password, endpoint string, err error) {
	var d authorizationData
	if c.svc.name == "ecr-public" {
		var out struct {
			AuthorizationData *authorizationData `json:"authorizationData"`
		}
		if _, err := c.call(ctx, "GetAuthorizationToken", nil, &out); err != nil {
			return "", "", "", err
		}
		if out.AuthorizationData == nil {
			return "", "", "", fmt.Errorf("the answer to GetAuthorizationToken has no authorizationData")
		}
		d = *out.AuthorizationData
	} else {
		var out struct {
			AuthorizationData []authorizationData `json:"authorizationData"`
		}
		if _, err := c.call(ctx, "GetAuthorizationToken", nil, &out); err != nil {
			return "", "", "", err
		}
		if len(out.AuthorizationData) == 0 {
			return "", "", "", fmt.Errorf("the answer to GetAuthorizationToken has no authorizationData")
		}
		d = out.AuthorizationData[0]
	}
	raw, err := base64.StdEncoding.DecodeString(d.AuthorizationToken)
	if err != nil {
		return "", "", "", fmt.Errorf("the authorization token is not base64: %v", err)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", "", fmt.Errorf("the authorization token is not user:password")
	}
	return user, password, d.ProxyEndpoint, nil
}

// registryHost is the host[:port] of a registry named by a URL or a host.
func registryHost(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}

// dockerConfigPath is $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json.
func dockerConfigPath(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".docker", "config.json")
}

// writeDockerAuth sets the auths entry for host in the docker config at
// path, keeping everything else, and writes it (mode 0600) by renaming a
// new file into place. It returns a warning when docker would look for
// the host's credentials elsewhere first.
func writeDockerAuth(path, host, user, password string) (string, error) {
	cfg := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil && len(strings.TrimSpace(string(data))) > 0:
		if err := json.Unmarshal(data, &cfg); err != nil {
			return "", fmt.Errorf("reading %s: %v", path, err)
		}
		if cfg == nil {
			cfg = map[string]json.RawMessage{}
		}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := cfg["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return "", fmt.Errorf("reading %s: auths: %v", path, err)
		}
		if auths == nil {
			auths = map[string]json.RawMessage{}
		}
	}
	entry, _ := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))})
	auths[host] = entry
	cfg["auths"], _ = json.Marshal(auths)
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".config.json.*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	var helpers map[string]string
	json.Unmarshal(cfg["credHelpers"], &helpers)
	var store string
	json.Unmarshal(cfg["credsStore"], &store)
	switch {
	case helpers[host] != "":
		return fmt.Sprintf("WARNING! %s names the credential helper %q for %s, which docker asks instead of auths.", path, helpers[host], host), nil
	case store != "":
		return fmt.Sprintf("WARNING! %s names the credential store %q, which docker asks instead of auths.", path, store), nil
	}
	return "", nil
}
