package registry

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// SecretsKeySize is the size of the key that seals secret access keys:
// AES-256.
const SecretsKeySize = 32

// sealer seals the secret access keys the metadata store keeps, with a
// key that is not in the store: whoever reads a copy of the database (a
// backup, a replica's dump) learns no secret from it.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SecretsKeySize {
		return nil, fmt.Errorf("the secrets key must be %d bytes, got %d", SecretsKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts secret, bound to the key id it belongs to: a sealed secret
// moved to another key's record does not open.
func (s *sealer) seal(keyID, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(keyID))
}

var errSealed = errors.New("a secret access key does not open with this secrets key: berth was started with another --secrets-key-file than the one that sealed it")

// open decrypts what seal sealed.
func (s *sealer) open(keyID string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errSealed
	}
	b, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(keyID))
	if err != nil {
		return "", errSealed
	}
	return string(b), nil
}
