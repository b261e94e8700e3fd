package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/policy"
)

// Key is an access key opened for authentication.
type Key struct {
	ID        string
	Secret    string
	Principal policy.Principal
	// Temporary keys only: when they expire, and the SHA-256 of the
	// session token every request must carry.
	Expires          time.Time
	sessionTokenHash []byte
}

// Temporary reports whether the key came from AssumeRole.
func (k Key) Temporary() bool { return !k.Expires.IsZero() }

// SessionTokenHash is the SHA-256 of the key's session token (nil for a
// long-term key).
func (k Key) SessionTokenHash() []byte { return k.sessionTokenHash }

// SessionTokenMatches reports whether token is the key's session token.
func (k Key) SessionTokenMatches(token string) bool {
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], k.sessionTokenHash) == 1
}

// AccessKey returns the active key of an id, its secret opened; ENotFound
// if there is none (or it is inactive: IAM answers both alike).
func (r *Registry) AccessKey(ctx context.Context, id string) (Key, error) {
	if r.sealer == nil || !plausibleKeyID(id) {
		return Key{}, berth.Errorf(berth.ENotFound, "access key %s not found", id)
	}
	return cached(r, ctx, func(c *authzCache) map[string]Key { return c.keys }, id, func() (Key, error) {
		var k *berth.AccessKey
		err := r.meta.View(berth.ReadsApart(ctx), func(tx berth.MetaTx) (err error) {
			k, err = tx.GetAccessKey(ctx, id)
			return err
		})
		if err != nil {
			return Key{}, err
		}
		if k.Status != statusActive {
			return Key{}, berth.Errorf(berth.ENotFound, "access key %s is inactive", id)
		}
		return r.openKey(k)
	})
}

// plausibleKeyID reports whether id could be an access key id (IAM's
// AccessKeyIdType: 16 to 128 word characters). Anything else a client
// sends as one (in Basic auth, a registry token, a sign-in form) is no
// key, and never reaches the store, which may refuse such bytes.
func plausibleKeyID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (r *Registry) openKey(k *berth.AccessKey) (Key, error) {
	secret, err := r.sealer.open(k.ID, k.Secret)
	if err != nil {
		return Key{}, err
	}
	p, ok := policy.PrincipalFromARN(k.Principal)
	if !ok || p.Kind == policy.Anonymous {
		return Key{}, berth.Errorf(berth.ENotFound, "access key %s names no principal", k.ID)
	}
	if k.Role != "" {
		p.RoleARN = k.Role
	}
	return Key{ID: k.ID, Secret: secret, Principal: p, Expires: k.Expires, sessionTokenHash: k.SessionToken}, nil
}

// Keyring is the keys the registry keeps (users', other accounts' roots,
// role sessions') as the authenticator looks them up.
func (r *Registry) Keyring() auth.Keyring { return keyring{r} }

type keyring struct{ r *Registry }

func (k keyring) Lookup(ctx context.Context, id string) (auth.Credential, error) {
	key, err := k.r.AccessKey(ctx, id)
	if err != nil {
		return auth.Credential{}, err
	}
	return auth.Credential{AccessKeyID: key.ID, SecretAccessKey: key.Secret, Principal: key.Principal.ARN, Role: key.Principal.RoleARN,
		Expires: key.Expires, SessionTokenHash: key.sessionTokenHash}, nil
}

// Access key statuses, as IAM spells them.
const (
	statusActive   = "Active"
	statusInactive = "Inactive"
)

// keyAlphabet is the alphabet of access key ids (base32, as AWS's).
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newKeyID returns a new random id with AWS's prefix for its kind: AKIA
// for a long-term key, ASIA for a temporary one, AIDA/AROA/ANPA for the
// unique ids of users, roles and policies.
func newKeyID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return prefix + string(b)
}

// newSecret returns a new secret access key: 40 characters, as AWS's.
func newSecret() string {
	b := make([]byte, 30)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
