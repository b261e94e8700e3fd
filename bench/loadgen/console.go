package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// The console benchmark: what the console's pages cost the server with
// many repositories and many images, one request at a time (c=1), each
// page beside the ECR API call that lists the same page.

type consoleOptions struct {
	berth, out      string
	repos, images   int
	samples, pageSz int
}

// consoleTarget is berth with a signed-in console session.
type consoleTarget struct {
	t *target
	c *http.Client
}

var (
	tokenRE  = regexp.MustCompile(`name="token" value="([^"]+)"`)
	nextRE   = regexp.MustCompile(`rel="next" href="([^"]+)"`)
	digestRE = regexp.MustCompile(`href="(/ui/image\?[^"]+)"`)
)

func signInConsole(t *target) (*consoleTarget, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: httpClient.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(t.url + "/ui/sign-in")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := tokenRE.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("console: no sign-in form (is the console on?)")
	}
	resp, err = c.PostForm(t.url+"/ui/sign-in", url.Values{"token": {string(m[1])}, "accessKeyId": {t.user}, "secretAccessKey": {t.password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("console sign-in: %s", resp.Status)
	}
	return &consoleTarget{t: t, c: c}, nil
}

// page fetches a console page: its body, the server's own time for it
// (Server-Timing) and the time the client waited, in milliseconds.
func (ct *consoleTarget) page(path string) (string, float64, float64, error) {
	start := time.Now()
	resp, err := ct.c.Get(ct.t.url + path)
	if err != nil {
		return "", 0, 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	client := float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		return "", 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, 0, fmt.Errorf("%s: %s", path, resp.Status)
	}
	var server float64
	if _, dur, ok := strings.Cut(resp.Header.Get("Server-Timing"), "dur="); ok {
		server, _ = strconv.ParseFloat(dur, 64)
	}
	return html.UnescapeString(string(b)), server, client, nil
}

// timing is the milliseconds of n samples of one request.
type timing struct{ server, client []float64 }

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func sample(n int, fn func() (float64, float64, error)) (timing, error) {
	var t timing
	for range n {
		server, client, err := fn()
		if err != nil {
			return t, err
		}
		t.server, t.client = append(t.server, server), append(t.client, client)
	}
	return t, nil
}

func runConsole(o consoleOptions) error {
	dir, err := os.MkdirTemp("", "berth-consolebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	initPool(1 << 20)
	t, err := startBerthAs("berth", o.berth, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer t.stop()
	ctx := context.Background()
	api := ecrClient(t)
	fmt.Fprintf(os.Stderr, "== console: creating %d repositories\n", o.repos)
	if _, _, err := load(o.repos, 32, func(i int) error {
		_, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(fmt.Sprintf("team%02d/app%05d", i%100, i))})
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "== console: pushing %d images to one repository\n", o.images)
	const big = "big/images"
	img, err := prepareImage(t, big)
	if err != nil {
		return err
	}
	if _, _, err := manifestPutFigure(t, big, img, o.images, 32); err != nil {
		return err
	}
	ct, err := signInConsole(t)
	if err != nil {
		return err
	}
	// The pages, and the ECR call that lists the same rows.
	get := func(path string) func() (float64, float64, error) {
		return func() (float64, float64, error) { _, s, c, err := ct.page(path); return s, c, err }
	}
	body, _, _, err := ct.page("/ui/repository?name=" + url.QueryEscape(big))
	if err != nil {
		return err
	}
	later, image := "", ""
	if m := nextRE.FindStringSubmatch(body); m != nil {
		later = m[1]
	}
	if m := digestRE.FindStringSubmatch(body); m != nil {
		image = m[1]
	}
	if later == "" || image == "" {
		return fmt.Errorf("the repository page has no next page or no image link")
	}
	n := int32(o.pageSz)
	apiCall := func(fn func() error) func() (float64, float64, error) {
		return func() (float64, float64, error) {
			start := time.Now()
			err := fn()
			return 0, float64(time.Since(start).Microseconds()) / 1000, err
		}
	}
	rows := []struct {
		name string
		fn   func() (float64, float64, error)
	}{
		{fmt.Sprintf("repositories, first page (of %d)", o.repos+1), get("/ui/repositories")},
		{"repositories, prefix search (team42/)", get("/ui/repositories?prefix=team42/")},
		{fmt.Sprintf("repository, first page (of %d images)", o.images), get("/ui/repository?name=" + url.QueryEscape(big))},
		{"repository, second page", get(later)},
		{"image", get(image)},
		{"storage, first page", get("/ui/storage")},
		{"API: DescribeRepositories, maxResults 50", apiCall(func() error {
			_, err := api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: &n})
			return err
		})},
		{"API: DescribeImages, maxResults 50", apiCall(func() error {
			_, err := api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(big), MaxResults: &n})
			return err
		})},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# berth console benchmark\n\n")
	fmt.Fprintf(&b, "`bench/run --console` (this file), %s, %s. One berth on the embedded default with %d repositories\n", time.Now().UTC().Format("2006-01-02"), machine(), o.repos+1)
	fmt.Fprintf(&b, "and %d images in one of them; each page requested %d times, one at a time (c=1), signed in as the root.\n", o.images, o.samples)
	fmt.Fprintf(&b, "Server time is the page's own `Server-Timing` (session check, authorization, store reads, rendering);\n")
	fmt.Fprintf(&b, "client time adds HTTP on loopback. The ECR API rows list the same 50 rows through aws-sdk-go-v2 (client time, SigV4 included).\n\n")
	fmt.Fprintf(&b, "| page | server median (ms) | server p95 (ms) | client median (ms) | target |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		// A warm-up request, as a person's second look at a page.
		if _, _, err := r.fn(); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		tm, err := sample(o.samples, r.fn)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		target, server, p95 := "< 50 ms (server)", num(pct(tm.server, 0.5)), num(pct(tm.server, 0.95))
		if strings.HasPrefix(r.name, "API") {
			target, server, p95 = "", "", ""
		} else if pct(tm.server, 0.5) >= 50 {
			target += " **not met**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.name, server, p95, num(pct(tm.client, 0.5)), target)
	}
	return publish(b.String(), o.out)
}
