// Package auth authenticates requests: SigV4 signatures on the ECR API,
// registry passwords (from GetAuthorizationToken) and access keys on the
// registry endpoint, and the signed URLs of layer downloads.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth"
)

// Credential is an access key pair and the principal it authenticates.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// Principal is the ARN of who holds the key.
	Principal string `json:"principal"`
	// Role is, for a role session's key, the ARN of the role assumed.
	Role string `json:"-"`
	// Expires is when a temporary key (AssumeRole's) stops working; zero
	// for a long-term key.
	Expires time.Time `json:"-"`
	// SessionTokenHash is, for a temporary key, the SHA-256 of the session
	// token every request signed with it must carry.
	SessionTokenHash []byte `json:"-"`
}

// Keyring looks up credentials by access key id: ENotFound (a berth
// error) if there is no active key of that id.
type Keyring interface {
	Lookup(ctx context.Context, accessKeyID string) (Credential, error)
}

// StaticKeyring is a fixed set of credentials.
type StaticKeyring map[string]Credential

// Lookup implements Keyring.
func (k StaticKeyring) Lookup(_ context.Context, id string) (Credential, error) {
	c, ok := k[id]
	if !ok {
		return Credential{}, errNoKey
	}
	return c, nil
}

// errNoKey is the answer for a key a keyring does not hold (one error for
// all: looking in a keyring that has not the key is common).
var errNoKey = berth.Errorf(berth.ENotFound, "no such access key")

// Keyrings looks in each keyring in turn.
type Keyrings []Keyring

// Lookup implements Keyring.
func (ks Keyrings) Lookup(ctx context.Context, id string) (Credential, error) {
	for _, k := range ks {
		c, err := k.Lookup(ctx, id)
		if !berth.IsCode(err, berth.ENotFound) {
			return c, err
		}
	}
	return Credential{}, errNoKey
}

// lookup finds a key: ok false if there is none, err for a store that
// does not answer.
func (a *Authenticator) lookup(ctx context.Context, id string) (Credential, bool, error) {
	c, err := a.Keys.Lookup(ctx, id)
	switch {
	case berth.IsCode(err, berth.ENotFound):
		return Credential{}, false, nil
	case err != nil:
		return Credential{}, false, err
	}
	return c, true, nil
}

// Authenticator checks every kind of credential berth accepts.
type Authenticator struct {
	Keys   Keyring
	Region string
	// Throttle, if set, refuses for a while the failures of a client
	// address that fails too often (the doors ask it).
	Throttle *Throttle
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// AnonymousKey signs the anonymous tokens of the public registry
	// endpoint; without one, none is issued or accepted.
	AnonymousKey []byte
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// TokenLifetime is how long a registry password lives, as in ECR.
const TokenLifetime = 12 * time.Hour

// A registry password is "<access key id>.<region>.<expiry unix>.<mac>",
// the mac an HMAC-SHA256 under a key derived from the credential's secret.
// Replicas that share credentials share tokens, a deleted key voids its
// tokens, and a token works only in the region it was issued for, as
// ECR's. (Tokens of berth before regions, "<id>.<expiry>.<mac>", still
// work until they expire.)
func tokenMAC(c Credential, purpose, msg string) string {
	k := hmac.New(sha256.New, []byte("berth/"+purpose+"/"+c.SecretAccessKey))
	k.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(k.Sum(nil))
}

// IssueToken returns a registry password for c and its expiry: in
// TokenLifetime, or when c does if it is temporary and expires sooner.
func (a *Authenticator) IssueToken(c Credential) (string, time.Time) {
	exp := a.now().Add(TokenLifetime).Truncate(time.Second)
	if !c.Expires.IsZero() && c.Expires.Before(exp) {
		exp = c.Expires.Truncate(time.Second)
	}
	msg := c.AccessKeyID + "." + a.Region + "." + strconv.FormatInt(exp.Unix(), 10)
	return msg + "." + tokenMAC(c, "token", msg), exp
}

// VerifyToken checks a registry password: EUnauthenticated if it is not
// one, ETokenExpired if it was one but has expired, EInvalidParameter if
// it is one of another region.
func (a *Authenticator) VerifyToken(ctx context.Context, password string) (Credential, error) {
	bad := berth.Errorf(berth.EUnauthenticated, "The password is not a valid registry token; get one with 'aws ecr get-login-password'")
	parts := strings.Split(password, ".")
	region := ""
	switch len(parts) {
	case 3:
	case 4:
		region = parts[1]
		parts = []string{parts[0], parts[2], parts[3]}
	default:
		return Credential{}, bad
	}
	c, ok, err := a.lookup(ctx, parts[0])
	if err != nil {
		return Credential{}, err
	}
	if !ok {
		return Credential{}, bad
	}
	msg := parts[0] + "." + parts[1]
	if region != "" {
		msg = parts[0] + "." + region + "." + parts[1]
	}
	if subtle.ConstantTimeCompare([]byte(tokenMAC(c, "token", msg)), []byte(parts[2])) != 1 {
		return Credential{}, bad
	}
	if region != "" && region != a.Region {
		return Credential{}, berth.Errorf(berth.EInvalidParameter, "The token was issued for the region %s; this registry is in %s. Get one for it with 'aws ecr get-login-password --region %s'", region, a.Region, a.Region)
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Credential{}, bad
	}
	if !a.now().Before(time.Unix(exp, 0)) {
		return Credential{}, berth.Errorf(berth.ETokenExpired, "Your authorization token has expired. Reauthenticate and try again.")
	}
	return c, nil
}

// VerifyBasic checks the credentials of HTTP Basic auth on the registry
// endpoint: user AWS with a registry password, or an access key id with
// its secret.
func (a *Authenticator) VerifyBasic(ctx context.Context, user, password string) (Credential, error) {
	if user == "AWS" {
		return a.VerifyToken(ctx, password)
	}
	c, ok, err := a.lookup(ctx, user)
	if err != nil {
		return Credential{}, err
	}
	// A temporary key needs its session token, which Basic cannot carry.
	if !ok || !c.Expires.IsZero() || subtle.ConstantTimeCompare([]byte(c.SecretAccessKey), []byte(password)) != 1 {
		return Credential{}, berth.Errorf(berth.EUnauthenticated, "The username and password are not valid; log in with user AWS and the password from 'aws ecr get-login-password'")
	}
	return c, nil
}

// URLLifetime is how long a layer download URL stays valid, as the
// X-Amz-Expires=3600 of ECR's presigned URLs.
const URLLifetime = time.Hour

// SignURL returns the query of a signed download URL for path.
func (a *Authenticator) SignURL(c Credential, path string) string {
	exp := strconv.FormatInt(a.now().Add(URLLifetime).Unix(), 10)
	return "key=" + c.AccessKeyID + "&expires=" + exp + "&signature=" + tokenMAC(c, "url", path+"\n"+exp)
}

// VerifyURL checks a signed download URL's query values.
func (a *Authenticator) VerifyURL(ctx context.Context, path, key, expires, signature string) error {
	c, ok, err := a.lookup(ctx, key)
	if err != nil {
		return err
	}
	if !ok || subtle.ConstantTimeCompare([]byte(tokenMAC(c, "url", path+"\n"+expires)), []byte(signature)) != 1 {
		return berth.Errorf(berth.EAccessDenied, "The download URL is not valid; get a new one with GetDownloadUrlForLayer")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || !a.now().Before(time.Unix(exp, 0)) {
		return berth.Errorf(berth.EAccessDenied, "The download URL has expired; get a new one with GetDownloadUrlForLayer")
	}
	return nil
}

// NewCredential generates a random access key pair for principal.
func NewCredential(random []byte, principal string) (Credential, error) {
	if len(random) < 40 {
		return Credential{}, fmt.Errorf("need 40 random bytes, got %d", len(random))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	id := []byte("BKIA")
	for _, b := range random[:16] {
		id = append(id, alphabet[int(b)%len(alphabet)])
	}
	return Credential{AccessKeyID: string(id), SecretAccessKey: hex.EncodeToString(random[16:40]), Principal: principal}, nil
}

// AnonymousLifetime is how long an anonymous token of the public registry
// endpoint lives.
const AnonymousLifetime = time.Hour

// anonymousPrefix begins anonymous tokens: "anon.<expiry unix>.<mac>".
const anonymousPrefix = "anon."

// IssueAnonymous returns a token for anonymous pulls from the public
// registry endpoint, and its lifetime. The mac is under AnonymousKey:
// replicas that share it (it derives from the secrets key) share tokens.
func (a *Authenticator) IssueAnonymous() (string, time.Duration) {
	exp := a.now().Add(AnonymousLifetime).Unix()
	msg := anonymousPrefix + strconv.FormatInt(exp, 10)
	return msg + "." + a.anonymousMAC(msg), AnonymousLifetime
}

func (a *Authenticator) anonymousMAC(msg string) string {
	k := hmac.New(sha256.New, a.AnonymousKey)
	k.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(k.Sum(nil))
}

// IsAnonymous reports whether token looks like an anonymous token.
func IsAnonymous(token string) bool { return strings.HasPrefix(token, anonymousPrefix) }

// VerifyAnonymous checks an anonymous token: EUnauthenticated if it is not
// one of this server's, ETokenExpired if it was one.
func (a *Authenticator) VerifyAnonymous(token string) error {
	bad := berth.Errorf(berth.EUnauthenticated, "Your Authorization Token is invalid.")
	i := strings.LastIndexByte(token, '.')
	if len(a.AnonymousKey) == 0 || i < 0 || !IsAnonymous(token) {
		return bad
	}
	msg := token[:i]
	if subtle.ConstantTimeCompare([]byte(a.anonymousMAC(msg)), []byte(token[i+1:])) != 1 {
		return bad
	}
	exp, err := strconv.ParseInt(strings.TrimPrefix(msg, anonymousPrefix), 10, 64)
	if err != nil {
		return bad
	}
	if !a.now().Before(time.Unix(exp, 0)) {
		return berth.Errorf(berth.ETokenExpired, "Your Authorization Token has expired.")
	}
	return nil
}
