package oci

import (
	_ "crypto/sha512" // sha384 and sha512 digests parse as go-digest's
	"net/http"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// The distribution spec's grammar for references in paths and queries.
// It is stricter than ECR's (whose tags run to 300 characters), so it is
// checked here, at the registry endpoint, before the core is asked.

// tagRE is the spec's tag: at most 128 characters.
var tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// isDigestRef reports whether a manifest reference is meant as a digest:
// a tag cannot contain ':'.
func isDigestRef(ref string) bool { return strings.Contains(ref, ":") }

// checkTag refuses a tag a PUT may not create. The spec's table has no
// code for it; TAG_INVALID, among its legacy codes, is the one this door
// already answers a tag the core refuses with.
func checkTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return errorf(http.StatusBadRequest, "TAG_INVALID", "'"+tag+"' is not a tag: a tag is 1 to 128 letters, digits, '_', '.' and '-', and starts with a letter, digit or '_'")
	}
	return nil
}

// checkDigest refuses a digest that could name nothing berth stores: the
// spec's grammar, and for the algorithms berth hashes with (sha256,
// sha384, sha512) their exact lowercase hex encoding, as go-digest parses
// the digests in manifests.
func checkDigest(d string) error {
	if _, err := digest.Parse(d); err != nil {
		return errorf(http.StatusBadRequest, "DIGEST_INVALID", "'"+d+"' is not a digest: "+err.Error()+"; a digest is <algorithm>:<encoded>, such as sha256:<64 lowercase hex digits>")
	}
	return nil
}
