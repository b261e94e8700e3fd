package e2e

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
)

func filters(fs ...string) []types.ImageTagMutabilityExclusionFilter {
	var out []types.ImageTagMutabilityExclusionFilter
	for _, f := range fs {
		out = append(out, types.ImageTagMutabilityExclusionFilter{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(f)})
	}
	return out
}

func TestTagMutability(t *testing.T) {
	e := start(t)
	cases := []struct {
		name       string
		mutability types.ImageTagMutability
		filters    []string
		// tag -> whether moving it must be refused
		tags map[string]bool
	}{
		{"mutable", types.ImageTagMutabilityMutable, nil, map[string]bool{"latest": false, "v1": false}},
		{"immutable", types.ImageTagMutabilityImmutable, nil, map[string]bool{"latest": true, "v1": true}},
		{"immutable-excl", types.ImageTagMutabilityImmutableWithExclusion, []string{"latest", "dev-*"}, map[string]bool{"latest": false, "dev-123": false, "v1": true, "latest2": true}},
		{"mutable-excl", types.ImageTagMutabilityMutableWithExclusion, []string{"release-*-final", "v*"}, map[string]bool{"release-1-final": true, "v1": true, "latest": false, "release-1": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.createRepo(c.name, func(in *ecr.CreateRepositoryInput) {
				in.ImageTagMutability = c.mutability
				in.ImageTagMutabilityExclusionFilters = filters(c.filters...)
			})
			a := e.pushImage(c.name, "a", 1).docker()
			b := e.pushImage(c.name, "b", 1).docker()
			for tag, immutable := range c.tags {
				must[*ecr.PutImageOutput](t)(e.putImage(c.name, a, tag))
				_, err := e.putImage(c.name, b, tag)
				if immutable {
					wantError(t, err, "ImageTagAlreadyExistsException", 400)
					// The same manifest again is refused too (containers-roadmap #2179).
					_, err = e.putImage(c.name, a, tag)
					wantError(t, err, "ImageTagAlreadyExistsException", 400)
				} else {
					if err != nil {
						t.Fatalf("moving tag %s: %v", tag, err)
					}
					if got := e.tagsOf(c.name, digestOf([]byte(b))); !contains(got, tag) {
						t.Fatalf("tag %s did not move: %v", tag, got)
					}
				}
			}
			// A new tag is always allowed, even on an immutable repository.
			must[*ecr.PutImageOutput](t)(e.putImage(c.name, b, "brand-new"))
		})
	}

	t.Run("settings round-trip and validation", func(t *testing.T) {
		out := must[*ecr.PutImageTagMutabilityOutput](t)(e.ecr.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
			RepositoryName: aws.String("mutable"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: filters("dev*")}))
		if out.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(out.ImageTagMutabilityExclusionFilters) != 1 {
			t.Fatalf("output %+v", out)
		}
		repo := must[*ecr.DescribeRepositoriesOutput](t)(e.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"mutable"}})).Repositories[0]
		if repo.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || *repo.ImageTagMutabilityExclusionFilters[0].Filter != "dev*" {
			t.Fatalf("repository %+v", repo)
		}
		bad := []struct {
			m types.ImageTagMutability
			f []types.ImageTagMutabilityExclusionFilter
		}{
			{types.ImageTagMutabilityMutable, filters("x")},
			{types.ImageTagMutabilityImmutableWithExclusion, nil},
			{types.ImageTagMutabilityMutableWithExclusion, filters("a", "b", "c", "d", "e", "f")},
			{types.ImageTagMutabilityImmutableWithExclusion, filters("bad/char")},
			{types.ImageTagMutabilityImmutableWithExclusion, []types.ImageTagMutabilityExclusionFilter{{FilterType: "REGEX", Filter: aws.String("x")}}},
			{"SOMETIMES", nil},
		}
		for _, b := range bad {
			_, err := e.ecr.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("mutable"), ImageTagMutability: b.m, ImageTagMutabilityExclusionFilters: b.f})
			wantError(t, err, "InvalidParameterException", 400)
			_, err = e.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("never"), ImageTagMutability: b.m, ImageTagMutabilityExclusionFilters: b.f})
			wantError(t, err, "InvalidParameterException", 400)
		}
		_, err := e.ecr.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("nope"), ImageTagMutability: types.ImageTagMutabilityMutable})
		wantError(t, err, "RepositoryNotFoundException", 400)
	})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestConcurrentPutImage races PutImage of different manifests on one tag:
// on IMMUTABLE exactly one wins; on MUTABLE the tag ends on one of them
// and the others stay, untagged.
func TestConcurrentPutImage(t *testing.T) {
	e := start(t)
	for _, m := range []types.ImageTagMutability{types.ImageTagMutabilityImmutable, types.ImageTagMutabilityMutable} {
		repo := strings.ToLower(string(m))
		e.createRepo(repo, func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = m })
		const n = 8
		var manifests []string
		for i := 0; i < n; i++ {
			manifests = append(manifests, e.pushImage(repo, fmt.Sprint(i), 1).docker())
		}
		for round := 0; round < 5; round++ {
			tag := fmt.Sprintf("race-%d", round)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, refused := 0, 0
			for _, man := range manifests {
				wg.Add(1)
				go func(man string) {
					defer wg.Done()
					_, err := e.putImage(repo, man, tag)
					mu.Lock()
					defer mu.Unlock()
					var api smithy.APIError
					switch {
					case err == nil:
						wins++
					case errors.As(err, &api) && api.ErrorCode() == "ImageTagAlreadyExistsException":
						refused++
					default:
						t.Errorf("unexpected %v", err)
					}
				}(man)
			}
			wg.Wait()
			if m == types.ImageTagMutabilityImmutable && (wins != 1 || refused != n-1) {
				t.Fatalf("immutable: %d wins, %d refused", wins, refused)
			}
			if m == types.ImageTagMutabilityMutable && wins != n {
				t.Fatalf("mutable: %d wins of %d", wins, n)
			}
			out := must[*ecr.ListImagesOutput](t)(e.ecr.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusTagged}}))
			holders := 0
			for _, id := range out.ImageIds {
				if aws.ToString(id.ImageTag) == tag {
					holders++
				}
			}
			if holders != 1 {
				t.Fatalf("%s: tag %s on %d images", m, tag, holders)
			}
		}
	}
}
