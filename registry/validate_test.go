package registry

import (
	"strings"
	"testing"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/lifecycle"
)

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"latest", "latest", true},
		{"latest", "latest2", false},
		{"dev-*", "dev-", true},
		{"dev-*", "dev-123", true},
		{"dev-*", "xdev-1", false},
		{"*-rc", "1.0-rc", true},
		{"*-rc", "1.0-rc1", false},
		{"v*.*", "v1.2", true},
		{"v*.*", "v12", false},
		{"*", "", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*b", "abb", true},
		{"**", "x", true},
		{"release-*-final", "release-1-final", true},
		{"release-*-final", "release-1-final-2", false},
		{".", "a", false}, // '.' is literal, unlike moto's regex
	}
	for _, c := range cases {
		if got := lifecycle.Glob(c.pattern, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestTagImmutable(t *testing.T) {
	repo := func(m berth.TagMutability, f ...string) *berth.Repository {
		return &berth.Repository{TagMutability: m, TagMutabilityExclusions: f}
	}
	cases := []struct {
		repo *berth.Repository
		tag  string
		want bool
	}{
		{repo(berth.Mutable), "x", false},
		{repo(berth.Immutable), "x", true},
		{repo(berth.ImmutableWithExclusion, "latest"), "latest", false},
		{repo(berth.ImmutableWithExclusion, "latest"), "v1", true},
		{repo(berth.MutableWithExclusion, "v*"), "v1", true},
		{repo(berth.MutableWithExclusion, "v*"), "latest", false},
	}
	for _, c := range cases {
		if got := TagImmutable(c.repo, c.tag); got != c.want {
			t.Errorf("%s %v, tag %s: %v, want %v", c.repo.TagMutability, c.repo.TagMutabilityExclusions, c.tag, got, c.want)
		}
	}
}

func TestValidation(t *testing.T) {
	names := map[string]bool{"ab": true, "a/b": true, "a__b": true, "a--b": true, "a.b": true, "a___b": false, "a.-b": false, "A": false, "a": false, strings.Repeat("a", 257): false}
	for n, ok := range names {
		if err := ValidRepositoryName(n); (err == nil) != ok {
			t.Errorf("name %q: %v", n, err)
		}
	}
	tags := map[string]bool{"v1": true, "_x": true, "1.0-rc_1": true, ".x": false, "-x": false, "a b": false, "": false, strings.Repeat("t", 300): true, strings.Repeat("t", 301): false}
	for tag, ok := range tags {
		if err := ValidTag(tag); (err == nil) != ok {
			t.Errorf("tag %q: %v", tag, err)
		}
	}
	r := &Registry{id: "000000000000"}
	if r.ValidRegistryID("") != nil || r.ValidRegistryID("000000000000") != nil || r.ValidRegistryID("111111111111") == nil || r.ValidRegistryID("1") == nil {
		t.Error("registry id validation")
	}
}

func TestTokens(t *testing.T) {
	tok := encodeToken(tokenImages, "repo", "sha256:abc")
	if got, err := decodeToken(tokenImages, "repo", tok); err != nil || got != "sha256:abc" {
		t.Fatal(got, err)
	}
	for _, c := range [][3]string{{tokenImageRefs, "repo", tok}, {tokenImages, "other", tok}, {tokenImages, "repo", "!!"}, {tokenImages, "repo", "YWJj"}} {
		if _, err := decodeToken(c[0], c[1], c[2]); berth.ErrorCode(err) != berth.EInvalidParameter {
			t.Errorf("%v accepted", c)
		}
	}
	if encodeToken(tokenImages, "repo", "") != "" {
		t.Error("last page has a token")
	}
}
