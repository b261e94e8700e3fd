package registry

import (
	"context"
	"log/slog"
	"regexp"

	"github.com/berth-registry/berth"
)

// Accounts. berth serves the registry of one account, its own; the other
// accounts an operator adds hold users and roles that reach that registry
// across accounts, under its repository and registry policies, as another
// AWS account's principals reach an ECR registry.

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// EnsureAccount records the registry's own account.
func (r *Registry) EnsureAccount(ctx context.Context) error {
	return r.meta.Update(ctx, func(tx berth.MetaTx) error {
		return tx.PutAccount(ctx, &berth.Account{ID: r.id, CreatedAt: r.nowUTC()})
	})
}

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
