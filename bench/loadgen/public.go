package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// The public endpoint benchmark: anonymous pulls from the public registry
// endpoint against authenticated pulls (a registry token) from the
// private one, of the same image, from one berth, in alternating rounds.

type publicOptions struct {
	berth, out string
	rounds     int
	gets       int
}

const publicBenchAlias = "bench"

func runPublic(o publicOptions) error {
	dir, err := os.MkdirTemp("", "berth-publicbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	initPool(1 << 20)
	pubAddr := freePort()
	priv, err := startBerthAs("private, with a token", o.berth, filepath.Join(dir, "data"), "--public-addr", pubAddr, "--public-alias", publicBenchAlias)
	if err != nil {
		return err
	}
	defer priv.stop()
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(benchKey, benchSecret, "")
	pubAPI := ecrpublic.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds, HTTPClient: httpClient},
		func(o *ecrpublic.Options) { o.BaseEndpoint = aws.String(priv.url) })
	if _, err := pubAPI.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("app")}); err != nil {
		return err
	}
	if _, err := ecrClient(priv).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")}); err != nil {
		return err
	}
	// The private endpoint with a registry token, as docker after a login.
	tok, err := ecrClient(priv).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return err
	}
	raw, _ := base64.StdEncoding.DecodeString(*tok.AuthorizationData[0].AuthorizationToken)
	priv.user, priv.password, _ = strings.Cut(string(raw), ":")
	// The public endpoint, anonymously; pushed to with the ecr-public login.
	ptok, err := pubAPI.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		return err
	}
	pub := &target{name: "public, anonymous", url: "http://" + pubAddr, bearer: *ptok.AuthorizationData.AuthorizationToken}
	img := smallImage{config: newBlob(512), layer: newBlob(4096)}
	for _, t := range []*target{priv, pub} {
		repo := "app"
		if t == pub {
			repo = publicBenchAlias + "/app"
		}
		if img, err = prepareImageIn(t, repo, img); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if _, _, err := manifestPutFigure(t, repo, img, 100, 8); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	anon, err := anonymousToken(pub.url)
	if err != nil {
		return err
	}
	pub.bearer = anon
	repoOf := func(t *target) string {
		if t == pub {
			return publicBenchAlias + "/app"
		}
		return "app"
	}
	r := &report{units: map[string]string{}, data: map[string]map[string][]float64{}}
	figures := []pairFigure{
		{"manifest GET, c=32 (ops/s)", func(t *target) (float64, error) {
			ops, _, err := manifestGetFigure(t, repoOf(t), t.tags, o.gets, 32)
			return ops, err
		}},
		{"blob GET (4 KiB), c=32 (ops/s)", func(t *target) (float64, error) {
			ops, _, err := load(o.gets, 32, func(int) error { _, err := t.pull(repoOf(t), img.layer.digest); return err })
			return ops, err
		}},
	}
	if err := alternate(r, figures, priv, pub, o.rounds); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# berth public endpoint benchmark\n\n")
	fmt.Fprintf(&b, "`bench/run --public` (this file), %s, %s. One berth on the embedded default: pulls of the same\n", time.Now().UTC().Format("2006-01-02"), machine())
	fmt.Fprintf(&b, "small image from the public endpoint anonymously (a Bearer token from `/token/`) and from the private\n")
	fmt.Fprintf(&b, "endpoint with a registry token (HTTP Basic, user AWS), %d alternating rounds, medians (ranges in brackets).\n\n", o.rounds)
	fmt.Fprintf(&b, "| figure | private, with a token | public, anonymous | ratio | target |\n|---|---|---|---|---|\n")
	for _, f := range figures {
		ratioRow(&b, r, f.name, priv, pub, 0.9)
	}
	return publish(b.String(), o.out)
}

// anonymousToken gets a token for anonymous pulls, as docker does.
func anonymousToken(base string) (string, error) {
	resp, err := httpClient.Get(base + "/token/?scope=aws")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /token/: %d %v", resp.StatusCode, err)
	}
	return tok.Token, nil
}
