package registry

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/lifecycle"
)

var (
	repoNamePattern   = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
	repoNameRE        = regexp.MustCompile(`^` + repoNamePattern + `$`)
	tagRE             = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]*$`)
	digestRE          = regexp.MustCompile(`^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$`)
	registryIDRE      = regexp.MustCompile(`^[0-9]{12}$`)
	exclusionFilterRE = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)
	uploadIDRE        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func invalidParam(field, constraint string, args ...any) error {
	e := berth.Errorf(berth.EInvalidParameter, "Invalid parameter at '"+field+"' failed to satisfy constraint: '"+constraint+"'", args...)
	e.Field = field
	return e
}

// ValidRepositoryName checks a repository name against ECR's constraints.
func ValidRepositoryName(name string) error {
	switch {
	case len(name) < 2 || len(name) > 256:
		return invalidParam("repositoryName", "Member must have length between 2 and 256', got %d characters ('%s", len(name), name)
	case !repoNameRE.MatchString(name):
		return invalidParam("repositoryName", "must satisfy regular expression '%s'' (lowercase letters, digits, and '.', '_', '__', '-' between them, with '/' between components); got '%s", repoNamePattern, name)
	}
	return nil
}

// ValidRegistryID accepts "" (this registry) or this registry's id.
func (r *Registry) ValidRegistryID(id string) error {
	switch {
	case id == "" || id == r.id:
		return nil
	case !registryIDRE.MatchString(id):
		return invalidParam("registryId", "must satisfy regular expression '[0-9]{12}'', got '%s", id)
	default:
		return invalidParam("registryId", "this server is registry %s; registry %s is not served here. Omit registryId or use %s", r.id, id, r.id)
	}
}

// ValidTag checks an image tag: 1 to 300 characters of [A-Za-z0-9_.-],
// not starting with '.' or '-' (the OCI grammar, with ECR's length).
func ValidTag(tag string) error {
	switch {
	case len(tag) < 1 || len(tag) > 300:
		return invalidParam("imageTag", "Member must have length between 1 and 300', got %d characters", len(tag))
	case !tagRE.MatchString(tag):
		return invalidParam("imageTag", "must consist of letters, digits, '_', '.' and '-', and start with a letter, digit or '_'', got '%s", tag)
	}
	return nil
}

// ValidDigest checks the shape of a digest.
func ValidDigest(field, d string) error {
	if !digestRE.MatchString(d) {
		return invalidParam(field, "must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'', got '%s", d)
	}
	return nil
}

// validMutability checks a mutability setting and its exclusion filters.
func validMutability(m berth.TagMutability, filters []string) error {
	switch m {
	case berth.Mutable, berth.Immutable:
		if len(filters) > 0 {
			return invalidParam("imageTagMutabilityExclusionFilters", "exclusion filters need imageTagMutability IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, not %s", m)
		}
	case berth.ImmutableWithExclusion, berth.MutableWithExclusion:
		if len(filters) < 1 || len(filters) > 5 {
			return invalidParam("imageTagMutabilityExclusionFilters", "%s needs between 1 and 5 exclusion filters, got %d", m, len(filters))
		}
	default:
		return invalidParam("imageTagMutability", "Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]', got '%s", m)
	}
	for _, f := range filters {
		if !exclusionFilterRE.MatchString(f) {
			return invalidParam("imageTagMutabilityExclusionFilters.filter", "must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$'', got '%s", f)
		}
	}
	return nil
}

// TagImmutable reports whether tag, once it exists, may not move in repo.
func TagImmutable(repo *berth.Repository, tag string) bool {
	matches := func() bool {
		for _, f := range repo.TagMutabilityExclusions {
			if lifecycle.Glob(f, tag) {
				return true
			}
		}
		return false
	}
	switch repo.TagMutability {
	case berth.Immutable:
		return true
	case berth.ImmutableWithExclusion:
		return !matches()
	case berth.MutableWithExclusion:
		return matches()
	}
	return false
}

// validResourceTags checks repository resource tags.
func validResourceTags(tags []berth.ResourceTag) error {
	for _, t := range tags {
		switch {
		case utf8.RuneCountInString(t.Key) < 1 || utf8.RuneCountInString(t.Key) > 128:
			return berth.Errorf(berth.EInvalidTagParameter, "Tag keys must be between 1 and 128 characters long, got '%s'", t.Key)
		case utf8.RuneCountInString(t.Value) > 256:
			return berth.Errorf(berth.EInvalidTagParameter, "Tag values must be at most 256 characters long (key '%s')", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return berth.Errorf(berth.EInvalidTagParameter, "Tag keys must not start with 'aws:', which AWS reserves (key '%s')", t.Key)
		}
	}
	return nil
}

// MaxResourceTags is the number of resource tags a repository may carry.
const MaxResourceTags = 50
