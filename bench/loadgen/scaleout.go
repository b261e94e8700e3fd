package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth/blob/s3"
	"github.com/berth-registry/berth/meta/postgres/pgtest"
)

// scaleOut is bench/run --scaleout: manifest figures with berth on
// PostgreSQL + S3 (MinIO), side by side in one run with an earlier berth
// binary on the same services (-before: the figures before a change) and
// with Distribution on the same MinIO (-peer-s3), each on a store of its
// own. Every answer that is not a success is counted: a registry that
// loses pushes under contention shows it here.
type scaleOut struct {
	o       options
	targets []*target
	cleanup []func()
	r       *report
}

// scale-out figure sizes: the contention the issue names (1,000 manifest
// PUTs into one repository, 32 at a time), and 64 MiB blobs.
type scaleSizes struct{ c1, c32, gets, blob, blobs, tags, peerLists int }

// berth runs as two replicas on the same stores, as a team that outgrew
// one machine runs it; Distribution runs as one process (it keeps nothing
// but the bucket, so a second would add only CPU, which on two cores both
// share with the load generator).
const scaleReplicas = 2

func runScaleOut(o options) error {
	sz := scaleSizes{c1: 400, c32: 1000, gets: 10000, blob: 64 * mib, blobs: 4, tags: 1000, peerLists: 256}
	if o.quick {
		sz = scaleSizes{c1: 20, c32: 64, gets: 64, blob: mib, blobs: 1, tags: 20, peerLists: 32}
	}
	initPool(sz.blob)
	if !o.embedded && (o.postgres == "" || o.s3 == "") {
		return fmt.Errorf("--scaleout needs -postgres and -s3 (bench/run sets them from scripts/services)")
	}
	work, err := os.MkdirTemp("", "berth-bench-scaleout")
	if err != nil {
		return err
	}
	so := &scaleOut{o: o, r: &report{}}
	defer func() {
		for _, t := range so.targets {
			t.stop()
		}
		for _, c := range so.cleanup {
			c()
		}
		os.RemoveAll(work)
	}()
	run := time.Now().Unix()
	berths := []struct{ name, bin string }{{"berth", o.berth}}
	if o.before != "" {
		berths = append(berths, struct{ name, bin string }{"berth before", o.before})
	}
	for i, b := range berths {
		t, err := so.startBerth(b.name, b.bin, filepath.Join(work, fmt.Sprint("berth", i)), fmt.Sprintf("bench-%d-berth%d", run, i))
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		so.targets = append(so.targets, t)
	}
	if o.peerS3 != "" && !o.embedded {
		driver, err := distributionS3(o.s3, fmt.Sprintf("bench-%d-distribution", run))
		if err != nil {
			return err
		}
		t, err := startDistributionWith(o.peerS3, filepath.Join(work, "distribution"), driver)
		if err != nil {
			return err
		}
		so.targets = append(so.targets, t)
		// The same bucket and prefix served without redirects.
		if t.direct, err = startDistributionWith(o.peerS3, filepath.Join(work, "distribution-direct"), driver+"  redirect:\n    disable: true\n"); err != nil {
			return err
		}
	}
	const repo, tagRepo = "bench/app", "bench/tags"
	imgs := map[string]smallImage{}
	for _, t := range so.targets {
		img, err := prepareImage(t, repo)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		imgs[t.name] = img
		// A repository of its own with a known number of tags for the
		// tags list, which the PUT figures do not grow.
		tagImg, err := prepareImage(t, tagRepo)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if _, _, err := load(sz.tags, 8, func(i int) error {
			return t.putManifest(tagRepo, fmt.Sprintf("t%05d", i), tagImg.manifest(i))
		}); err != nil {
			return fmt.Errorf("%s: %d tags: %w", t.name, sz.tags, err)
		}
	}
	mb := sz.blob / mib
	for round := 0; round < o.rounds; round++ {
		log.Printf("scale-out round %d of %d", round+1, o.rounds)
		for k := range so.targets {
			t := so.targets[(k+round)%len(so.targets)]
			img := imgs[t.name]
			if err := so.blobFigures(t, repo, sz, mb); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			for _, c := range []struct{ n, conc int }{{sz.c1, 1}, {sz.c32, 32}} {
				base := int(manifestSeq.Add(int64(c.n))) - c.n
				for i := 0; i < c.n && len(t.tags) < 100; i++ {
					t.tags = append(t.tags, fmt.Sprintf("m%d", base+i))
				}
				so.figure(t, fmt.Sprintf("Manifest PUT, %d distinct tags, c=%d", c.n, c.conc), c.n, c.conc, func(i int) error {
					return t.putManifest(repo, fmt.Sprintf("m%d", base+i), img.manifest(base+i))
				})
			}
			base := int(manifestSeq.Add(int64(sz.c32))) - sz.c32
			so.figure(t, fmt.Sprintf("Manifest PUT, %d manifests on one tag, c=32", sz.c32), sz.c32, 32, func(i int) error {
				return t.putManifest(repo, "shared", img.manifest(base+i))
			})
			so.figure(t, "Manifest GET by tag, c=32", sz.gets, 32, func(i int) error {
				return t.getManifest(repo, t.tags[i%len(t.tags)])
			})
			// Distribution lists the bucket for each answer: it gets fewer
			// requests, or its figures alone would take minutes.
			lists := sz.gets / 4
			if t.name == "distribution" {
				lists = sz.peerLists
			}
			so.figure(t, fmt.Sprintf("Tags list, first page of 100 of %d tags, c=32", sz.tags), lists, 32, func(i int) error {
				return t.tagsPage(tagRepo, 100, "")
			})
			so.figure(t, fmt.Sprintf("Tags list, all %d tags in one answer, c=32", sz.tags), lists/2, 32, func(i int) error {
				return t.tagsPage(tagRepo, sz.tags, "")
			})
			if t.name == "distribution" {
				continue
			}
			var clients []*ecr.Client
			for _, p := range t.processes() {
				clients = append(clients, ecrClient(p))
			}
			base = int(manifestSeq.Add(int64(sz.c32))) - sz.c32
			so.figure(t, fmt.Sprintf("ECR PutImage, %d distinct tags, c=32", sz.c32), sz.c32, 32, func(i int) error {
				m := string(img.manifest(base + i))
				_, err := clients[i%len(clients)].PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: &m, ImageTag: aws.String(fmt.Sprintf("e%d", base+i))})
				return err
			})
			so.figure(t, "ECR BatchGetImage, c=32", sz.gets, 32, func(i int) error {
				_, err := clients[i%len(clients)].BatchGetImage(context.Background(), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
					ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(t.tags[i%len(t.tags)])}}})
				return err
			})
		}
	}
	if err := so.write(); err != nil {
		return err
	}
	// berth must answer every valid push: a failure fails the run (and the
	// smoke test the test command runs).
	for _, f := range so.r.order {
		if n := sum(so.r.data[f]["berth"]); so.r.units[f] == "count" && n > 0 {
			return fmt.Errorf("berth: %s: %.0f", f, n)
		}
	}
	return nil
}

// startBerth runs berth as scaleReplicas processes on one database and
// one prefix of the bucket (blob GETs redirected to presigned URLs, the
// default), and as many more on the same stores with redirect=false for
// the pulls through the registry. On -embedded it is one process.
func (so *scaleOut) startBerth(name, bin, dir, prefix string) (*target, error) {
	if so.o.embedded {
		return startBerthAs(name, bin, dir)
	}
	dsn, drop, err := pgtest.Create(so.o.postgres)
	if err != nil {
		return nil, err
	}
	so.cleanup = append(so.cleanup, drop)
	blobs, err := s3Prefix(so.o.s3, prefix)
	if err != nil {
		return nil, err
	}
	c, err := s3.ParseURL(blobs)
	if err != nil {
		return nil, err
	}
	if err := s3.CreateBucket(context.Background(), c); err != nil {
		return nil, err
	}
	group := func(suffix, blobs string) (*target, error) {
		var first *target
		for r := 0; r < scaleReplicas; r++ {
			t, err := startBerthAs(name, bin, filepath.Join(dir, fmt.Sprintf("%s%d", suffix, r)), "--metadata", dsn, "--blobs", blobs)
			if err != nil {
				if first != nil {
					first.stop()
				}
				return nil, err
			}
			if first == nil {
				first = t
			} else {
				first.replicas = append(first.replicas, t)
			}
		}
		return first, nil
	}
	t, err := group("redirect", blobs)
	if err != nil {
		return nil, err
	}
	if t.direct, err = group("direct", withQuery(blobs, "redirect", "false")); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// blobFigures pushes sz.blobs blobs of sz.blob bytes (alternating
// replicas between an upload's steps, as a load balancer would), then
// pulls each pullRepeats times with redirects to presigned URLs and as
// often through the registry, and measures the redirect answers alone.
func (so *scaleOut) blobFigures(t *target, repo string, sz scaleSizes, mb int) error {
	mbps, blobs, err := pushFigure(t, repo, sz.blob, sz.blobs, 0)
	if err != nil {
		return err
	}
	so.r.add(fmt.Sprintf("Blob push, %d MiB, monolithic", mb), "MB/s", t.name, mbps)
	for _, p := range []struct {
		t    *target
		name string
	}{{t, "redirected to a presigned URL"}, {t.direct, "through the registry (redirect off)"}} {
		if p.t == nil {
			continue
		}
		if t.direct == nil { // the embedded default: no redirects
			p.name = "one stream"
		}
		mbps, err := throughput(int64(sz.blob*len(blobs)*pullRepeats), func() error {
			for k := 0; k < len(blobs)*pullRepeats; k++ {
				b := blobs[k%len(blobs)]
				n, err := p.t.pull(repo, b.digest)
				if err == nil && n != int64(len(b.data)) {
					err = fmt.Errorf("pulled %d of %d bytes", n, len(b.data))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("pull %s: %w", p.name, err)
		}
		so.r.add(fmt.Sprintf("Blob pull, %d MiB, %s", mb, p.name), "MB/s", t.name, mbps)
	}
	if t.direct != nil {
		// What a redirect costs the registry: the answer, not followed.
		so.figure(t, "Blob GET answered with a redirect (not followed), c=32", sz.gets/4, 32, func(i int) error {
			return t.redirectAnswer(repo, blobs[i%len(blobs)].digest)
		})
	}
	return nil
}

// pullRepeats is how many times each pushed blob is pulled per figure.
const pullRepeats = 4

// redirectAnswer asks for a blob and expects a redirect, which it does
// not follow.
func (t *target) redirectAnswer(repo, digest string) error {
	req, err := http.NewRequest("GET", t.base()+"/v2/"+repo+"/blobs/"+digest, nil)
	if err != nil {
		return err
	}
	if t.user != "" {
		req.SetBasicAuth(t.user, t.password)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return err
	}
	drain(resp)
	if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("get blob: status %d, want a redirect", resp.StatusCode)
	}
	return nil
}

var noRedirects = &http.Client{Transport: httpClient.Transport,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// figure measures one load on t: its rate, p99 and failed answers.
func (so *scaleOut) figure(t *target, name string, n, c int, op func(i int) error) {
	ops, p99, failed, err := loadAll(n, c, op)
	if err != nil {
		log.Printf("%s: %s: %d of %d failed, the first: %v", t.name, name, failed, n, err)
	}
	so.r.add(name, "req/s", t.name, ops)
	so.r.add(name+", p99", "ms", t.name, p99)
	so.r.add(name+", failed answers", "count", t.name, float64(failed))
}

// s3Prefix is the -s3 URL with its prefix replaced.
func s3Prefix(raw, prefix string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path = "/" + prefix
	return u.String(), nil
}

// distributionS3 is Distribution's S3 driver section for the bucket of the
// -s3 URL, under prefix, with the credentials of the environment.
func distributionS3(raw, prefix string) (string, error) {
	c, err := s3.ParseURL(raw)
	if err != nil {
		return "", err
	}
	if err := s3.CreateBucket(context.Background(), c); err != nil {
		return "", err
	}
	secure := strings.HasPrefix(c.Endpoint, "https://")
	return fmt.Sprintf(`  s3:
    accesskey: %s
    secretkey: %s
    region: %s
    regionendpoint: %s
    forcepathstyle: true
    bucket: %s
    rootdirectory: /%s
    secure: %v
`, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), c.Region, c.Endpoint, c.Bucket, prefix, secure), nil
}

// write writes the scale-out report.
func (so *scaleOut) write() error {
	var names []string
	for _, t := range so.targets {
		names = append(names, t.name)
	}
	var b strings.Builder
	if so.o.embedded {
		fmt.Fprintf(&b, "# berth builds side by side\n\n")
	} else {
		fmt.Fprintf(&b, "# berth scale-out benchmark results\n\n")
	}
	if so.o.quick {
		fmt.Fprintf(&b, "**Quick smoke run (small sizes, one round): proves the benchmark works; the figures mean nothing.**\n\n")
	}
	fmt.Fprintf(&b, "Run %s on %s. %d alternating round(s) per figure; median, then min–max.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine(), so.o.rounds)
	if so.o.embedded {
		fmt.Fprintf(&b, "berth: on its embedded default (SQLite WAL synchronous=FULL, filesystem blobs), Basic auth on. ")
	} else {
		fmt.Fprintf(&b, "berth: %d replicas on one PostgreSQL database (the machine's cluster) and one S3 prefix (MinIO on loopback), requests alternating between them, Basic auth on; "+
			"pulls \"through the registry\" go to %d more replicas on the same stores with `redirect=false`. ", scaleReplicas, scaleReplicas)
	}
	if so.o.before != "" {
		label := so.o.beforeLabel
		if label == "" {
			label = "the binary `" + so.o.before + "`"
		}
		where := "on its own database and prefix"
		if so.o.embedded {
			where = "in its own data directory"
		}
		fmt.Fprintf(&b, "berth before: %s, the same way, %s. ", label, where)
	}
	if so.o.peerS3 != "" {
		fmt.Fprintf(&b, "Peer: CNCF Distribution (`%s`), one process, on the same MinIO, its own prefix, no auth, redirecting blob GETs to presigned URLs (its default); "+
			"pulls \"through the registry\" go to a second process on the same prefix with `redirect: disable: true`. ", so.o.peerS3)
	}
	fmt.Fprintf(&b, "Blobs are pushed monolithically (POST, then PUT of the whole blob) one at a time, then each pulled once; MB/s counts the blob bytes. "+
		"Each manifest PUT is a distinct OCI image manifest over the same two blobs, into one repository; the tags lists read a repository of their own with a fixed set of tags. "+
		"\"failed answers\" counts every answer that was not a success.\n\n")
	fmt.Fprintf(&b, "| figure | unit | %s |", strings.Join(names, " | "))
	for _, n := range names[1:] {
		fmt.Fprintf(&b, " berth/%s |", n)
	}
	fmt.Fprintf(&b, "\n|---|---|%s\n", strings.Repeat("---|", 2*len(names)-1))
	for _, f := range so.r.order {
		d := so.r.data[f]
		fmt.Fprintf(&b, "| %s | %s |", f, so.r.units[f])
		for _, n := range names {
			if so.r.units[f] == "count" {
				fmt.Fprintf(&b, " %.0f in all |", sum(d[n]))
				continue
			}
			fmt.Fprintf(&b, " %s (%s) |", num(median(d[n])), span(d[n]))
		}
		for _, n := range names[1:] {
			if so.r.units[f] == "count" || median(d[n]) == 0 {
				b.WriteString(" |")
				continue
			}
			fmt.Fprintf(&b, " %.2f |", median(d["berth"])/median(d[n]))
		}
		b.WriteString("\n")
	}
	// A figure where berth is behind the peer: say whether the rounds
	// tell them apart at all.
	var behind []string
	for _, f := range so.r.order {
		u, d := so.r.units[f], so.r.data[f]
		bv, pv := d["berth"], d["distribution"]
		if (u != "MB/s" && u != "req/s") || len(bv) == 0 || len(pv) == 0 || median(bv) >= median(pv) {
			continue
		}
		line := fmt.Sprintf("- **%s**: berth %s %s (%s), the peer %s (%s): ", f, num(median(bv)), u, span(bv), num(median(pv)), span(pv))
		if slices.Max(bv) >= slices.Min(pv) && slices.Max(pv) >= slices.Min(bv) {
			line += "the rounds' ranges overlap, so this run does not tell the two apart; everything (MinIO, PostgreSQL, both registries, the load generator) shares the same two cores."
		} else {
			line += "behind in every round."
		}
		behind = append(behind, line)
	}
	if len(behind) > 0 {
		fmt.Fprintf(&b, "\nWhere berth is behind the peer:\n\n%s\n", strings.Join(behind, "\n"))
	}
	if so.o.embedded {
		fmt.Fprintf(&b, "\nReproduce with `bench/run --embedded --before-ref <commit>` (about 3 minutes).\n")
	} else {
		fmt.Fprintf(&b, "\nReproduce with `bench/run --scaleout` (about 5 minutes; `--before-ref <commit>` adds berth built at that commit).\n")
	}
	if err := os.WriteFile(so.o.out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	return nil
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}
