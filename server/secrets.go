package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-registry/berth/registry"
)

// secretsKeyPath is where the key that seals IAM secrets is kept.
func secretsKeyPath(c Config) string {
	if c.SecretsKeyFile != "" {
		return c.SecretsKeyFile
	}
	return filepath.Join(c.DataDir, "secrets.key")
}

// LoadSecretsKey reads the key that seals the secret access keys kept in
// the metadata store (64 hex digits), making it on the first start when
// it is the default file in the data directory. A named file must exist:
// replicas share one, and a new one would open none of their keys.
func LoadSecretsKey(c Config) ([]byte, error) {
	path := secretsKeyPath(c)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && c.SecretsKeyFile == "" {
		key := make([]byte, registry.SecretsKeySize)
		rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w (make one with: head -c 32 /dev/urandom | xxd -p -c 64 > %s; chmod 600 %s)", err, path, path)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != registry.SecretsKeySize {
		return nil, fmt.Errorf("secrets key %s: want %d bytes as %d hex digits", path, registry.SecretsKeySize, 2*registry.SecretsKeySize)
	}
	return key, nil
}
