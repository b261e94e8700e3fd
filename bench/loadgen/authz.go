package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The authorization benchmark: what deciding every request costs. Two
// berths side by side, the same build: one with only its root credential
// (the cheapest decision: the root of the registry's account, no policy to
// read), one with 1,000 users and 1,000 managed policies in its store,
// measured as a user whose access comes from an AWS managed policy, an
// inline policy with a condition, and a repository policy with another.

type authzOptions struct {
	berth, out string
	rounds     int
	users      int
	gets, puts int
}

const authzRepo = "app/bench"

// seedIAM fills a berth with n users, each with a managed policy of its
// own attached, and makes the benchmark's user; it returns that user's key.
func seedIAM(t *target, n int) (id, secret string, err error) {
	c := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(benchKey, benchSecret, ""),
		HTTPClient: httpClient, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}, func(o *iam.Options) { o.BaseEndpoint = aws.String(t.url) })
	ctx := context.Background()
	_, _, err = load(n, 8, func(i int) error {
		name := fmt.Sprintf("user%04d", i)
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: &name}); err != nil {
			return err
		}
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:us-east-1:000000000000:repository/team%04d/*"}]}`, i)
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pull-team%04d", i)), PolicyDocument: &doc})
		if err != nil {
			return err
		}
		_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &name, PolicyArn: p.Policy.Arn})
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("seeding IAM: %w", err)
	}
	ci := aws.String("ci")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: ci}); err != nil {
		return "", "", err
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: ci, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")}); err != nil {
		return "", "", err
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: ci, PolicyName: aws.String("not-from-there"), PolicyDocument: &inline}); err != nil {
		return "", "", err
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: ci})
	if err != nil {
		return "", "", err
	}
	repoPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository","Resource":"*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}}]}`
	if _, err := ecrClient(t).SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(authzRepo), PolicyText: &repoPolicy}); err != nil {
		return "", "", err
	}
	return *k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, nil
}

// runAuthz measures manifest GET, blob GET and PutImage at 32 clients on
// both berths in alternating rounds and writes bench/RESULTS-authz.md.
func runAuthz(o authzOptions) error {
	dir, err := os.MkdirTemp("", "berth-authzbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	initPool(1 << 20)
	// BERTH_BENCH_PPROF=1 serves each berth's profiles, root's on
	// 127.0.0.1:6061 and the other's on :6062, to see where time goes.
	prof := func(port string) []string {
		if os.Getenv("BERTH_BENCH_PPROF") == "" {
			return nil
		}
		return []string{"--pprof", "127.0.0.1:" + port}
	}
	root, err := startBerthAs("root only", o.berth, filepath.Join(dir, "root"), prof("6061")...)
	if err != nil {
		return err
	}
	defer root.stop()
	users, err := startBerthAs("1,000 users", o.berth, filepath.Join(dir, "users"), prof("6062")...)
	if err != nil {
		return err
	}
	defer users.stop()
	r := &report{units: map[string]string{}, data: map[string]map[string][]float64{}}
	img := smallImage{config: newBlob(512), layer: newBlob(4096)}
	for _, t := range []*target{root, users} {
		if _, err := ecrClient(t).CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(authzRepo)}); err != nil {
			return err
		}
		if img, err = prepareImageIn(t, authzRepo, img); err != nil {
			return err
		}
		if _, _, err := manifestPutFigure(t, authzRepo, img, 100, 8); err != nil {
			return err
		}
	}
	start := time.Now()
	id, secret, err := seedIAM(users, o.users)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "authz bench: %d users and %d managed policies made in %s\n", o.users, o.users, time.Since(start).Round(time.Second))
	users.user, users.password = id, secret

	figures := []pairFigure{
		{"manifest GET, c=32 (ops/s)", func(t *target) (float64, error) {
			ops, _, err := manifestGetFigure(t, authzRepo, t.tags, o.gets, 32)
			return ops, err
		}},
		{"blob GET (4 KiB), c=32 (ops/s)", func(t *target) (float64, error) {
			ops, _, err := load(o.gets, 32, func(int) error { _, err := t.pull(authzRepo, img.layer.digest); return err })
			return ops, err
		}},
		{"PutImage (ECR API), c=32 (ops/s)", func(t *target) (float64, error) {
			ops, _, err := ecrPutFigure(t, authzRepo, img, o.puts, 32)
			return ops, err
		}},
	}
	if err := alternate(r, figures, root, users, o.rounds); err != nil {
		return err
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# berth authorization benchmark\n\n")
	fmt.Fprintf(&b, "`bench/run --authz` (this file), %s, %s. Two berths of the same build side by side on the\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&b, "embedded default (durable commits), %d alternating rounds, medians (ranges in brackets):\n\n", o.rounds)
	fmt.Fprintf(&b, "- **root only**: requests signed with the root credential, the store holding no user or policy;\n")
	fmt.Fprintf(&b, "- **1,000 users**: %d users with %d customer managed policies attached in the store, requests as user `ci`,\n", o.users, o.users)
	fmt.Fprintf(&b, "  allowed by the AWS managed `AmazonEC2ContainerRegistryPowerUser`, beside an inline deny with two\n")
	fmt.Fprintf(&b, "  conditions and a repository policy of two deny statements (one with a condition) — every request\n")
	fmt.Fprintf(&b, "  decided over four statements and three conditions. /v2/ requests authenticate with HTTP Basic\n")
	fmt.Fprintf(&b, "  (the access key), the ECR API with SigV4.\n\n")
	fmt.Fprintf(&b, "| figure | root only | 1,000 users | ratio | target |\n|---|---|---|---|---|\n")
	targets := map[string]float64{figures[0].name: 0.95, figures[1].name: 0.95, figures[2].name: 0.90}
	for _, f := range figures {
		ratioRow(&b, r, f.name, root, users, targets[f.name])
	}
	return publish(b.String(), o.out)
}

// pairFigure is a figure measured on each of two targets.
type pairFigure struct {
	name string
	run  func(t *target) (float64, error)
}

// alternate measures each figure on a and b in turn, rounds times, the
// order swapped every other round, into r.
func alternate(r *report, figures []pairFigure, a, b *target, rounds int) error {
	for round := 0; round < rounds; round++ {
		for _, f := range figures {
			order := []*target{a, b}
			if round%2 == 1 {
				order = []*target{b, a}
			}
			for _, t := range order {
				v, err := f.run(t)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", f.name, t.name, err)
				}
				r.add(f.name, "ops/s", t.name, v)
			}
		}
	}
	return nil
}

// ratioRow writes a report's row of a figure measured on base and other:
// both medians with their ranges, other/base, and whether it meets target.
func ratioRow(b *strings.Builder, r *report, figure string, base, other *target, target float64) {
	x, y := r.med(figure, base.name), r.med(figure, other.name)
	ok := "met"
	if y/x < target {
		ok = "**missed**"
	}
	fmt.Fprintf(b, "| %s | %s [%s] | %s [%s] | **%.2f** | ≥ %.2f %s |\n", figure, num(x), span(r.data[figure][base.name]), num(y), span(r.data[figure][other.name]), y/x, target, ok)
}

// publish prints a report and writes it to out, unless out is "".
func publish(text, out string) error {
	fmt.Fprint(os.Stdout, text)
	if out == "" {
		return nil
	}
	return os.WriteFile(out, []byte(text), 0o644)
}
