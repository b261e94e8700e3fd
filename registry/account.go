package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/berth-registry/berth"
)

// Accounts. berth serves the registry of one account, its own; the other
// accounts an operator adds hold users and roles that reach that registry
// across accounts, under its repository and registry policies, as another
// AWS account's principals reach an ECR registry.

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// EnsureAccount records the registry's own account, and checks that the
// secrets key is the one that sealed the keys in the store: a restore
// without its secrets.key, or replicas with different ones, would
// otherwise fail every request signed with an IAM key.
func (r *Registry) EnsureAccount(ctx context.Context) error {
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		if r.sealer != nil {
			if err := r.checkSealer(ctx, tx, false); err != nil {
				return err
			}
		}
		return tx.PutAccount(ctx, &berth.Account{ID: r.id, CreatedAt: r.nowUTC()})
	})
}

// checkSealer checks the secrets key against the constant the store holds
// sealed with the key that sealed its access keys; with write, it seals
// the constant if there is none yet (an access key is about to be sealed).
func (r *Registry) checkSealer(ctx context.Context, tx berth.MetaTx, write bool) error {
	check, err := tx.GetSetting(ctx, settingSealCheck)
	switch {
	case err != nil:
		return err
	case check == "" && write:
		return tx.PutSetting(ctx, settingSealCheck, base64.StdEncoding.EncodeToString(r.sealer.seal(settingSealCheck, sealCheckText)))
	case check == "":
		return nil // no key sealed yet: any secrets key will do
	}
	sealed, err := base64.StdEncoding.DecodeString(check)
	if err != nil {
		return fmt.Errorf("the secrets key check in the store is damaged: %w", err)
	}
	if text, err := r.sealer.open(settingSealCheck, sealed); err != nil || text != sealCheckText {
		return errWrongSecretsKey
	}
	return nil
}

// settingSealCheck holds a constant sealed with the secrets key.
const (
	settingSealCheck = "secrets_key_check"
	sealCheckText    = "berth secrets key"
)

var errWrongSecretsKey = errors.New("the secrets key (--secrets-key-file, or secrets.key in the data directory) is not the one that sealed the access keys in the metadata store: " +
	"put the original file back (a backup does not hold it), or give every replica the same file")

// CreateAccount adds an account and a root access key for it (berth
// account create). Adding an account that exists adds another root key,
// at most MaxAccessKeys.
func (r *Registry) CreateAccount(ctx context.Context, id string) (*AccessKeyInfo, error) {
	if !accountIDRE.MatchString(id) {
		return nil, berth.Errorf(berth.EInvalidParameter, "An account id is 12 digits, got %q", id)
	}
	if r.sealer == nil {
		return nil, berth.Errorf(berth.EInvalidParameter, "berth keeps no access keys without a secrets key; start it with --secrets-key-file")
	}
	root := "arn:aws:iam::" + id + ":root"
	var info *AccessKeyInfo
	err := r.changeIAM(ctx, "account created", func(tx berth.MetaTx) error {
		if err := tx.PutAccount(ctx, &berth.Account{ID: id, CreatedAt: r.nowUTC()}); err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(ctx, root)
		if err != nil {
			return err
		}
		if len(keys) >= MaxAccessKeys {
			return berth.Errorf(berth.ELimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d (account %s has %d root keys)", MaxAccessKeys, id, len(keys))
		}
		if err := r.checkSealer(ctx, tx, true); err != nil {
			return err
		}
		keyID, secret := newKeyID("AKIA"), newSecret()
		k := &berth.AccessKey{ID: keyID, Principal: root, Secret: r.sealer.seal(keyID, secret), Status: statusActive, Created: r.nowUTC()}
		info = &AccessKeyInfo{AccessKeyID: keyID, SecretAccessKey: secret, Status: statusActive, Created: k.Created}
		return tx.PutAccessKey(ctx, k)
	}, slog.String("account", id))
	return info, err
}

// Accounts lists the accounts berth knows.
func (r *Registry) Accounts(ctx context.Context) ([]berth.Account, error) {
	var out []berth.Account
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		out, err = tx.ListAccounts(ctx)
		return err
	})
	return out, err
}
