package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 failures, as AWS names them.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	IncompleteSignature        = "IncompleteSignatureException"
	InvalidSignature           = "InvalidSignatureException"
	UnrecognizedClient         = "UnrecognizedClientException"
	ExpiredToken               = "ExpiredTokenException"
)

// GlobalRegion is the region global services (IAM) sign for.
const GlobalRegion = "us-east-1"

// SigV4Error is an authentication failure on the ECR API.
type SigV4Error struct {
	Type    string
	Status  int
	Message string
}

func (e *SigV4Error) Error() string { return e.Type + ": " + e.Message }

// MaxSkew is how far a request's signing time may be from the server's.
const MaxSkew = 15 * time.Minute

const amzDate = "20060102T150405Z"

// sigv4Header is the parsed Authorization header of a SigV4 request.
type sigv4Header struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

// MaxAuthorization bounds the Authorization header: the SDKs send about
// 250 bytes; nothing is parsed past the bound.
const MaxAuthorization = 8 << 10

// dateStampRE is a credential scope's date.
var dateStampRE = regexp.MustCompile(`^[0-9]{8}$`)

// parseSigV4 reads an Authorization header strictly, with AWS's texts where
// they are known (the missing '=' and the missing parameters: seen in
// aws/aws-sdk-go #289 and brendanhay/amazonka #316).
func parseSigV4(h string) (*sigv4Header, error) {
	if len(h) > MaxAuthorization {
		return nil, fmt.Errorf("the Authorization header is longer than %d bytes", MaxAuthorization)
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != "AWS4-HMAC-SHA256" {
		return nil, fmt.Errorf("the Authorization header must use AWS4-HMAC-SHA256")
	}
	var out sigv4Header
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", strings.TrimSpace(part), h)
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" || f[0] == "" || f[2] == "" || f[3] == "" {
				return nil, fmt.Errorf("Credential must be <key>/<date>/<region>/<service>/aws4_request")
			}
			if !dateStampRE.MatchString(f[1]) {
				return nil, fmt.Errorf("the credential scope's date %q must be YYYYMMDD", f[1])
			}
			out.accessKeyID, out.date, out.region, out.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			out.signedHeaders = strings.Split(v, ";")
			if err := canonicalNames(out.signedHeaders); err != nil {
				return nil, err
			}
		case "Signature":
			out.signature = v
		}
	}
	var missing []string
	for _, p := range []struct{ name, v string }{{"Signature", out.signature}, {"SignedHeaders", strings.Join(out.signedHeaders, ";")}, {"Credential", out.accessKeyID}} {
		if p.v == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", p.name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(missing, " "))
	}
	return &out, nil
}

// canonicalNames checks SignedHeaders as the signers write it: lower-case
// names, sorted, each once.
func canonicalNames(names []string) error {
	for i, n := range names {
		switch {
		case n == "":
			return fmt.Errorf("SignedHeaders has an empty name")
		case strings.ToLower(n) != n:
			return fmt.Errorf("SignedHeaders must be lower-case; got '%s'", n)
		case i > 0 && names[i-1] >= n:
			return fmt.Errorf("SignedHeaders must be sorted, each name once; '%s' follows '%s'", n, names[i-1])
		}
	}
	return nil
}

// VerifySigV4 checks the SigV4 signature of r, whose body has already been
// read into body, for service. The signature is recomputed with the AWS
// SDK's signer over exactly the headers the client signed.
func (a *Authenticator) VerifySigV4(r *http.Request, body []byte, service string) (Credential, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Credential{}, &SigV4Error{MissingAuthenticationToken, http.StatusForbidden, "Missing Authentication Token"}
	}
	p, err := parseSigV4(h)
	if err != nil {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, err.Error()}
	}
	// AWS refuses a signature that does not cover the host (it could be
	// replayed against another endpoint) or the signing time.
	if !slices.Contains(p.signedHeaders, "host") {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}
	}
	if !slices.Contains(p.signedHeaders, "x-amz-date") && !slices.Contains(p.signedHeaders, "date") {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, "'X-Amz-Date' or 'Date' must be a 'SignedHeader' in the AWS Authorization."}
	}
	// Every signed name is in the request (AWS's text: aws-mobile-appsync-sdk-js
	// #702): no work for names that are not there.
	for _, name := range p.signedHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; !ok && name != "host" && name != "content-length" {
			return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, fmt.Sprintf("'%s' is named as a SignedHeader, but it does not exist in the HTTP request.", name)}
		}
	}
	date := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDate, date)
	if err != nil {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header in the form YYYYMMDD'T'HHMMSS'Z'"}
	}
	c, ok, err := a.lookup(r.Context(), p.accessKeyID)
	if err != nil {
		return Credential{}, err
	}
	invalidToken := &SigV4Error{UnrecognizedClient, http.StatusBadRequest, "The security token included in the request is invalid."}
	if !ok {
		return Credential{}, invalidToken
	}
	now := a.now().UTC()
	if !c.Expires.IsZero() {
		// A temporary key: its session token must come with it, and it
		// must not have expired.
		h := sha256.Sum256([]byte(r.Header.Get("X-Amz-Security-Token")))
		if subtle.ConstantTimeCompare(h[:], c.SessionTokenHash) != 1 {
			return Credential{}, invalidToken
		}
		if !now.Before(c.Expires) {
			return Credential{}, &SigV4Error{ExpiredToken, http.StatusBadRequest, "The security token included in the request is expired"}
		}
	}
	region := a.Region
	if service == "iam" || service == "ecr-public" {
		// IAM is global, and ECR Public's API answers in us-east-1: their
		// requests are signed for it whatever berth's region.
		region = GlobalRegion
	}
	if p.date != date[:8] || p.service != service || p.region != region {
		return Credential{}, &SigV4Error{InvalidSignature, http.StatusBadRequest, fmt.Sprintf("Credential should be scoped to a valid date, region and service: expected %s/%s/%s, got %s/%s/%s", date[:8], region, service, p.date, p.region, p.service)}
	}
	if t.Before(now.Add(-MaxSkew)) {
		return Credential{}, &SigV4Error{InvalidSignature, http.StatusBadRequest, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", date, now.Add(-MaxSkew).Format(amzDate), now.Format(amzDate))}
	}
	if t.After(now.Add(MaxSkew)) {
		return Credential{}, &SigV4Error{InvalidSignature, http.StatusBadRequest, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", date, now.Add(MaxSkew).Format(amzDate), now.Format(amzDate))}
	}
	// Rebuild the request with only the signed headers, then sign it again.
	u := &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	re, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), nil)
	if err != nil {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, "the request URL cannot be signed"}
	}
	re.URL.Host = r.Host
	re.Host = r.Host
	for _, name := range p.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			re.ContentLength = r.ContentLength
		default:
			if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
				re.Header[http.CanonicalHeaderKey(name)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	signer := verifier
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := signer.SignHTTP(context.Background(), creds, re, hex.EncodeToString(sum[:]), service, p.region, t); err != nil {
		return Credential{}, &SigV4Error{IncompleteSignature, http.StatusBadRequest, "the request cannot be signed"}
	}
	want, err := parseSigV4(re.Header.Get("Authorization"))
	if err != nil || subtle.ConstantTimeCompare([]byte(want.signature), []byte(p.signature)) != 1 {
		return Credential{}, &SigV4Error{InvalidSignature, http.StatusBadRequest, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return c, nil
}

var _ error = (*SigV4Error)(nil)

// verifier signs requests again to check their signatures: one for all,
// so that the signing keys it derives (a chain of four HMACs per key, day,
// region and service) are kept between requests.
var verifier = v4.NewSigner()
